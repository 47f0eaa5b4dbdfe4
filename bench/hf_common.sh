# shellcheck shell=bash
# shellcheck disable=SC2154  # repo and build: set by the script that sources this
# Shared by bench/hf.sh and bench/llama.sh (sourced, after `set -euo
# pipefail` and with `repo` and `build` set): the set-up of a run against
# transformers, a temporary folder `out` (removed on exit), and the helpers
# that make, compile and run models.
#
#   TFM_BENCH_NO_SETUP=1  skip scripts/setup.sh (no build): when build/bin is
#                         current and someone else is building in the tree

mkdir -p "$build/bench"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
hf_reference=${HF_REFERENCE:-$repo/../shared/hf-reference}
export HF_REFERENCE=$hf_reference
if [ ! -f "$hf_reference/make_hf_case.py" ]; then
  echo "bench: no make_hf_case.py in $hf_reference (set HF_REFERENCE)" >&2
  exit 1
fi
if [ -z "${TFM_BENCH_NO_SETUP:-}" ]; then
  "$repo/scripts/setup.sh" >/dev/null
fi
# The transformers peer, with OpenBLAS behind it (without it Debian's torch
# runs on the reference BLAS, at ~3 GFLOPS), and what hf-reference's README
# lists for transformers.
# shellcheck source=scripts/packages.sh
source "$repo/scripts/packages.sh"
TFM_PACKAGES_PREFIX=bench tfm_ensure_packages python3-torch \
  libopenblas0-pthread python3-numpy python3-regex python3-tqdm \
  python3-filelock python3-packaging python3-fsspec \
  python3-typing-extensions python3-yaml python3-requests
# The peer at its best: this machine's environment confines OpenBLAS (and so
# PyTorch) to AVX2 with OPENBLAS_CORETYPE=Haswell.
unset OPENBLAS_CORETYPE
# Two threads need the two cores: anything else running makes OpenMP's
# barriers lose whole time slices.
read -r load _ </proc/loadavg
if awk "BEGIN { exit !($load > 0.5) }"; then
  echo "bench: warning: load average $load, the machine is not idle; the" \
    "two-thread numbers will be low" >&2
fi

# Every command that measures or makes something, as run (env included).
log() {
  local a line=""
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./=:,+@%^-]+$ ]]; then
      line+=" $a"
    else
      line+=" '${a//\'/\'\\\'\'}'"
    fi
  done
  echo "${line# }" >>"$out/commands.txt"
  "$@"
}

# make_model FAMILY SIZE MAX_POSITIONS DIR: the checkpoint in DIR/model,
# compiled into DIR-out.
make_model() {
  local family=$1 size=$2 positions=$3 dir=$4
  if [ ! -f "$dir/model/model.safetensors" ]; then
    echo "bench: generating the $family model ($size) into $dir" >&2
    rm -rf "$dir.tmp"
    log /usr/bin/python3 "$repo/bench/hf_torch.py" make-case \
      --max-positions "$positions" -- "$family" 1 --size "$size" \
      --out "$dir.tmp" >/dev/null
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
  fi
  if [ ! -f "$dir-out/model.json" ] ||
    [ "$build/bin/tfmc" -nt "$dir-out/model.json" ] ||
    [ "$dir/model/model.safetensors" -nt "$dir-out/model.json" ]; then
    echo "bench: compiling it into $dir-out (tfmc)" >&2
    rm -rf "$dir-out.tmp"
    log "$build/bin/tfmc" "$dir/model" -o "$dir-out.tmp"
    rm -rf "$dir-out"
    mv "$dir-out.tmp" "$dir-out"
  fi
}

# hf THREADS [hf_torch.py args]: transformers on THREADS threads. Debian's
# torch runs its matmuls on OpenBLAS (pthread build), whose own threads
# follow OPENBLAS_NUM_THREADS, not torch.set_num_threads.
hf() {
  local t=$1
  shift
  local -a policy=()
  [ "$t" = 2 ] && policy=(OMP_WAIT_POLICY=PASSIVE)
  log env "${policy[@]}" OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" \
    /usr/bin/python3 "$repo/bench/hf_torch.py" "$@" --threads "$t"
}

# The FMA peak of one core and the triad on 1 and 2 threads, medians of 3,
# into $out/machine.json (bench/tfm_output.py's machine() reads it).
measure_machine() {
  echo "bench: FMA peak and triad (1 and 2 threads)" >&2
  log "$build/bin/machine_bench" --benchmark_filter='^BM_(FmaPeak|Triad/)' \
    --benchmark_format=json --benchmark_out="$out/machine.json" \
    --benchmark_out_format=json --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true >/dev/null
}

# tfm THREADS [tfm-run args]
tfm() {
  local t=$1
  shift
  log env OMP_NUM_THREADS="$t" "$build/bin/tfm-run" "$@"
}
