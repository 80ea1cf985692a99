#!/usr/bin/env bash
# deps.sh: install the Debian packages Glint's build and tests need, if any are missing.
# Idempotent and quiet: prints nothing when everything is already installed.  Installing needs root.
#
#   scripts/deps.sh [EXTRA-PACKAGE...]

set -euo pipefail

packages=(
    cmake gcc make nasm lld clang libclang-rt-14-dev # host build, guest toolchain
    newlib-source                                    # guest libc, built from source
    systemtap-sdt-dev                                # <sys/sdt.h>: USDT probes in libglint
    libcmocka-dev duktape-dev pkg-config file         # tests, examples
    gdb                                               # the debugging tests drive it (docs/debugging.md)
    qemu-system-x86 busybox-static cpio xz-utils zstd # the KVM test harness (tests/harness)
    "$@"
)

# One dpkg-query for all (it prints nothing for packages it has never heard of).
declare -A installed=()
while read -r name state; do
    if [[ $state == installed ]]; then installed[${name%%:*}]=1; fi
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null)
missing=()
for p in "${packages[@]}"; do
    if [[ -z ${installed[$p]:-} ]]; then missing+=("$p"); fi
done
((${#missing[@]} == 0)) && exit 0

if ((EUID != 0)); then
    echo "deps.sh: missing packages: ${missing[*]}" >&2
    echo "deps.sh: run as root (sudo scripts/deps.sh), or: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update >"$log" 2>&1; then
    cat "$log" >&2
    echo "deps.sh: apt-get update failed" >&2
    exit 1
fi
if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    echo "deps.sh: apt-get install failed for: ${missing[*]}" >&2
    exit 1
fi
