# shellcheck shell=bash
# Sourced by scripts/setup.sh and the benchmarks in bench/:
#
#   source "$repo/scripts/packages.sh"
#   TFM_PACKAGES_PREFIX=bench tfm_ensure_packages python3-torch libopenblas0-pthread
#
# tfm_ensure_packages PKG... installs, with apt-get, the Debian packages of
# the list that dpkg-query does not report as installed, and nothing when all
# are (quiet then). It prints "<prefix>: installing ..." first, the prefix
# being $TFM_PACKAGES_PREFIX (default "setup"); it uses sudo when not root.
# A failed install fails the caller (set -e) with apt-get's status.

tfm_ensure_packages() {
  local p sudo=""
  local -a missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "${TFM_PACKAGES_PREFIX:-setup}: installing ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
