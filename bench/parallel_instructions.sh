#!/usr/bin/env bash
# parallel_instructions.sh: the instructions `etho run` executes with 1 thread and with N (and --ordered) on
# one scaled example stream: the parallel runtime's extra work per line, a figure machine load cannot move.
# Usage: bench/parallel_instructions.sh [EXAMPLE=ecommerce] [COPIES=50] [THREADS=2] [ETHO=build/bin/etho]
# Why: wall-clock ratios on a shared or virtual machine move by 30% from run to run (docs/performance.md),
# which hides a change of a few percent in what the parallel path costs. callgrind (valgrind) counts the
# instructions of every thread of the whole process, serialising the threads, so the count depends on the
# code and the stream, not on the load; within a few tenths of a percent between runs (the threads'
# interleaving moves how often a shard finds a block still being parsed, or the reader a full queue).
# What it does not see: cache misses, waiting, and the host's memory system (bench/host_scaling), which is
# why parallel_throughput.sh stays the measure of the target; this one says where the work goes.
# Runs etho once untimed first, so that every counted run starts with the JIT's object cache warm (a cold
# start counts LLVM's compilation: about 150M instructions for the example). Checks that every run wrote
# the same detections and dead letters (as multisets). Needs valgrind (`apt-get install valgrind`: not among
# what scripts/install-deps.sh installs for the build and the tests). Takes about 30 s at 20 copies, 90 s at 50.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
example="${1:-ecommerce}"
copies="${2:-50}"
threads="${3:-2}"
etho="${4:-$root/build/bin/etho}"
command -v valgrind >/dev/null || { echo "parallel_instructions: valgrind not found" >&2; exit 1; }
# shellcheck source=bench/scaled_example.sh
source "$root/bench/scaled_example.sh"
scale_example "$root" "$example" "$copies" # sets dir, work (removed on exit), lines; writes $work/events.jsonl
echo "bench: $example x$copies: $lines lines; instructions of the whole process (callgrind)"

launch=() # the command etho_run runs etho under (none, or valgrind)
etho_run() { # out-name, extra flags...
    local name="$1"
    shift
    "${launch[@]}" "$etho" run "$dir/rules" --events "$work/events.jsonl" --config "$dir/config.yaml" \
        --out "$work/$name.jsonl" --dead-letter "$work/$name.dead.jsonl" --log-level error "$@"
}
etho_run warm --threads 1 2>"$work/warm.err" || { cat "$work/warm.err" >&2; exit 1; } # fills the JIT's cache
sort "$work/warm.jsonl" >"$work/reference.sorted"
sort "$work/warm.dead.jsonl" >"$work/reference.dead.sorted"

count() { # name, extra flags...
    local name="$1"
    shift
    launch=(valgrind --tool=callgrind --callgrind-out-file="$work/$name.cg")
    etho_run "$name" "$@" 2>"$work/$name.vg"
    cmp -s "$work/reference.sorted" <(sort "$work/$name.jsonl") ||
        { echo "bench: $name ($*) detections differ from the uncounted --threads 1 run"; exit 1; }
    cmp -s "$work/reference.dead.sorted" <(sort "$work/$name.dead.jsonl") ||
        { echo "bench: $name ($*) dead letters differ from the uncounted --threads 1 run"; exit 1; }
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/$name.vg" | tail -n 1 >"$work/$name.count"
}
count single --threads 1
count parallel --threads "$threads"
count ordered --threads "$threads" --ordered
python3 - "$lines" "$threads" "$(cat "$work/single.count")" "$(cat "$work/parallel.count")" \
    "$(cat "$work/ordered.count")" <<'PY'
import sys
n, t = int(sys.argv[1]), sys.argv[2]
s, p, o = (int(x) for x in sys.argv[3:6])
print("bench: --threads 1:           %15s instructions, %6.0f a line" % (f"{s:,}", s / n))
for name, v in (("--threads %s:" % t, p), ("--threads %s --ordered:" % t, o)):
    print("bench: %-22s %15s instructions, %6.0f a line: %+.1f%% (%+.0f a line) against 1 thread"
          % (name, f"{v:,}", v / n, 100.0 * (v - s) / s, (v - s) / n))
PY
# Where the difference goes: the functions whose own (exclusive) instructions differ most, per line.
python3 - "$lines" "$work/single.cg" "$work/parallel.cg" <<'PY'
import re, subprocess, sys
n = int(sys.argv[1])
def by_function(path):
    out = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", path],
                         capture_output=True, text=True).stdout
    f = {}
    for line in out.splitlines():
        m = re.match(r"\s*([0-9,]+) \([^)]*\)\s+(.*) \[[^]]*\]$", line)
        if not m:
            continue
        # "file:function(args)": the file ends at the first single colon ("???" without debug info).
        rest = m.group(2)
        c = re.search(r"(?<!:):(?!:)", rest)
        name = rest[c.end():] if c else rest
        name = re.sub(r"\(.*", "", name.replace("(anonymous namespace)", "{anon}"))[:100]
        f[name] = f.get(name, 0) + int(m.group(1).replace(",", ""))
    return f
a, b = by_function(sys.argv[2]), by_function(sys.argv[3])
diff = sorted(((b.get(k, 0) - a.get(k, 0), k) for k in set(a) | set(b)), key=lambda x: -abs(x[0]))
print("bench: largest differences, --threads N minus --threads 1, instructions a line:")
for d, k in diff[:14]:
    print("bench:   %+6.0f  %s" % (d / n, k))
PY
