#!/usr/bin/env bash
# kvm-harness.sh: run a command inside a small QEMU VM (software CPU emulating AMD SVM) that boots
# Debian's stock kernel with kvm-amd, so that the command sees a working /dev/kvm on machines that have
# none.  The command runs in a chroot of the host's own root filesystem (shared over 9p, writable), in the
# caller's working directory, with the caller's PATH/GLINT_*/CTEST_* environment, and the harness exits
# with the command's exit status.  See docs/testing.md.
#
#   tests/harness/kvm-harness.sh [options] -- COMMAND [ARGS...]
#   tests/harness/kvm-harness.sh --prepare        # only fill the cache (kernel, initramfs)

set -uo pipefail

readonly EX_USAGE=64        # bad command line
readonly EX_PACKAGE=90      # a needed package is missing and could not be installed
readonly EX_KERNEL=91       # the kernel package could not be resolved, downloaded or unpacked
readonly EX_INITRAMFS=92    # the initramfs could not be built
readonly EX_BOOT=93         # QEMU failed to start or the VM never reached /init
readonly EX_MODULE=94       # a kernel module failed to load inside the VM
readonly EX_NOKVM=95        # /dev/kvm missing inside the VM
readonly EX_SETUP=96        # 9p mounts, chroot or cd into the working directory failed inside the VM
readonly EX_LOST=97         # the VM stopped before the command's exit status came back (crash, panic)
readonly EX_TIMEOUT=124     # --timeout expired (same code as timeout(1))

prog=kvm-harness
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
init_script=$here/init.sh

timeout_s=${GLINT_HARNESS_TIMEOUT:-3000}
# One vCPU by default: with two, QEMU's multi-threaded TCG running nested SVM was seen to wedge the
# VM (soft lockup, RCU stall, timers stop) on a loaded host.  Tests with threads still run, time-sliced.
smp=${GLINT_HARNESS_SMP:-1}
mem=${GLINT_HARNESS_MEM:-3072}
cache=${GLINT_HARNESS_CACHE:-${HOME:-/tmp}/.cache/glint-harness}
qemu=${GLINT_HARNESS_QEMU:-qemu-system-x86_64}
cpu=${GLINT_HARNESS_CPU:-max} # TCG's "max" CPU is AuthenticAMD with svm and npt, which kvm-amd needs
verbose=${GLINT_HARNESS_VERBOSE:-0}
# Extra kernel command line.  The defaults shave a few seconds off an emulated boot.
kernel_args=${GLINT_HARNESS_KERNEL_ARGS-mitigations=off nokaslr tsc=reliable no_timer_check}
prepare_only=0
extra_env=()

# The kernel modules the VM needs; their dependencies are resolved from the modules' .modinfo.
root_modules=(kvm-amd virtio_pci 9pnet_virtio 9p)

usage() {
    cat <<EOF
usage: $0 [options] -- COMMAND [ARGS...]
       $0 --prepare

Runs COMMAND inside a QEMU VM whose kernel has kvm-amd loaded (/dev/kvm works there), in a chroot of this
machine's root filesystem, in the current directory.  Exits with COMMAND's exit status.

options:
  --timeout SECONDS   kill the VM after SECONDS (default $timeout_s; env GLINT_HARNESS_TIMEOUT)
  --smp N             virtual CPUs (default $smp; env GLINT_HARNESS_SMP)
  --mem MB            VM memory in MiB (default $mem; env GLINT_HARNESS_MEM)
  --env NAME[=VALUE]  also pass NAME (from the environment, or VALUE) to the command; repeatable
  --verbose, -v       show the whole serial console (boot messages, markers)
  --prepare           only download the kernel and build the initramfs into the cache, then exit
  -h, --help          this text

cache: \$GLINT_HARNESS_CACHE (default ~/.cache/glint-harness), now $cache
exit codes besides COMMAND's own: $EX_USAGE usage, $EX_PACKAGE package missing, $EX_KERNEL kernel download,
  $EX_INITRAMFS initramfs, $EX_BOOT QEMU did not boot, $EX_MODULE module failed to load, $EX_NOKVM no /dev/kvm
  inside, $EX_SETUP mount/chroot/cwd failed inside, $EX_LOST VM died before the command finished,
  $EX_TIMEOUT timeout.
EOF
}

die() {
    local code=$1
    shift
    printf '%s: error: %s\n' "$prog" "$*" >&2
    exit "$code"
}
note() { printf '%s: %s\n' "$prog" "$*" >&2; }
vnote() { if [[ $verbose == 1 ]]; then note "$@"; fi; }

# ---------------------------------------------------------------- command line
while (($#)); do
    case $1 in
        --timeout) (($# >= 2)) || die $EX_USAGE "--timeout needs a value"; timeout_s=$2; shift 2 ;;
        --timeout=*) timeout_s=${1#*=}; shift ;;
        --smp) (($# >= 2)) || die $EX_USAGE "--smp needs a value"; smp=$2; shift 2 ;;
        --smp=*) smp=${1#*=}; shift ;;
        --mem) (($# >= 2)) || die $EX_USAGE "--mem needs a value"; mem=$2; shift 2 ;;
        --mem=*) mem=${1#*=}; shift ;;
        --env) (($# >= 2)) || die $EX_USAGE "--env needs a value"; extra_env+=("$2"); shift 2 ;;
        --env=*) extra_env+=("${1#*=}"); shift ;;
        -v | --verbose) verbose=1; shift ;;
        --prepare) prepare_only=1; shift ;;
        -h | --help) usage; exit 0 ;;
        --) shift; break ;;
        *) usage >&2; die $EX_USAGE "unknown option '$1' (put the command after --)" ;;
    esac
done
for v in timeout_s smp mem; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die $EX_USAGE "$v must be a positive integer, got '${!v}'"
done
if ((prepare_only == 0 && $# == 0)); then
    usage >&2
    die $EX_USAGE "no command given"
fi

# ---------------------------------------------------------------- packages
# install_pkgs PACKAGE...: apt-get install them (root only), or fail with EX_PACKAGE.
apt_updated=0
install_pkgs() {
    if ((EUID != 0)); then
        die $EX_PACKAGE "missing package(s): $* -- install them as root (apt-get install $*, or sudo scripts/deps.sh)"
    fi
    command -v apt-get >/dev/null || die $EX_PACKAGE "missing package(s) $* and no apt-get to install them"
    local log
    log=$(mktemp)
    note "installing $*"
    if ((apt_updated == 0)); then
        if ! DEBIAN_FRONTEND=noninteractive apt-get update >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            die $EX_PACKAGE "apt-get update failed while installing $*"
        fi
        apt_updated=1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die $EX_PACKAGE "could not install package(s): $*"
    fi
    rm -f "$log"
}

ensure_packages() {
    local missing=()
    command -v "$qemu" >/dev/null || missing+=(qemu-system-x86)
    busybox=${GLINT_HARNESS_BUSYBOX:-}
    if [[ -z $busybox ]]; then
        # Only the busybox of busybox-static is static; /init runs with no libc in the initramfs.
        if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
            busybox=$(dpkg -L busybox-static | grep -m1 -E '/bin/busybox$')
        else
            missing+=(busybox-static)
        fi
    fi
    command -v cpio >/dev/null || missing+=(cpio)
    command -v xz >/dev/null || missing+=(xz-utils) # the kernel image's payload
    command -v dpkg-deb >/dev/null || die $EX_PACKAGE "dpkg-deb not found: the harness needs a Debian-based host"
    if ((${#missing[@]})); then
        install_pkgs "${missing[@]}"
        command -v "$qemu" >/dev/null || die $EX_PACKAGE "$qemu still not found after installing qemu-system-x86"
        if [[ -z ${GLINT_HARNESS_BUSYBOX:-} ]]; then
            busybox=$(dpkg -L busybox-static 2>/dev/null | grep -m1 -E '/bin/busybox$')
        fi
    fi
    [[ -n $busybox && -x $busybox ]] || die $EX_PACKAGE "static busybox not found (package busybox-static)"
}

# ---------------------------------------------------------------- kernel
# Prints the name of the package linux-image-amd64 depends on, e.g. linux-image-6.1.0-56-amd64.
resolve_kernel_pkg() {
    if [[ -n ${GLINT_HARNESS_KERNEL_PKG:-} ]]; then
        echo "$GLINT_HARNESS_KERNEL_PKG"
        return
    fi
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 ~ /Depends:/ && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# fetch_kernel PKG DEST: download PKG, keep vmlinuz and the needed modules (flat, by module name) in DEST.
fetch_kernel() {
    local pkg=$1 dest=$2 tmp log
    tmp=$(mktemp -d "$cache/tmp.XXXXXX") || die $EX_KERNEL "cannot create a folder in $cache"
    chmod 755 "$tmp" # apt-get download drops privileges to _apt when run as root
    log=$tmp/log
    note "downloading kernel package $pkg (first run only; cached in $cache)"
    if ! (cd "$tmp" && apt-get download "$pkg") >"$log" 2>&1; then
        if ((EUID == 0)) && DEBIAN_FRONTEND=noninteractive apt-get update >>"$log" 2>&1 &&
            (cd "$tmp" && apt-get download "$pkg") >>"$log" 2>&1; then
            :
        else
            cat "$log" >&2
            rm -rf "$tmp"
            die $EX_KERNEL "could not download kernel package $pkg (apt-get download failed; network or stale apt lists? as root, run apt-get update)"
        fi
    fi
    local deb
    deb=$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n1)
    [[ -n $deb ]] || { rm -rf "$tmp"; die $EX_KERNEL "apt-get download produced no .deb for $pkg"; }
    if ! dpkg-deb -x "$deb" "$tmp/x" 2>"$log"; then
        cat "$log" >&2
        rm -rf "$tmp"
        die $EX_KERNEL "could not unpack $deb"
    fi
    rm -f "$deb"

    local vmlinuz moddir
    vmlinuz=$(find "$tmp/x/boot" -maxdepth 1 -name 'vmlinuz-*' | head -n1)
    moddir=$(find "$tmp/x/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n1)
    [[ -n $vmlinuz && -n $moddir ]] || { rm -rf "$tmp"; die $EX_KERNEL "$pkg has no vmlinuz or lib/modules"; }

    # Index every module by name (dashes as underscores, as the kernel does).
    local -A path_of=()
    local f name
    while IFS= read -r f; do
        name=${f##*/}
        name=${name%%.ko*}
        path_of[${name//-/_}]=$f
    done < <(find "$moddir/kernel" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')

    local -A builtin=() done_mod=()
    if [[ -f $moddir/modules.builtin ]]; then
        while IFS= read -r f; do
            name=${f##*/}
            name=${name%%.ko*}
            builtin[${name//-/_}]=1
        done <"$moddir/modules.builtin"
    fi

    mkdir -p "$tmp/out/modules"
    local order=()
    # Depth-first: a module's dependencies are loaded before it.
    add_module() {
        local m=${1//-/_} src deps d
        [[ -z ${done_mod[$m]:-} && -z ${builtin[$m]:-} ]] || return 0
        done_mod[$m]=1
        src=${path_of[$m]:-}
        [[ -n $src ]] || die $EX_KERNEL "module $m is neither in $pkg nor built in"
        case $src in
            *.ko) cp "$src" "$tmp/out/modules/$m.ko" ;;
            *.ko.xz) xz -dc "$src" >"$tmp/out/modules/$m.ko" ;;
            *.ko.zst) zstd -qdc "$src" >"$tmp/out/modules/$m.ko" ;;
            *.ko.gz) gzip -dc "$src" >"$tmp/out/modules/$m.ko" ;;
        esac || die $EX_KERNEL "could not extract module $m (xz/zstd missing?)"
        deps=$(tr '\0' '\n' <"$tmp/out/modules/$m.ko" | sed -n 's/^depends=//p' | head -n1)
        for d in ${deps//,/ }; do add_module "$d"; done
        order+=("$m")
    }
    for name in "${root_modules[@]}"; do add_module "$name"; done
    printf '%s\n' "${order[@]}" >"$tmp/out/modules.load"
    # QEMU boots an uncompressed vmlinux through its PVH entry point about 5 s faster than the
    # bzImage (which would decompress itself under the emulated CPU), so unpack it when we can.
    local cfg
    cfg=$(find "$tmp/x/boot" -maxdepth 1 -name 'config-*' | head -n1)
    if [[ -n $cfg ]] && grep -q '^CONFIG_PVH=y' "$cfg" && extract_vmlinux "$vmlinuz" "$tmp/out/vmlinux"; then
        vnote "using the uncompressed kernel (PVH boot)"
    else
        rm -f "$tmp/out/vmlinux"
        cp "$vmlinuz" "$tmp/out/vmlinuz"
    fi
    echo "$pkg ${moddir##*/}" >"$tmp/out/version"
    rm -rf "$dest"
    mv "$tmp/out" "$dest" || die $EX_KERNEL "could not move the kernel into $dest"
    rm -rf "$tmp"
}

# extract_vmlinux BZIMAGE OUT: find the compressed payload in a bzImage and unpack the ELF vmlinux.
extract_vmlinux() {
    local img=$1 out=$2 magic tool off
    for magic in $'\xfd7zXZ':xz $'\x28\xb5\x2f\xfd':zstd $'\x1f\x8b\x08':gzip; do
        tool=${magic##*:}
        command -v "$tool" >/dev/null || continue
        off=$(LC_ALL=C grep -abo -m1 "${magic%:*}" "$img" 2>/dev/null | head -n1 | cut -d: -f1)
        [[ -n $off ]] || continue
        tail -c +$((off + 1)) "$img" | "$tool" -dc >"$out" 2>/dev/null
        if [[ $(head -c4 "$out" | od -An -c | tr -d ' ') == '177ELF' ]] && (($(stat -c %s "$out") > 1000000)); then
            return 0
        fi
    done
    rm -f "$out"
    return 1
}

prepare_kernel() {
    local pkg stamp=$cache/resolved
    # apt-cache takes ~2 s: reuse the last answer while the apt lists have not changed since.
    if [[ -z ${GLINT_HARNESS_KERNEL_PKG:-} && -s $stamp && -f $cache/$(cat "$stamp")/version ]] &&
        [[ -z $(find /var/lib/apt/lists -maxdepth 1 -newer "$stamp" -name '*Packages*' 2>/dev/null | head -n1) ]]; then
        kdir=$cache/$(cat "$stamp")
        return
    fi
    pkg=$(resolve_kernel_pkg)
    if [[ -z $pkg ]] && ((EUID == 0)); then
        DEBIAN_FRONTEND=noninteractive apt-get update >/dev/null 2>&1
        pkg=$(resolve_kernel_pkg)
    fi
    if [[ -z $pkg ]]; then
        # Offline or no apt lists: use whatever kernel is cached.
        kdir=$(find "$cache" -mindepth 1 -maxdepth 1 -type d -name 'linux-image-*' 2>/dev/null | sort -V | tail -n1)
        [[ -n $kdir && -f $kdir/version ]] ||
            die $EX_KERNEL "cannot resolve the package linux-image-amd64 depends on (apt-cache depends linux-image-amd64 gave nothing; run apt-get update as root, or set GLINT_HARNESS_KERNEL_PKG)"
        vnote "apt cannot resolve linux-image-amd64; using cached ${kdir##*/}"
        return
    fi
    kdir=$cache/$pkg
    if [[ ! -f $kdir/version ]]; then
        fetch_kernel "$pkg" "$kdir"
        # Keep the cache small: drop other kernels and their initramfs images.
        local old
        for old in "$cache"/linux-image-*; do
            [[ $old == "$kdir" ]] || rm -rf "$old"
        done
    fi
    if [[ -z ${GLINT_HARNESS_KERNEL_PKG:-} ]]; then echo "$pkg" >"$stamp"; fi
}

# ---------------------------------------------------------------- initramfs
prepare_initramfs() {
    local key staging
    key=$( {
        # contents only (not paths): every checkout with the same init.sh shares one image
        sha256sum <"$init_script"
        sha256sum <"$busybox"
        sha256sum <"$kdir/modules.load"
        cat "$kdir/version"
    } | sha256sum | cut -c1-16)
    initrd=$kdir/initramfs-$key.cpio.gz
    # Images of other init.sh versions (other checkouts may be using them right now) go after a day unused.
    find "$kdir" -maxdepth 1 -name 'initramfs-*.cpio.gz' ! -name "${initrd##*/}" -mmin +1440 -delete 2>/dev/null
    if [[ -f $initrd ]]; then
        touch "$initrd"
        return
    fi
    staging=$(mktemp -d "$cache/tmp.XXXXXX") || die $EX_INITRAMFS "cannot create a folder in $cache"
    if ! { mkdir -p "$staging/root/bin" "$staging/root/lib/modules" &&
        cp "$busybox" "$staging/root/bin/busybox" &&
        cp "$init_script" "$staging/root/init" &&
        chmod 755 "$staging/root/init" "$staging/root/bin/busybox" &&
        cp "$kdir"/modules/*.ko "$staging/root/lib/modules/" &&
        cp "$kdir/modules.load" "$staging/root/modules.load"; }; then
        rm -rf "$staging"
        die $EX_INITRAMFS "could not stage the initramfs"
    fi
    if ! (cd "$staging/root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) \
        >"$staging/initrd" 2>"$staging/log"; then
        cat "$staging/log" >&2
        rm -rf "$staging"
        die $EX_INITRAMFS "cpio/gzip failed"
    fi
    mv "$staging/initrd" "$initrd" || die $EX_INITRAMFS "could not write $initrd"
    rm -rf "$staging"
}

ensure_packages
mkdir -p "$cache" || die $EX_KERNEL "cannot create the cache folder $cache"
command -v flock >/dev/null || die $EX_PACKAGE "flock not found (package util-linux)"
exec 9>"$cache/lock"
flock 9 # one preparer at a time; readers of a finished cache are not blocked for long
rm -rf "$cache"/tmp.* # left over by an interrupted preparation (they are only used under the lock)
prepare_kernel
prepare_initramfs
flock -u 9
exec 9>&-
if ((prepare_only)); then
    note "cache ready: $kdir ($(du -sh "$kdir" | cut -f1))"
    if (($# == 0)); then exit 0; fi
fi

# ---------------------------------------------------------------- the run script
work=$(mktemp -d "${TMPDIR:-/tmp}/glint-harness.XXXXXX") || die $EX_BOOT "cannot create a temporary folder"
mkdir "$work/ctl"
qpid=
# shellcheck disable=SC2317 # called from the traps
cleanup() {
    if [[ -n $qpid ]]; then kill "$qpid" 2>/dev/null; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'note "interrupted"; exit 130' INT
trap 'note "terminated"; exit 143' TERM HUP

cwd=$(pwd -P 2>/dev/null) || cwd=
[[ -n $cwd && -d $cwd ]] || die $EX_USAGE "cannot determine the current directory (deleted?)"
{
    export_var() { printf 'export %s=%q\n' "$1" "$2"; }
    for name in PATH HOME USER LOGNAME LANG LC_ALL TZ TMPDIR TERM CC CXX CFLAGS LDFLAGS \
        ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS MAKEFLAGS CMAKE_BUILD_PARALLEL_LEVEL \
        $(compgen -e | grep -E '^(GLINT_|CTEST_)'); do
        if [[ -n ${!name+set} ]]; then export_var "$name" "${!name}"; fi
    done
    for spec in "${extra_env[@]}"; do
        if [[ $spec == *=* ]]; then
            export_var "${spec%%=*}" "${spec#*=}"
        elif [[ -n ${!spec+set} ]]; then
            export_var "$spec" "${!spec}"
        fi
    done
    echo 'export GLINT_IN_HARNESS=1'
    printf 'cd -- %q || exit 1\n' "$cwd"
    printf 'exec'
    printf ' %q' "$@"
    printf '\n'
} >"$work/ctl/run.sh"
echo "$BASH" >"$work/ctl/shell"
printf '%s' "$cwd" >"$work/ctl/cwd"
stdout_tty=0
if [[ -t 1 ]]; then stdout_tty=1; fi
echo "$stdout_tty" >"$work/ctl/tty"
# The exit marker carries a per-run nonce, so that output of the command can never fake it.
nonce=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
echo "$nonce" >"$work/ctl/nonce"

# ---------------------------------------------------------------- boot
kernel=$kdir/vmlinux
[[ -f $kernel ]] || kernel=$kdir/vmlinuz
# shellcheck disable=SC2054 # the commas are QEMU's
qemu_args=(
    -machine q35 -accel tcg,thread=multi -cpu "$cpu" -smp "$smp" -m "$mem"
    -display none -vga none -nic none -monitor none -serial stdio -no-reboot
    -kernel "$kernel" -initrd "$initrd"
    -append "console=ttyS0 quiet panic=-1 $kernel_args rdinit=/init"
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,multidevs=remap"
    -virtfs "local,path=${work//,/,,}/ctl,mount_tag=glintctl,security_model=none"
)

log=$work/console.log
mkfifo "$work/console" || die $EX_BOOT "mkfifo failed"

# Echo the console after GLINT_HARNESS_INIT, without the marker lines, and keep all of it in $log.
show_console() {
    if [[ $verbose == 1 ]]; then
        tee "$log" | sed -u 's/\r$//'
    else
        # Print from the INIT marker to the nonce-carrying EXIT marker, dropping the markers (text before the
        # EXIT marker on its line is command output without a final newline).
        tee "$log" | sed -u -n -e 's/\r$//' \
            -e "/^GLINT_HARNESS_INIT\$/,/GLINT_HARNESS_EXIT=[0-9]* $nonce\$/{" \
            -e '/^GLINT_HARNESS_INIT$/d' -e '/^GLINT_HARNESS_FAIL=/d' \
            -e "/GLINT_HARNESS_EXIT=[0-9]* $nonce\$/{s/GLINT_HARNESS_EXIT=[0-9]* $nonce\$//;/^\$/d;}" \
            -e p -e '}'
    fi
}

start=$SECONDS
vnote "booting: $qemu ${qemu_args[*]}"
show_console <"$work/console" &
fpid=$!
timeout --foreground -k 10 "$timeout_s" "$qemu" "${qemu_args[@]}" </dev/null >"$work/console" 2>"$work/qemu.err" &
qpid=$!
wait "$qpid"
qrc=$?
qpid=
wait "$fpid"
vnote "VM ran for $((SECONDS - start)) s (qemu status $qrc)"

marker() { tr -d '\r' <"$log" | grep -a -E "^$1" | tail -n1; }
exit_line=$(tr -d '\r' <"$log" | grep -a -o -E "GLINT_HARNESS_EXIT=[0-9]+ $nonce\$" | tail -n1)
fail_line=$(marker 'GLINT_HARNESS_FAIL=')
boot_tail() {
    echo "--- serial console (last 30 lines) ---" >&2
    tr -d '\r' <"$log" | tail -n 30 >&2
    if [[ -s $work/qemu.err ]]; then
        echo "--- QEMU's messages ---" >&2
        cat "$work/qemu.err" >&2
    fi
}

if [[ -n $exit_line ]]; then
    exit_line=${exit_line#GLINT_HARNESS_EXIT=}
    exit "${exit_line%% *}"
fi
if ((qrc == 124 || qrc == 137)); then
    die $EX_TIMEOUT "timed out after $timeout_s s (--timeout); the VM was killed"
fi
if [[ -n $fail_line ]]; then
    fail_line=${fail_line#GLINT_HARNESS_FAIL=}
    kind=${fail_line%% *}
    msg=${fail_line#* }
    [[ $verbose == 1 ]] || boot_tail
    case $kind in
        module) die $EX_MODULE "kernel module failed to load in the VM: $msg" ;;
        nokvm) die $EX_NOKVM "$msg (does '$qemu -cpu max' offer SVM?)" ;;
        *) die $EX_SETUP "setup inside the VM failed ($kind): $msg" ;;
    esac
fi
if [[ -z $(marker 'GLINT_HARNESS_INIT$') ]]; then
    [[ $verbose == 1 ]] || boot_tail
    die $EX_BOOT "QEMU failed to boot the VM (status $qrc; no GLINT_HARNESS_INIT marker on the console)"
fi
[[ $verbose == 1 ]] || boot_tail
die $EX_LOST "the VM stopped before the command finished (qemu status $qrc; kernel panic or crash?)"
