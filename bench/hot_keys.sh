#!/usr/bin/env bash
# hot_keys.sh: the 50 reference rules (bench/rules) over keys of every rate, matcher only: how the cost per
# event grows with the number of events a key has in its windows.
# Usage: bench/hot_keys.sh [EVENTS=200000] [REPEAT=3] [MATCHER_PROFILE=build/bin/matcher_profile]
# Why: a window's aggregate that is rescanned on every evaluation costs in proportion to the events in the
# window, so a key with an event every 200 ms (a bot, a card tester: 3,000 events in `last 10m`) cost many
# times what a browsing user did. Float sums were kept only until an event left the window (a sum rounded
# at each addition cannot take a value out), then rescanned; since they are exact sums (interp/exact_sum.h)
# a value is taken out as it leaves. Streams of EVENTS events of the e-commerce mix (page views with SKUs
# and prices, searches with and without results, carts, purchases, help, payments), keys in turn, one event
# of a key every 30 s (50 keys), 1 s, 200 ms (5 keys) and 10 ms (1 key); prints each engine's ns/event
# (thread CPU time, the fastest of REPEAT runs) and its ratio to the 30 s stream's, measured in this run:
# about 1 when the work per event does not depend on a key's rate (docs/performance.md "Hot keys").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
events="${1:-200000}"
repeat="${2:-3}"
profile="${3:-$root/build/bin/matcher_profile}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

gen() { # per-key interval in ms, keys
    python3 - "$events" "$2" "$1" <<'PY'
import random, sys
n, keys, per_key = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
step = per_key // keys
rng = random.Random(20261202)
t = 1772438400000
out = sys.stdout
pages = ["home", "search", "category", "product", "cart", "checkout", "help"]
for i in range(n):
    t += step
    u = "u%06d" % (i % keys)
    r = rng.random()
    if r < 0.55:
        p = rng.choice(pages)
        extra = ',"sku":"sku-%d","price":%.2f' % (rng.randrange(40), rng.uniform(5, 500)) if p == "product" else ""
        out.write('{"type":"page_view","ts":%d,"user_id":"%s","page":"%s","url":"/x","logged_in":true%s}\n'
                  % (t, u, p, extra))
    elif r < 0.75:
        out.write('{"type":"search","ts":%d,"user_id":"%s","query":"q%d","results":%d}\n'
                  % (t, u, rng.randrange(100), 0 if rng.random() < 0.4 else rng.randrange(1, 50)))
    elif r < 0.85:
        out.write('{"type":"add_to_cart","ts":%d,"user_id":"%s","sku":"sku-%d","price":%.2f,"qty":1}\n'
                  % (t, u, rng.randrange(40), rng.uniform(5, 500)))
    elif r < 0.88:
        out.write('{"type":"purchase","ts":%d,"user_id":"%s","order_id":"o%d","total":%.2f,"items":2}\n'
                  % (t, u, i, rng.uniform(5, 900)))
    elif r < 0.93:
        out.write('{"type":"help","ts":%d,"user_id":"%s","topic":"shipping"}\n' % (t, u))
    else:
        out.write('{"type":"payment","ts":%d,"user_id":"%s","amount":%.2f,"status":"%s","method":"%s"}\n'
                  % (t, u, rng.uniform(1, 300), "failed" if rng.random() < 0.5 else "success",
                     rng.choice(["card-visa", "wallet", "bank", "card-mc"])))
PY
}

declare -A base=()
for spec in "30000 50" "1000 5" "200 5" "10 1"; do
    read -r per_key keys <<<"$spec"
    gen "$per_key" "$keys" >"$work/events.jsonl"
    for engine in jit interp; do
        line=$("$profile" "$engine" 0 0 "$repeat" "$root/bench/rules" reference "$work/events.jsonl")
        ns=$(sed -E 's/.*: ([0-9.]+) ns\/event.*/\1/' <<<"$line")
        [ -z "${base[$engine]:-}" ] && base[$engine]=$ns
        python3 -c "import sys; e, pk, k, ns, b, line = sys.argv[1:]; print('bench: %-6s one event a key every %6s ms (%s keys): %8.1f ns/event, %.2fx the 30 s stream; %s' % (e, pk, k, float(ns), float(ns) / float(b), line.split(', ', 1)[1]))" \
            "$engine" "$per_key" "$keys" "$ns" "${base[$engine]}" "$line"
    done
done
