#!/usr/bin/env bash
# long_sessions.sh: the e-commerce rules over keys that are never idle for a session's gap, at two stream
# sizes: how the cost per event grows with a session's length, and the process's memory per event.
# Usage: bench/long_sessions.sh [EVENTS=250000] [KEYS=1000] [ETHO=build/bin/etho]
# Why: a session closes after `gap` (30m in examples/ecommerce) without an event of its key; a key with an
# event every few seconds keeps one session open for the whole stream. An `over session` rule evaluated on
# every event (`high_intent_browsing`: `transitions(...)` and `max(... where ...)` over the session's events)
# walked the whole session each time (before a7c47a9, which folds `transitions`; other aggregates over a
# session still do): the work per event grew with the session, and the run's time with the square of the
# stream's length per key. The session keeps its events (capped by
# `state.max_scope_events`, 100,000 there), so memory grows with the stream too; and every event carries a
# distinct `event_id`, which the string pool keeps (it never forgets a string). Runs EVENTS and 4 x EVENTS
# page views (page "home", so no rule fires), KEYS keys in turn, 5 ms apart, and prints for each the wall
# time, events/s and peak RSS, then the ratio of the two runs' time per event: about 1 when the work per
# event does not depend on the session's length, about 4 when it grows linearly with it (see
# docs/performance.md "Long sessions").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
events="${1:-250000}"
keys="${2:-1000}"
etho="${3:-$root/build/bin/etho}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ex="$root/examples/ecommerce"

declare -A per_event
for n in "$events" $((4 * events)); do
    python3 - "$n" "$keys" >"$work/events.jsonl" <<'PY'
import random, sys
n, keys = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(20261202)
t = 1772438400000
out = sys.stdout
for i in range(n):
    t += 5
    out.write('{"type":"page_view","ts":%d,"user_id":"u%06d","page":"home","logged_in":false,'
              '"event_id":"ev-%012d-%08x","url":"/"}\n' % (t, i % keys, i, rng.getrandbits(32)))
PY
    rm -f "$work/out.jsonl" "$work/dead.jsonl"
    /usr/bin/time -f "%e %M" -o "$work/time" "$etho" run "$ex/rules" --events "$work/events.jsonl" \
        --config "$ex/config.yaml" --threads 1 --out "$work/out.jsonl" --dead-letter "$work/dead.jsonl" \
        --log-level error 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
    read -r wall rss <"$work/time"
    per_event[$n]=$(python3 -c "print($wall / $n)")
    python3 -c "import sys; n, k, w, r = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]); \
print('bench: %d events over %d keys (%d each): %.2f s, %.0f events/s, peak RSS %.0f MiB (%.0f B an event)' \
% (n, k, n // k, w, n / w, r / 1024, r * 1024 / n))" "$n" "$keys" "$wall" "$rss"
done
python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); \
print('bench: time per event, 4x the stream over 1x: %.2f (1: independent of the session length; 4: linear in it)' \
% (b / a))" "${per_event[$events]}" "${per_event[$((4 * events))]}"
