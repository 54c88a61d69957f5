#!/usr/bin/env bash
# startup.sh: what an `etho` process costs before it does any work: CPU time and page faults (perf stat, N
# runs each) and, with --instructions, instructions of the whole process including the dynamic loader
# (valgrind callgrind: load-independent), of four commands on examples/ecommerce with an empty event stream.
# Usage: bench/startup.sh [--instructions] [REPEAT=20] ETHO [ETHO...]
# Several binaries (e.g. this build's and a merge base's) are measured alternately, command by command, so
# that load from other processes hits them alike; the load average is printed with each figure. The `run`
# commands use the default JIT object cache (a warm cache after the first run: no compile) and `--engine
# interp`. `etho --version` is not an option of etho: it measures the start-up and the usage error path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
instructions=0
if [[ "${1:-}" == "--instructions" ]]; then
    instructions=1
    shift
fi
repeat=20
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    repeat="$1"
    shift
fi
[[ $# -ge 1 ]] || { echo "usage: bench/startup.sh [--instructions] [REPEAT] ETHO [ETHO...]" >&2; exit 2; }
command -v perf >/dev/null || { echo "startup.sh: needs perf (linux-perf)" >&2; exit 2; }
dir="$root/examples/ecommerce"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
: >"$work/empty.jsonl"
run_args=(run "$dir/rules" --events "$work/empty.jsonl" --config "$dir/config.yaml" --out "$work/out.jsonl"
    --dead-letter "$work/dead.jsonl" --log-level error)
names=("--version" "check" "run (jit, warm cache)" "run --engine interp")
args_of() { # index -> the command's arguments, one per line
    case "$1" in
    0) printf '%s\n' --version ;;
    1) printf '%s\n' check "$dir/rules" ;;
    2) printf '%s\n' "${run_args[@]}" ;;
    3) printf '%s\n' "${run_args[@]}" --engine interp ;;
    esac
}
# Warm the JIT cache (and the page cache) once per binary.
for etho in "$@"; do "$etho" "${run_args[@]}" >/dev/null 2>&1 || true; done
printf '%-24s %-40s %10s %12s %14s  %s\n' command binary "CPU ms" "page faults" instructions "load average"
for i in 0 1 2 3; do
    mapfile -t args < <(args_of "$i")
    for etho in "$@"; do
        # (`etho --version` exits 2: the pipeline's status is not the measurement's.)
        stats=$( (perf stat -r "$repeat" -x, -e task-clock,page-faults "$etho" "${args[@]}" 2>&1 >/dev/null || true) |
            awk -F, '$3 == "task-clock" || $3 ~ /^task-clock/ {c = $1} $3 ~ /page-faults/ {p = $1}
                     END {printf "%.2f %d", c, p}')
        ir="-"
        if [[ $instructions == 1 ]]; then
            valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$etho" "${args[@]}" \
                >/dev/null 2>"$work/cg.err" || true
            ir=$(sed -n 's/^summary: *//p; s/^totals: *//p' "$work/cg.out" | head -n 1)
        fi
        read -r cpu faults <<<"$stats"
        printf '%-24s %-40s %10s %12s %14s  %s\n' "${names[$i]}" "$etho" "$cpu" "$faults" "$ir" \
            "$(cut -d' ' -f1-3 /proc/loadavg)"
    done
done
