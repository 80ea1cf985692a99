# kvm-here.sh: sourced by scripts/test.sh, scripts/demo.sh and bench/run.sh, so that all three decide the
# same way where KVM work runs.  Not a command of its own.
#
# guests_run_here BUILD_DIR: true when a guest really runs on this machine's /dev/kvm.  Asks the probe
# (`glint doctor`, glint_hypervisor_probe()): it creates a VM exactly as sandboxes are set up and runs a
# probe guest (CPL-3 code with SSE, an OUT exit, an exception report).  "/dev/kvm opens" is not enough: a
# paravirtual KVM (PVM) opens and answers every ioctl, and runs only what the guest model allows.  Prints
# the probe's one-line verdict to stderr.  Sets GLINT_KVM_HERE to that line.
guests_run_here() {
    local glint=$1/host/glint line rc
    GLINT_KVM_HERE="no glint CLI built at $glint"
    if [[ ! -x $glint ]]; then
        echo "kvm: $GLINT_KVM_HERE" >&2
        return 1
    fi
    line=$("$glint" doctor --brief 2>&1)
    rc=$?
    GLINT_KVM_HERE=$line
    echo "$line" >&2
    return "$rc"
}
