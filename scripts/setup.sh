#!/usr/bin/env bash
# Installs what tfm needs on Debian 12 (only what is missing; quiet when all
# is there), then configures and builds. Idempotent.
#
#   scripts/setup.sh            # build into ./build (or $TFM_BUILD_DIR)
#   TFM_CMAKE_ARGS="-DTFM_ENABLE_SANITIZERS=ON" TFM_BUILD_DIR=build-asan scripts/setup.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$repo/build}

packages=(
  cmake ninja-build
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools clang-19 libomp-19-dev
  libabsl-dev libbenchmark-dev libgtest-dev
  python3-numpy
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -f "$build/build.ninja" ]; then
  # shellcheck disable=SC2086
  cmake -G Ninja -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    ${TFM_CMAKE_ARGS:-} >/dev/null
fi
ninja -C "$build" ${TFM_NINJA_ARGS:-} | grep -v "^\[" || true
test "${PIPESTATUS[0]}" -eq 0
