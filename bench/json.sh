#!/usr/bin/env bash
# tfm's JSON parser (support/Json.cpp) beside the libraries issue 15 asked
# about, nlohmann-json 3.11 and simdjson 3.0 (Debian 12's, installed here if
# missing): parse time on generated inputs (a 1.6 MB tokenizer.json, a 22 KB
# safetensors header, a config.json), then what each accepts.
#
#   bench/json.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/packages.sh
source "$repo/scripts/packages.sh"
TFM_PACKAGES_PREFIX=bench tfm_ensure_packages nlohmann-json3-dev libsimdjson-dev \
  libabsl-dev libxxhash-dev pkg-config clang-19
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$out"
/usr/bin/python3 "$repo/bench/json/gen.py"
absl=$(pkg-config --libs absl_status absl_statusor absl_strings absl_str_format)
cxx=(clang++-19 -O2 -std=c++17 -I"$repo" -I"$repo/bench/json")
for f in bench strict; do
  "${cxx[@]}" "$repo/bench/json/$f.cpp" "$repo/support/Json.cpp" \
    "$repo/support/MappedFile.cpp" -o "$f" -lsimdjson $absl -lxxhash
done
echo "median microseconds per parse (41 repetitions of the tokenizer, 2001 of the others)"
./bench 41 2001
echo
./strict
