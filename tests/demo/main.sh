# The main job: load pf_stub, bind the emulated igb PF with driver_override, create VFs, show them.
show() { echo "guest# $*"; eval "$@"; }
pf=$IGB_PF
[ -n "$pf" ] || fail "no igb PF"
show "insmod $PFSTUB_KO"
show "echo pf_stub > /sys/bus/pci/devices/$pf/driver_override"
show "echo $pf > /sys/bus/pci/drivers_probe"
show "readlink /sys/bus/pci/devices/$pf/driver"
show "cat /sys/bus/pci/devices/$pf/sriov_totalvfs"
show "echo 8 > /sys/bus/pci/devices/$pf/sriov_numvfs"
show "cat /sys/bus/pci/devices/$pf/sriov_numvfs"
echo "guest# ls -l /sys/bus/pci/devices/$pf/virtfn*"
for l in /sys/bus/pci/devices/$pf/virtfn*; do
	vf=$(basename "$(readlink "$l")")
	echo "  $(basename "$l") -> $vf  vendor=$(cat "$SYS/$vf/vendor") device=$(cat "$SYS/$vf/device") class=$(cat "$SYS/$vf/class")"
done
show "dmesg | grep pf_stub"
expect_vfs "$pf" 8
