#!/usr/bin/env bash
# parallel_throughput.sh: `etho run --threads 1` vs `--threads N` on one scaled example stream, same run.
# Usage: bench/parallel_throughput.sh [EXAMPLE=ecommerce] [COPIES=400] [THREADS=2] [REPEAT=5] [ETHO=build/bin/etho]
# Scales examples/EXAMPLE/events.jsonl with replicate.py, then runs, REPEAT times and interleaved (so that
# load from other processes hits both alike): the single-threaded pipeline, the parallel one with THREADS
# shards, and the parallel one with --ordered. Reports the best wall time of each, the events/s, and the
# ratio parallel/single, and the CPU seconds (user + sys) of each, whose ratio bounds the speedup possible
# on an idle machine; checks that every run wrote the same detections (as multisets). Also prints the
# machine's load average: on a shared machine the wall-time ratio is only meaningful when the load is low,
# and the allocator etho runs with (`--stats`: tbbmalloc when etho links oneTBB's malloc proxy).
# Load-independent figure: the parallel runs report each shard thread's CPU seconds (`--stats`); on an idle
# machine with a core per shard their wall time is about (process CPU - shards' CPU) + the largest shard's
# CPU (shards do not wait for each other beyond the queues' slack), which the "projected" ratio uses.
# Distribution: each repetition runs --threads 1, --threads THREADS and --ordered back to back (in a rotating
# order: repetition i starts with the i-th of the three), so each repetition is a pair (and a triple)
# measured under about the same load; the script also reports every pair's wall ratio (1 thread / THREADS
# threads) with their median, min and max, since the best-of figures above combine runs from different
# moments. Every run's detections (and dead letters) are checked against the
# first --threads 1 run's, as multisets.
# Steady state (besides, never instead of, the whole-process figures above): `etho run --stats` reports the
# Unix times of its first read of the input and of its last event processed; the script splits each run's
# wall time into start-up (process start to the first read: loading, compiling the rules, opening the
# outputs, starting the shards), steady state (first read to last event) and end (last event to the process's
# exit: closing the outputs, teardown), and reports the steady-state events/s and ratios the same way (best
# of, per-pair median). An etho without those figures (older builds) gets no steady-state lines.
# Size: the default, 400 copies (2,048,800 events, about 1 s with 2 threads), because a process pays
# 30-100 ms once whatever the stream (loading the rules, starting the shards, the end-of-input timers, the
# kernel unmapping the key state at exit); on 512,200 events (100 copies) that is a tenth of a 2-thread
# run. docs/performance.md has the ratios by stream size.
# Outputs: every run writes new files (the previous run's are removed first). Truncating a large file and
# writing it again makes ext4 (auto_da_alloc, the default) start writing it back when it is closed: 49 ms
# of the closing thread for the x400 stream's 160 MB of detections, measured with strace; a cost of
# replacing a file, not of the engine, that a run writing a new file does not pay.
# Host ceiling: when host_scaling is built next to etho (bench/host_scaling.cpp), the script first measures
# what this machine gains from THREADS threads on work with no coordination at all: a compute-bound kernel
# (one dependent chain), a port-bound one (eight independent chains that keep a core's integer ALUs busy:
# the one that tells SMT siblings from cores, and that a core's clock under load slows) and a
# memory-latency-bound one (dependent random loads over 256 MiB per thread, on huge pages like the engine's
# key state). A virtual machine's vCPUs may share a core, caches or a memory system that slows
# every miss when both run: the engine's ratio is bounded by what the host gives, and reported against it.
# Verdict: the last line compares the whole-process best-of ratio and the per-pair median (both, and
# with --ordered) with 0.9 x THREADS (issue 4: at least 1.8x on 2 cores).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
example="${1:-ecommerce}"
copies="${2:-400}"
threads="${3:-2}"
repeat="${4:-5}"
etho="${5:-$root/build/bin/etho}"
# shellcheck source=bench/scaled_example.sh
source "$root/bench/scaled_example.sh"
scale_example "$root" "$example" "$copies" # sets dir, work (removed on exit), lines; writes $work/events.jsonl
echo "bench: $example x$copies: $lines events, $(($(stat -c %s "$work/events.jsonl") / 1024 / 1024)) MiB;" \
    "$(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

host_memory=""
host_ports=""
if [[ -x "$(dirname "$etho")/host_scaling" ]]; then
    "$(dirname "$etho")/host_scaling" "$threads" 3 256 | grep -v checksum | sed 's/^host:/bench: host:/' | tee "$work/host"
    host_memory=$(sed -n 's/.*memory (.*per-pair median \([0-9.]*\)x.*/\1/p' "$work/host")
    host_ports=$(sed -n 's/.*ports (.*per-pair median \([0-9.]*\)x.*/\1/p' "$work/host")
else
    echo "bench: host: no host_scaling next to $etho (the host's own ceiling is not measured)"
fi

run() { # name, extra flags...
    local name="$1"
    shift
    local t0 t1
    rm -f "$work/$name.jsonl" "$work/$name.dead.jsonl"
    t0=$(date +%s.%N)
    /usr/bin/time -f "%U %S" -o "$work/cpu" "$etho" run "$dir/rules" --events "$work/events.jsonl" \
        --config "$dir/config.yaml" --out "$work/$name.jsonl" --dead-letter "$work/$name.dead.jsonl" \
        --log-level error --stats "$@" 2>"$work/stderr"
    t1=$(date +%s.%N)
    python3 -c "print($t1 - $t0)" >>"$work/$name.times"
    # Start-up, steady state and end of this run (empty when etho does not report the steady state).
    python3 - "$t0" "$t1" "$work/stderr" >>"$work/$name.phases" <<'PY'
import re, sys
t0, t1 = float(sys.argv[1]), float(sys.argv[2])
m = re.search(r"unix times ([0-9.]+) to ([0-9.]+)", open(sys.argv[3]).read())
if m:
    first, last = float(m.group(1)), float(m.group(2))
    print(first - t0, last - first, t1 - last)
PY
    # Every run, not only the last: the same detections and dead letters as the first 1-thread run.
    if [[ ! -e "$work/reference.sorted" ]]; then
        sort "$work/$name.jsonl" >"$work/reference.sorted"
        sort "$work/$name.dead.jsonl" >"$work/reference.dead.sorted"
    fi
    cmp -s "$work/reference.sorted" <(sort "$work/$name.jsonl") ||
        { echo "bench: $name ($*) detections differ from --threads 1"; exit 1; }
    cmp -s "$work/reference.dead.sorted" <(sort "$work/$name.dead.jsonl") ||
        { echo "bench: $name ($*) dead letters differ from --threads 1"; exit 1; }
    awk '{print $1 + $2}' "$work/cpu" >>"$work/$name.cpu"
    # The allocator line comes from the parallel runs' statistics (the last run may be a 1-thread one).
    if grep -q '; allocator ' "$work/stderr"; then cp "$work/stderr" "$work/stderr.parallel"; fi
    # Projected idle wall time: serial CPU (process minus shards) plus the busiest shard's CPU.
    python3 - "$(awk '{print $1 + $2}' "$work/cpu")" "$work/stderr" >>"$work/$name.proj" <<'PY'
import re, sys
total = float(sys.argv[1])
m = re.search(r"cpu seconds per shard ([0-9./]+)", open(sys.argv[2]).read())
shards = [float(x) for x in m.group(1).split("/")] if m else [total]
print(total - sum(shards) + max(shards))
PY
}
# The three modes in a rotating order (repetition i starts with mode i mod 3), so that no mode always runs
# right after the same one: a mode that always ran third was slower in every run of 2026-12-02 (fresh huge
# pages are zeroed at first touch, and the previous process's exit still frees its own), by about 5% for
# --ordered, which ran first was as fast as the unordered mode.
modes=(single parallel ordered)
for ((i = 0; i < repeat; i++)); do
    for ((j = 0; j < 3; j++)); do
        case "${modes[$(((i + j) % 3))]}" in
        single) run single --threads 1 ;;
        parallel) run parallel --threads "$threads" ;;
        ordered) run ordered --threads "$threads" --ordered ;;
        esac
    done
done
best() { sort -g "$work/$1.times" | head -n 1; }
cpu() { sort -g "$work/$1.cpu" | head -n 1; }
proj() { sort -g "$work/$1.proj" | head -n 1; }
python3 - "$lines" "$(best single)" "$(best parallel)" "$(best ordered)" "$threads" \
    "$(cpu single)" "$(cpu parallel)" "$(cpu ordered)" "$(proj parallel)" "$(proj ordered)" <<'PY'
import sys
n, s, p, o, t = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
cs, cp, co = float(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8])
pp, po = float(sys.argv[9]), float(sys.argv[10])
print("bench: --threads 1:          %.3f s, %9.0f events/s; cpu %.2f s" % (s, n / s, cs))
print("bench: --threads %s:          %.3f s, %9.0f events/s, ratio %.2fx; cpu %.2f s (%.2fx of 1 thread)"
      % (t, p, n / p, s / p, cp, cp / cs))
print("bench: --threads %s --ordered: %.3f s, %9.0f events/s, ratio %.2fx; cpu %.2f s (%.2fx)"
      % (t, o, n / o, s / o, co, co / cs))
print("bench: the most a %s-core run could gain with this CPU overhead, on an idle machine: %.2fx"
      % (t, min(float(t), float(t) * cs / cp)))
print("bench: projected idle wall ratio from per-shard CPU (1-thread CPU / (serial CPU + busiest shard)): "
      "%.2fx, --ordered %.2fx" % (cs / pp, cs / po))
PY
# Per-pair ratios: repetition i's --threads 1 wall time over its --threads THREADS (and --ordered) wall time.
python3 - "$threads" "$work/single.times" "$work/parallel.times" "$work/ordered.times" <<'PY'
import statistics, sys
t = sys.argv[1]
single, par, ordr = ([float(x) for x in open(f).read().split()] for f in sys.argv[2:5])
for name, runs in (("--threads %s" % t, par), ("--threads %s --ordered" % t, ordr)):
    r = [s / p for s, p in zip(single, runs)]
    print("bench: per-pair wall ratios, %s (%d pairs): median %.2fx, min %.2fx, max %.2fx: %s"
          % (name, len(r), statistics.median(r), min(r), max(r), " ".join("%.2f" % x for x in r)))
PY
echo "bench: detections $(wc -l <"$work/single.jsonl") (same multiset in every run, and the same dead letters); load average after" \
    "$(cut -d' ' -f1-3 /proc/loadavg); allocator $(sed -n 's/.*; allocator \(.*\)$/\1/p' "$work/stderr.parallel" 2>/dev/null | head -n 1)"
# Steady state: from each run's first read to its last event processed (etho --stats), with the start-up and
# end around it; best of, and the per-pair ratios as above.
python3 - "$lines" "$threads" "$work/single.phases" "$work/parallel.phases" "$work/ordered.phases" <<'PY'
import statistics, sys
n, t = int(sys.argv[1]), sys.argv[2]
runs = [[[float(x) for x in l.split()] for l in open(f).read().splitlines() if l.strip()] for f in sys.argv[3:6]]
if any(len(r) == 0 for r in runs):
    print("bench: steady state: not reported by this etho")
    sys.exit(0)
single, par, ordr = runs
best = [min(p[1] for p in r) for r in runs]
for name, r, b in (("--threads 1", single, best[0]), ("--threads %s" % t, par, best[1]),
                   ("--threads %s --ordered" % t, ordr, best[2])):
    print("bench: steady state %-22s best %.3f s, %9.0f events/s, ratio %.2fx; median start-up %.1f ms, "
          "steady %.1f ms, end %.1f ms" % (name + ":", b, n / b, best[0] / b,
          1e3 * statistics.median(p[0] for p in r), 1e3 * statistics.median(p[1] for p in r),
          1e3 * statistics.median(p[2] for p in r)))
for name, r in (("--threads %s" % t, par), ("--threads %s --ordered" % t, ordr)):
    q = [s[1] / p[1] for s, p in zip(single, r)]
    print("bench: steady-state per-pair ratios, %s (%d pairs): median %.2fx, min %.2fx, max %.2fx: %s"
          % (name, len(q), statistics.median(q), min(q), max(q), " ".join("%.2f" % x for x in q)))
PY
# Verdict against the target: the whole-process figures (not the steady state), best-of and per-pair median.
python3 - "$threads" "$(best single)" "$(best parallel)" "$(best ordered)" "$work/single.times" \
    "$work/parallel.times" "$work/ordered.times" <<'PY'
import statistics, sys
t = int(sys.argv[1])
s, p, o = (float(x) for x in sys.argv[2:5])
single, par, ordr = ([float(x) for x in open(f).read().split()] for f in sys.argv[5:8])
target = 0.9 * t
figures = {"best-of": s / p, "best-of --ordered": s / o,
           "per-pair median": statistics.median(a / b for a, b in zip(single, par)),
           "per-pair median --ordered": statistics.median(a / b for a, b in zip(single, ordr))}
met = all(v >= target for v in figures.values())
print("bench: target %.1fx with %d threads (whole process): %s: %s" % (
    target, t, ", ".join("%s %.2fx" % kv for kv in figures.items()), "met" if met else "NOT met"))
PY
if [[ -n "$host_memory" ]]; then
    python3 - "$host_memory" "${host_ports:-0}" "$work/single.times" "$work/parallel.times" <<'PY'
import statistics, sys
host, ports = float(sys.argv[1]), float(sys.argv[2])
single, par = ([float(x) for x in open(f).read().split()] for f in sys.argv[3:5])
engine = statistics.median(a / b for a, b in zip(single, par))
print("bench: against the host: engine per-pair median %.2fx, host memory-latency-bound per-pair median %.2fx "
      "(engine / host %.2f)%s" % (engine, host, engine / host,
      ", port-bound %.2fx (engine / host %.2f)" % (ports, engine / ports) if ports > 0 else ""))
PY
fi
