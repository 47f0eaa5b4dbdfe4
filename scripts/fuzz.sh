#!/usr/bin/env bash
# Builds the libFuzzer harnesses of test/fuzz (runtime-only build with the
# parsers instrumented, ASan + UBSan) into $TFM_FUZZ_BUILD_DIR (default
# build-fuzz) and runs each for SECONDS (default 30) on a copy of its seed
# corpus, with its dictionary. Prints, per harness, the executions and the
# coverage libFuzzer reached; exits non-zero if any harness found a crash
# (the reproducer is kept under $TFM_FUZZ_BUILD_DIR/findings/).
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]
#   scripts/fuzz.sh --runs N [HARNESS...]
#                                   each harness N inputs (the 10 M runs the
#                                   closing notes report)
#   scripts/fuzz.sh --ci            what CI runs: each harness a fixed number
#                                   of inputs (~30 s here) from a fixed seed,
#                                   so that a run that passed here passes
#                                   there (same compiler, same mutations)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_FUZZ_BUILD_DIR:-$repo/build-fuzz}
ci=0
run_count=
if [ "${1:-}" = --ci ]; then
  ci=1
  shift
elif [ "${1:-}" = --runs ]; then
  run_count=$2
  shift 2
fi
seconds=30
if [ $ci = 0 ] && [ -z "$run_count" ] && [ $# -gt 0 ]; then
  seconds=$1
  shift
fi
harnesses=("$@")
# --ci: inputs per harness, ~30 s each on this machine kind.
declare -A ci_runs=([artifact]=2000000 [config]=2000000 [hf_config]=1000000
  [index]=100000 [inputs]=2000000 [json]=2000000 [manifest]=2000000
  [npy]=800000 [safetensors]=700000 [tokenizer]=30000)
[ ${#harnesses[@]} -gt 0 ] ||
  harnesses=(artifact config hf_config index inputs json manifest npy safetensors
    tokenizer)

# shellcheck source=scripts/packages.sh
source "$repo/scripts/packages.sh"
TFM_PACKAGES_PREFIX=fuzz tfm_ensure_packages cmake ninja-build clang-19 \
  libabsl-dev libxxhash-dev libclang-rt-19-dev libsentencepiece-dev libutf8proc-dev
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DTFM_RUNTIME_ONLY=ON -DTFM_ENABLE_FUZZERS=ON -DTFM_ENABLE_TSAN=OFF \
    -DBUILD_TESTING=OFF -DTFM_BUILD_BENCHMARKS=OFF >/dev/null
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
if ! ninja -C "$build" "${targets[@]}" >"$build/ninja.log" 2>&1; then
  grep -v "^\[" "$build/ninja.log"
  echo "fuzz: the harnesses do not build"
  exit 1
fi

failed=0
for h in "${harnesses[@]}"; do
  corpus=$build/corpus/$h
  rm -rf "$corpus"
  mkdir -p "$corpus" "$build/findings/$h"
  cp "$repo/test/fuzz/corpus/$h/"* "$corpus/"
  dict=$repo/test/fuzz/json.dict
  [ -f "$repo/test/fuzz/$h.dict" ] && dict=$repo/test/fuzz/$h.dict
  log=$build/fuzz-$h.log
  limit=(-max_total_time="$seconds")
  [ $ci = 1 ] && limit=(-runs="${ci_runs[$h]}" -seed=1)
  [ -n "$run_count" ] && limit=(-runs="$run_count")
  start=$(date +%s)
  if "$build/fuzz/fuzz_$h" "$corpus" -dict="$dict" "${limit[@]}" \
    -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$h/" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed=1
  fi
  runs=$(grep -o '^stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo "?")
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo "?")
  echo "fuzz: $h: $status, $runs executions in $(($(date +%s) - start)) s, coverage $cov edges, $ft features"
  if [ "$status" = FAILED ]; then
    grep -E "ERROR|SUMMARY|==[0-9]+==|Test unit written" "$log" | head -n 20
  fi
done
exit $failed
