#!/usr/bin/env bash
# interp_throughput.sh: end-to-end throughput of `etho run` (interpreter) on a scaled example stream.
# Usage: bench/interp_throughput.sh [EXAMPLE=ecommerce] [COPIES=100] [ETHO=build/bin/etho]
# Scales examples/EXAMPLE/events.jsonl with replicate.py (COPIES independent copies of every user), then
# reports, from the same file in the same run: a `wc -l` read of the file (the I/O floor), and etho's own
# summary (events/s over the whole run: read, decode, reorder, interpret, write). CPU seconds are given too
# because wall time on a shared machine is noisy.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
example="${1:-ecommerce}"
copies="${2:-100}"
etho="${3:-$root/build/bin/etho}"
# shellcheck source=bench/scaled_example.sh
source "$root/bench/scaled_example.sh"
scale_example "$root" "$example" "$copies" # sets dir, work (removed on exit), lines; writes $work/events.jsonl
bytes=$(stat -c %s "$work/events.jsonl")
echo "bench: $example x$copies: $lines events, $((bytes / 1024 / 1024)) MiB"

t0=$(date +%s.%N)
wc -l "$work/events.jsonl" >/dev/null
t1=$(date +%s.%N)
echo "bench: read floor (wc -l): $(python3 -c "print(int($lines / ($t1 - $t0)))") lines/s"

timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -f "bench: etho cpu user %U s, sys %S s, max rss %M KiB")
"${timer[@]}" "$etho" run "$dir/rules" --events "$work/events.jsonl" --config "$dir/config.yaml" \
    --out "$work/detections.jsonl" --dead-letter "$work/dead.jsonl" --summary-json "$work/summary.json"
echo "bench: detections $(wc -l <"$work/detections.jsonl")"
cat "$work/summary.json"
echo
