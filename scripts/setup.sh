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
  libabsl-dev libbenchmark-dev libgtest-dev libxxhash-dev
  libsentencepiece-dev libutf8proc-dev
  python3-numpy xxhash
)
# shellcheck source=scripts/packages.sh
source "$repo/scripts/packages.sh"
TFM_PACKAGES_PREFIX=setup tfm_ensure_packages "${packages[@]}"

if [ ! -f "$build/build.ninja" ]; then
  # shellcheck disable=SC2086
  cmake -G Ninja -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    ${TFM_CMAKE_ARGS:-} >/dev/null
fi
ninja -C "$build" ${TFM_NINJA_ARGS:-} | grep -v "^\[" || true
test "${PIPESTATUS[0]}" -eq 0
