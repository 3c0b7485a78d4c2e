# The in-tree build (vm.sh --kernel intree): pf_stub.ko is installed with the kernel's modules
# as kernel/drivers/pci/pf_stub/pf_stub.ko, marked in tree by modpost, and modprobe finds it by
# name, as a distribution kernel would ship it.
is_rust || exit 77
path=$(modinfo -F filename pf_stub) || fail "modinfo does not know pf_stub"
case "$path" in
*/kernel/drivers/pci/pf_stub/pf_stub.ko) ;;
*) fail "pf_stub is installed as $path, not under kernel/drivers/pci/pf_stub/" ;;
esac
[ "$(modinfo -F intree pf_stub)" = Y ] || fail "pf_stub.ko is not marked intree=Y"
modprobe pf_stub || fail "modprobe pf_stub failed"
[ -d /sys/bus/pci/drivers/pf_stub ] || fail "modprobe loaded no pf_stub driver"
pf=${IGB_PF:-$NVME_PF}
bind_to "$pf" || fail "$pf did not bind"
expect_write OK "$SYS/$pf/sriov_numvfs" 2
expect_vfs "$pf" 2
expect_write OK "$SYS/$pf/sriov_lock" unlock
expect_write OK "$SYS/$pf/sriov_numvfs" 0
unbind "$pf"
modprobe -r pf_stub || fail "modprobe -r pf_stub failed"
[ ! -d /sys/module/pf_stub ] || fail "pf_stub still loaded after modprobe -r"
note "in-tree module $path: modprobe, bind, 2 VFs, modprobe -r"
