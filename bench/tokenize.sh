#!/usr/bin/env bash
# Tokenizer throughput (issue 17): MB/s of text encoded (tokenizer(text),
# special tokens added) and decoded, per kind, tfm's tokenizers
# (bench/tokenize_bench.cpp, in process) against transformers' slow
# tokenizers (AutoTokenizer use_fast=False, through the hf-reference tree)
# and, for the SentencePiece kinds, python3-sentencepiece's own
# encode/decode on the same model file (bench/tokenize_peer.py). The
# tokenizers are the reference cases of test/tokenizers/cases; the corpus is
# their 32 test strings each (English, Korean, Chinese, accents, emoji,
# numbers, long words; one per line, deduplicated) repeated to 256 KB. Each
# measurement is the median of its runs; tfm and the peers alternate,
# 3 rounds, and the table gives the median round.
#
#   bench/tokenize.sh            (TFM_BENCH_NO_SETUP=1: no build)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$repo/build}
if [ -z "${TFM_BENCH_NO_SETUP:-}" ]; then
  "$repo/scripts/setup.sh" >/dev/null
  ninja -C "$build" tokenize_bench >/dev/null
fi
source "$repo/scripts/packages.sh"
TFM_PACKAGES_PREFIX=bench tfm_ensure_packages python3-sentencepiece \
  python3-torch python3-numpy python3-regex python3-tqdm python3-filelock \
  python3-packaging python3-fsspec python3-typing-extensions python3-yaml \
  python3-requests
export HF_REFERENCE=${HF_REFERENCE:-$repo/../shared/hf-reference}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cases=$repo/test/tokenizers/cases
/usr/bin/python3 - "$cases" "$out/corpus.txt" <<'PY'
import json, sys
lines = set()
for kind in ("bert", "gpt2", "marian", "llama"):
    for s in json.load(open(f"{sys.argv[1]}/{kind}/encodings.json"))["strings"]:
        t = s["text"].replace("\r", " ").replace("\n", " ")
        if t:
            lines.add(t)
lines = sorted(lines)
out = []
while sum(len(l.encode()) + 1 for l in out) < 256 * 1024:
    out += lines
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY
read -r load _ </proc/loadavg
echo "# $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $load"
echo "# corpus: $(wc -l <"$out/corpus.txt") lines, $(wc -c <"$out/corpus.txt") bytes"
# KIND-json: the same tokenizer read from its tokenizer.json (the tokenizers
# library's pipeline, tfm's own BPE for Llama); its peers are the slow
# files' (the library itself is not installed here).
for kind in bert gpt2 marian llama llama-legacy bert-json gpt2-json \
  llama-json llama-legacy-json; do
  base=${kind%-json}
  dir=$cases/$base/tokenizer
  tfmdir=$dir
  [ "$kind" != "$base" ] && tfmdir=$cases/$base/tokenizer-json
  spm=""
  [ -f "$dir/source.spm" ] && spm=$dir/source.spm
  [ -f "$dir/tokenizer.model" ] && spm=$dir/tokenizer.model
  for round in 1 2 3; do
    "$build/bin/tokenize_bench" "$tfmdir" "$out/corpus.txt" 7 >"$out/$kind.tfm.$round"
    /usr/bin/python3 "$repo/bench/tokenize_peer.py" transformers "$dir" \
      "$out/corpus.txt" --runs 1 >"$out/$kind.hf.$round"
    if [ -n "$spm" ]; then
      /usr/bin/python3 "$repo/bench/tokenize_peer.py" sentencepiece "$spm" \
        "$out/corpus.txt" --runs 7 >"$out/$kind.spm.$round"
    fi
  done
done
/usr/bin/python3 - "$out" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
def med(kind, peer, key):
    files = sorted(glob.glob(f"{out}/{kind}.{peer}.*"))
    return statistics.median(json.load(open(f))[key] for f in files) if files else None
print("| kind | tfm encode MB/s | transformers slow | x | sentencepiece's own | x | tfm decode MB/s | transformers | x |")
print("|---|---|---|---|---|---|---|---|---|")
for kind in ("bert", "gpt2", "marian", "llama", "llama-legacy", "bert-json",
             "gpt2-json", "llama-json", "llama-legacy-json"):
    te, he, se = med(kind, "tfm", "encode_mb_s"), med(kind, "hf", "encode_mb_s"), med(kind, "spm", "encode_mb_s")
    td, hd = med(kind, "tfm", "decode_mb_s"), med(kind, "hf", "decode_mb_s")
    spm = f"{se:.2f} | {te / se:.2f}x" if se else "- | -"
    print(f"| {kind} | {te:.2f} | {he:.3f} | {te / he:.1f}x | {spm} | {td:.2f} | {hd:.3f} | {td / hd:.1f}x |")
PY
