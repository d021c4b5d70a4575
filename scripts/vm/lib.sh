# shellcheck shell=bash
# Shared helpers for the scripts in scripts/vm/. Sourced, not run.
# Sets REPO_ROOT and VM_CACHE, and provides timing, messages and package installation.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM_CACHE=${VM_CACHE:-$REPO_ROOT/.vm-cache}
VM_PROG=${VM_PROG:-$(basename "$0")}

# Kernel versions the rig knows, and the Debian metapackage that depends on the current
# image package of each.
vm_kernel_metapackage() {
  case "$1" in
    6.1) echo linux-image-cloud-amd64 ;;
    6.12) echo linux-image-6.12-cloud-amd64 ;;
    *) return 1 ;;
  esac
}
VM_KERNEL_VERSIONS="6.1 6.12"

say() { echo "$VM_PROG: $*" >&2; }
die() { echo "$VM_PROG: error: $*" >&2; exit 1; }

# now_ms: wall-clock milliseconds.
now_ms() { date +%s%3N; }

# fmt_ms MS: "12.3s"
fmt_ms() { printf '%d.%01ds' $(($1 / 1000)) $((($1 % 1000) / 100)); }

# step_start NAME / step_end: print how long the step took.
step_start() { VM_STEP_NAME=$1; VM_STEP_T0=$(now_ms); say "$1 ..."; }
step_end() { say "$VM_STEP_NAME took $(fmt_ms $(($(now_ms) - VM_STEP_T0)))${1:+ ($1)}"; }

# ensure_packages CMD:PACKAGE ...: installs the Debian package of each missing command.
ensure_packages() {
  local need=() item
  for item in "$@"; do
    command -v "${item%%:*}" >/dev/null 2>&1 || need+=("${item#*:}")
  done
  install_debs ${need[@]+"${need[@]}"}
}

# ensure_deb_packages PACKAGE ...: installs each Debian package that is not installed.
ensure_deb_packages() {
  local need=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
  done
  install_debs ${need[@]+"${need[@]}"}
}

install_debs() {
  local need=("$@")
  [ ${#need[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "need root or sudo to install: ${need[*]}"
    sudo="sudo"
  fi
  say "installing ${need[*]}"
  local t0
  t0=$(now_ms)
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || die "apt-get update failed"
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || die "apt-get install ${need[*]} failed"
  say "installing ${need[*]} took $(fmt_ms $(($(now_ms) - t0)))"
}

# kernel_dir VERSION: the cache folder of a kernel version (may not exist yet).
kernel_dir() { echo "$VM_CACHE/kernels/$1"; }

check_kernel_version() {
  vm_kernel_metapackage "$1" >/dev/null || die "unknown kernel version '$1' (known: $VM_KERNEL_VERSIONS)"
}
