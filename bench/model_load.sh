#!/bin/sh
# model_load.sh: builds bench/model_load.cpp against an existing build's models library and runs it.
# Usage: bench/model_load.sh [BUILD_DIR] [TMP_DIR]     (default: build, /tmp)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
tmp=${2:-/tmp}
ninja -C "$build" ethogram_models >/dev/null
c++ -std=c++20 -O2 -DNDEBUG -I"$root" "$root/bench/model_load.cpp" "$build/models/libethogram_models.a" \
    $(pkg-config --cflags --libs libsodium fmt) -o "$tmp/ethogram_model_load"
"$tmp/ethogram_model_load" "$tmp"
