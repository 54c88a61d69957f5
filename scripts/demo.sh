#!/usr/bin/env bash
# demo.sh: from a fresh Debian 12 machine to detections on the terminal: installs the dependencies,
# builds Release into build/, and runs the e-commerce example (detections on stdout, summary on stderr).
# Usage: scripts/demo.sh [extra etho run flags, e.g. --explain or --only intent.purchase]
# Env: JOBS (default 2), BUILD_DIR (default build, relative to the repository).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
JOBS="${JOBS:-2}"
BUILD_DIR="$root/${BUILD_DIR:-build}"

echo "demo: installing dependencies" >&2
"$root/scripts/install-deps.sh" >&2

echo "demo: building etho (Release) into ${BUILD_DIR#"$root"/}/" >&2
cmake -S "$root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
ninja -C "$BUILD_DIR" -j"$JOBS" etho >&2

ex="$root/examples/ecommerce"
echo "demo: etho run examples/ecommerce/rules --events examples/ecommerce/events.jsonl" >&2
exec "$BUILD_DIR/bin/etho" run "$ex/rules" --events "$ex/events.jsonl" --config "$ex/config.yaml" "$@"
