#!/usr/bin/env bash
# Sets up and builds (scripts/setup.sh), then runs the whole test suite: lit
# (FileCheck tests, end-to-end numerics against NumPy) and the GoogleTest unit
# tests through lit. Ends with "N passed, N failed"; exits non-zero if
# anything failed.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TFM_BUILD_DIR:-$repo/build}

"$repo/scripts/setup.sh" || { echo "0 passed, 1 failed"; exit 1; }

lit=/usr/lib/llvm-19/build/utils/lit/lit.py
log=$(mktemp)
trap 'rm -f "$log"' EXIT
/usr/bin/python3 "$lit" -sv "$build/test" "$build/test/Unit" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

# lit's summary: "  Passed: 70 (97.22%)", "  Expectedly Failed: 1 (...)", ...
# (lit pads the names when the categories differ in length:
# "  Passed           : 148 (98.67%)").
read -r passed failed < <(awk -F: '
  NF >= 2 {
    name = $1; gsub(/^ +| +$/, "", name)
    n = $2 + 0
    if (name == "Passed" || name == "Expectedly Failed") p += n
    else if (name == "Failed" || name == "Unresolved" || name == "Timed Out" ||
             name == "Unexpectedly Passed") f += n
  }
  END { print p + 0, f + 0 }' "$log")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # lit failed without a count (bad configuration)
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
