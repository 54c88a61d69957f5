#!/usr/bin/env bash
# adversarial_state.sh: issue 4's bounded-state adversaries at benchmark size, each configuration in its own
# process (so that each peak RSS is its own): one key with EVENTS events that each start partial matches,
# and EVENTS distinct keys; without a budget (the baseline) and under BUDGET bytes. Prints each run's
# figures (bench/adversarial_state.cpp) and fails when a budget did not hold.
# Usage: bench/adversarial_state.sh [BUILD=build] [EVENTS=2000000] [BUDGET=67108864]
set -euo pipefail
build=${1:-build}
events=${2:-2000000}
budget=${3:-67108864}
prog="$build/bin/adversarial_state"
[[ -x "$prog" ]] || { echo "adversarial_state.sh: build $prog first (ninja -C $build adversarial_state)" >&2; exit 1; }
run() {
    echo "== $*"
    /usr/bin/time -f "adversarial: process peak RSS %M KiB, %e s wall" "$prog" "$@"
}
run --events "$events" --keys 1
run --events "$events" --keys 1 --budget "$budget"
run --events "$events" --keys "$events"
run --events "$events" --keys "$events" --budget "$budget"
