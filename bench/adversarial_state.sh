#!/usr/bin/env bash
# adversarial_state.sh: issue 4's bounded-state adversaries at benchmark size, each configuration in its own
# process (so that each peak RSS is its own): one key with EVENTS events that each start partial matches,
# and EVENTS distinct keys; without a budget (the baseline) and under BUDGET bytes. Prints each run's
# figures (bench/adversarial_state.cpp) and fails when a budget did not hold.
# Usage: bench/adversarial_state.sh [BUILD=build] [EVENTS=2000000] [BUDGET=4194304] [CAP=100]
# CAP is max_partial_matches per key and rule: the hot key's every event visits that many partial matches
# per pattern rule (skip-till-next-match), so its run time grows with it (about 25 us per event at 100 on
# one core). The unbounded distinct-keys run holds about 1.3 KB per key: 2.6 GB at 2M keys.
set -euo pipefail
build=${1:-build}
events=${2:-2000000}
budget=${3:-4194304}
cap=${4:-100}
prog="$build/bin/adversarial_state"
[[ -x "$prog" ]] || { echo "adversarial_state.sh: build $prog first (ninja -C $build adversarial_state)" >&2; exit 1; }
run() {
    echo "== $*"
    /usr/bin/time -f "adversarial: process peak RSS %M KiB, %e s wall" "$prog" "$@"
}
run --events "$events" --keys 1 --max-partial-matches "$cap"
run --events "$events" --keys 1 --max-partial-matches "$cap" --budget "$budget"
run --events "$events" --keys "$events"
run --events "$events" --keys "$events" --budget "$budget"
