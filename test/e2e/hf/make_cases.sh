#!/bin/bash
# Regenerates every Hugging Face reference case under test/e2e/hf/cases/ from
# scratch with make_hf_case.py of the hf-reference tree (transformers 4.47 on
# Debian's python3-torch; see its README.md). Not run by the tests: the cases
# are checked in, and the tests need neither torch nor transformers.
#
#   HF_REFERENCE=/path/to/hf-reference test/e2e/hf/make_cases.sh [NAME...]
#
# HF_REFERENCE defaults to ../shared/hf-reference beside the repository.
# With NAMEs only those cases are remade. Each case keeps only what the tests
# read: model/ (as save_pretrained writes it), inputs.json, the reference
# outputs (*.npy, float32), generate.json (GPT-2, Llama, Marian) and
# case.json; and beams/NAME.json for three decoder-only cases (beam_ref.py).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
HF_REFERENCE=${HF_REFERENCE:-$repo/../shared/hf-reference}
PYTHON=${PYTHON:-/usr/bin/python3}
cases=$here/cases

if [ ! -f "$HF_REFERENCE/make_hf_case.py" ]; then
  echo "make_cases.sh: no make_hf_case.py in HF_REFERENCE=$HF_REFERENCE" >&2
  exit 1
fi
# One core: the references are computed with one thread, and the machine is
# shared.
pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 1 true 2>/dev/null; then
  pin=(taskset -c 1)
fi

# NAME  make_hf_case.py arguments  [reshard:MAX_SHARD_SIZE]  [via:SCRIPT]
#   reshard: re-saved as shards by reshard.py; via:SCRIPT: made by
#   make_hf_case.py's main() through a script here: bf16_case.py's fixes (its
#   --bf16 path fails for Marian: "reloaded model differs from in-memory
#   model"), llama_case.py's config options (--bias, --head-dim N,
#   --no-head-dim).
#   default sizes: hidden 64, 4 heads, 2 layers, FF 128, vocabulary 100.
#   --size H,HEADS,KV,LAYERS,FF,VOCAB (KV only matters for llama; GPT-2 ignores
#   FF: its MLP is 4*H).
read -r -d '' table <<'EOF' || true
bert-base-s1          bert 1
bert-mlm-s2           bert 2 --variant mlm
gpt2-base-s1          gpt2 1
marian-base-s1        marian 1
bert-hd24-s3          bert 3 --size 48,2,2,3,80,131
gpt2-hd32-s3          gpt2 3 --size 64,2,2,1,96,97
marian-hd24-s11       marian 11 --size 48,2,2,2,48,109
gpt2-bf16-s6          gpt2 6 --bf16
marian-bf16-s4        marian 4 --bf16 via:bf16_case.py
gpt2-sharded-s5       gpt2 5 --size 32,2,2,3,128,101 reshard:60KB
bert-mlm-sharded-s5   bert 5 --variant mlm --size 32,2,2,3,64,90 reshard:50KB
llama-base-s1         llama 1
llama-tied-s2         llama 2 --variant tied
llama-gqa4-s3         llama 3 --size 64,4,1,3,96,101
llama-hd64-s4         llama 4 --size 128,2,2,1,64,97
llama-hd128-bf16-s5   llama 5 --size 128,1,1,1,64,97 --bf16
llama-gqa8-sharded-s6 llama 6 --size 64,8,1,2,64,90 reshard:60KB
llama-bias-hd24-s7    llama 7 --bias --head-dim 24 --size 64,4,2,2,96,101 via:llama_case.py
llama-nohd-s8         llama 8 --no-head-dim --size 48,3,1,2,64,89 via:llama_case.py
EOF

want=" $* "
for n in "$@"; do
  if ! grep -q "^$n " <<<"$table"; then
    echo "make_cases.sh: no case named $n" >&2
    exit 1
  fi
done
mkdir -p "$cases"
while read -r name args; do
  [ -n "$name" ] || continue
  if [ $# -gt 0 ] && [[ "$want" != *" $name "* ]]; then
    continue
  fi
  shard=""
  gen=$HF_REFERENCE/make_hf_case.py
  via=""
  if [[ "$args" == *" via:"* ]]; then
    script=${args##* via:}
    gen=$here/$script
    via=" (through $script)"
    args=${args% via:*}
  fi
  if [[ "$args" == *reshard:* ]]; then
    shard=${args##*reshard:}
    args=${args% reshard:*}
  fi
  out=$cases/$name
  rm -rf "$out"
  # shellcheck disable=SC2086  # args is a word list
  HF_REFERENCE=$HF_REFERENCE "${pin[@]}" "$PYTHON" "$gen" $args --out "$out" >/dev/null
  # The inputs are all in inputs.json: drop their .npy copies (and their
  # sha256 in case.json).
  "$PYTHON" - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
case_path = os.path.join(out, "case.json")
case = json.load(open(case_path))
for key in json.load(open(os.path.join(out, "inputs.json"))):
    os.remove(os.path.join(out, key + ".npy"))
    del case["sha256"][key + ".npy"]
with open(case_path, "w") as f:
    json.dump(case, f, indent=1)
PY
  if [ -n "$shard" ]; then
    HF_REFERENCE=$HF_REFERENCE "${pin[@]}" "$PYTHON" "$here/reshard.py" "$out" \
      --max-shard-size "$shard"
  fi
  # Nothing else may be left.
  "$PYTHON" - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
case = json.load(open(os.path.join(out, "case.json")))
allowed = {"inputs.json", "case.json", "generate.json", "model/config.json",
           "model/generation_config.json", "model/model.safetensors",
           "model/model.safetensors.index.json"}
allowed |= {k + ".npy" for k in case["outputs"]}
allowed |= {os.path.join("model", f) for f in case.get("reshard", {}).get("shards", [])}
left = sorted(os.path.relpath(os.path.join(r, f), out)
              for r, _, fs in os.walk(out) for f in fs)
extra = [f for f in left if f not in allowed]
if extra:
    sys.exit(f"make_cases.sh: unexpected files in {out}: {extra}")
if sorted(case["sha256"]) != [f for f in left if f != "case.json"]:
    sys.exit(f"make_cases.sh: case.json's sha256 does not list the files of {out}")
PY
  printf '%-22s %4s KB  %s\n' "$name" "$(du -s --apparent-size --block-size=1K "$out" | cut -f1)" \
    "$args${shard:+ (resharded, $shard)}$via"
done <<<"$table"

# Beam-search references (transformers' generate(num_beams=N), beam_ref.py)
# of some decoder-only cases, beside the cases: beams/NAME.json.
mkdir -p "$here/beams"
for name in gpt2-base-s1 llama-base-s1 llama-gqa4-s3; do
  if [ $# -gt 0 ] && [[ "$want" != *" $name "* ]]; then
    continue
  fi
  HF_REFERENCE=$HF_REFERENCE "${pin[@]}" "$PYTHON" "$here/beam_ref.py" \
    "$cases/$name" "$here/beams/$name.json"
  echo "beams/$name.json"
done
