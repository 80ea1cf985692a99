#!/bin/busybox sh
# /init of the Glint KVM test harness VM (see tests/harness/kvm-harness.sh and docs/testing.md).
#
# Runs as PID 1 from a busybox-only initramfs.  Loads the modules listed in /modules.load (kvm-amd and
# the virtio/9p stack), mounts the host's root filesystem (9p tag "hostroot") on /host and the harness
# control folder (9p tag "glintctl") on /ctl, chroots into the host root and runs /ctl/run.sh there with
# bash.  Everything goes to the serial console.  The host side parses these marker lines:
#   GLINT_HARNESS_INIT              init started
#   GLINT_HARNESS_FAIL=<kind> <msg> setup failed (kind: module, nokvm, mount, chroot, cwd)
#   GLINT_HARNESS_EXIT=<code> <nonce>  the command finished with <code> (nonce: from the host, per run;
#                                   printed right after the command's output, which may lack a newline)
# Then it powers the VM off (QEMU runs with -no-reboot; panic=-1 turns a crash into an exit as well).

export PATH=/bin:/sbin
/bin/busybox mkdir -p /bin /sbin /proc /sys /dev /host /ctl /tmp
/bin/busybox --install -s /bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# Loopback networking (no NIC): gdb talks to the gdb stub over 127.0.0.1.
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null
# Raw output: no CR before LF from the tty layer (the host side strips CRs anyway).
stty -onlcr 2>/dev/null

echo GLINT_HARNESS_INIT

fail() {
    kind=$1
    shift
    echo "GLINT_HARNESS_FAIL=$kind $*"
    echo "--- last kernel messages ---"
    dmesg 2>/dev/null | tail -n 25
    sync
    poweroff -f
    sleep 5
    exit 1
}

while read -r mod; do
    [ -n "$mod" ] || continue
    if ! out=$(insmod "/lib/modules/$mod.ko" 2>&1); then
        fail module "$mod: $out"
    fi
done </modules.load

[ -c /dev/kvm ] || fail nokvm "/dev/kvm does not exist after loading kvm-amd"

p9opts=trans=virtio,version=9p2000.L,msize=512000
# cache=mmap: writable MAP_SHARED mappings of files work (the default cache=none refuses them).
mount -t 9p -o "$p9opts,cache=mmap" hostroot /host 2>/dev/null ||
    fail mount "could not mount the host root filesystem (9p tag hostroot)"
mount -t 9p -o "$p9opts" glintctl /ctl 2>/dev/null ||
    fail mount "could not mount the control folder (9p tag glintctl)"

mount -t proc proc /host/proc || fail mount "proc in the chroot"
mount -t sysfs sysfs /host/sys || fail mount "sysfs in the chroot"
mount -t devtmpfs devtmpfs /host/dev || fail mount "devtmpfs in the chroot"
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /host/dev/pts 2>/dev/null
mount -t tmpfs tmpfs /host/dev/shm 2>/dev/null

cwd=$(cat /ctl/cwd)
[ -d "/host$cwd" ] || fail cwd "the working directory $cwd does not exist inside the VM"

shell=$(cat /ctl/shell)
[ -x "/host$shell" ] || fail chroot "no $shell in the host root"

# The command: env -i so that only what run.sh exports is seen; stdin from /dev/null.  Its output goes
# to the console (a tty) only when the caller's stdout is a terminal too; otherwise through a pipe, so
# that programs behave as they do on the host when piped (no colours, same buffering).
run() { env -i /bin/chroot /host "$shell" -c "$(cat /ctl/run.sh)" glint-harness </dev/null; }
if [ "$(cat /ctl/tty)" = 1 ]; then
    run
    code=$?
else
    # shellcheck disable=SC3040 # busybox ash has pipefail
    set -o pipefail
    run 2>&1 | cat
    code=$?
fi

echo "$code" >/ctl/exit-code 2>/dev/null
sync
echo "GLINT_HARNESS_EXIT=$code $(cat /ctl/nonce)"
poweroff -f
sleep 5
