#!/usr/bin/env bash
# long_sessions.sh: the e-commerce rules over keys that are never idle for a session's gap, at two stream
# sizes: how the cost per event grows with a session's length, and the process's memory per event.
# Usage: bench/long_sessions.sh [EVENTS=250000] [KEYS=1000] [ETHO=build/bin/etho]
# Why: a session closes after `gap` (30m in examples/ecommerce) without an event of its key; a key with an
# event every few seconds keeps one session open for the whole stream. An `over session` rule evaluated on
# every event walked the whole session each time: the work per event grew with the session, and the run's
# time with the square of the stream's length per key. Since a7c47a9 (`transitions`) and the change that
# folds every other kind but gap_std and burstiness (interp/aggregate_fold.cpp), an aggregate over a
# session of at least 32 events continues from its last evaluation. Two rule sets: examples/ecommerce
# (`high_intent_browsing`: `transitions(...)` and `max(page_view.dwell where page == product)`, the dwell
# known one event late, on every page view after 3 minutes) and the 50 reference rules of bench/rules
# (`distinct(page_view.sku)` over the session on every page view after 3 to 30 minutes). The session keeps
# its events (capped by `state.max_scope_events`, 100,000 in the example's config, used for both), so
# memory grows with the stream too; and in the example every event carries a distinct `event_id`, which
# the string pool keeps (it never forgets a string). Runs EVENTS and 4 x EVENTS page views (home,
# category, product with one of 7 SKUs, product, search, in turn per key, so no rule fires), KEYS keys in
# turn, 5 ms apart, and prints for each the wall time, events/s and peak RSS, then the ratio of the two
# runs' time per event: about 1 when the work per event does not depend on the session's length, about 4
# when it grows linearly with it (see docs/performance.md "Long sessions").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
events="${1:-250000}"
keys="${2:-1000}"
etho="${3:-$root/build/bin/etho}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ex="$root/examples/ecommerce"

for set in example reference; do
    if [ "$set" = example ]; then rules="$ex/rules"; else rules="$root/bench/rules/reference.etho"; fi
    declare -A per_event=()
    for n in "$events" $((4 * events)); do
        python3 - "$n" "$keys" "$set" >"$work/events.jsonl" <<'PY'
import random, sys
n, keys, rule_set = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(20261202)
t = 1772438400000
out = sys.stdout
pages = ["home", "category", "product", "product", "search"]
for i in range(n):
    t += 5
    j = i // keys
    page = pages[j % len(pages)]
    sku = ',"sku":"sku-%d","price":%d.5' % (j % 7, 10 + j % 7) if page == "product" else ""
    eid = ',"event_id":"ev-%012d-%08x"' % (i, rng.getrandbits(32)) if rule_set == "example" else ""
    out.write('{"type":"page_view","ts":%d,"user_id":"u%06d","page":"%s","logged_in":false%s%s,"url":"/"}\n'
              % (t, i % keys, page, sku, eid))
PY
        rm -f "$work/out.jsonl" "$work/dead.jsonl"
        /usr/bin/time -f "%e %M" -o "$work/time" "$etho" run "$rules" --events "$work/events.jsonl" \
            --config "$ex/config.yaml" --threads 1 --out "$work/out.jsonl" --dead-letter "$work/dead.jsonl" \
            --log-level error 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
        read -r wall rss <"$work/time"
        per_event[$n]=$(python3 -c "print($wall / $n)")
        python3 -c "import sys; s, n, k, w, r = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), \
int(sys.argv[5]); print('bench: %s rules, %d events over %d keys (%d each): %.2f s, %.0f events/s, peak RSS %.0f MiB \
(%.0f B an event)' % (s, n, k, n // k, w, n / w, r / 1024, r * 1024 / n))" "$set" "$n" "$keys" "$wall" "$rss"
        [ -s "$work/dead.jsonl" ] && { echo "bench: dead letters:" >&2; head -3 "$work/dead.jsonl" >&2; exit 1; }
    done
    python3 -c "import sys; a, b = float(sys.argv[2]), float(sys.argv[3]); \
print('bench: %s rules, time per event, 4x the stream over 1x: %.2f (1: independent of the session length; \
4: linear in it)' % (sys.argv[1], b / a))" "$set" "${per_event[$events]}" "${per_event[$((4 * events))]}"
done
