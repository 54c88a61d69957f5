#!/usr/bin/env bash
# demo.sh: from a fresh Debian 12 machine to detections on the terminal: installs the dependencies,
# builds Release into build/, and runs the e-commerce example (detections on stdout, summary on stderr).
# Usage: scripts/demo.sh [extra etho run flags, e.g. --explain or --only intent.purchase]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
JOBS="${JOBS:-2}"

echo "demo: installing dependencies" >&2
"$root/scripts/install-deps.sh" >&2

echo "demo: building etho (Release) into build/" >&2
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
ninja -C "$root/build" -j"$JOBS" etho >&2

ex="$root/examples/ecommerce"
echo "demo: etho run examples/ecommerce/rules --events examples/ecommerce/events.jsonl" >&2
exec "$root/build/bin/etho" run "$ex/rules" --events "$ex/events.jsonl" --config "$ex/config.yaml" "$@"
