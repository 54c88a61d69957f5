#!/usr/bin/env bash
# install-deps.sh: idempotently installs every Debian 12 package Ethogram needs to build, test and fuzz.
# Usage: scripts/install-deps.sh [--with-fuzz]   (clang-19 + libFuzzer are always installed; the flag is kept
# for symmetry with older invocations). Runs apt-get only when something is missing.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config git python3
  antlr4 libantlr4-runtime-dev
  llvm-19-dev clang-19 libfuzzer-19-dev libclang-rt-19-dev
  libtbb-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libsimdjson-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsodium-dev
  clang-format
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
