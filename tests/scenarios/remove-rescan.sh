# Remove and rescan, back to back, as admin scripts run them: `echo 1 > remove` returns with
# every VF of the removed PF gone, and the PF that the rescan finds again gets new VFs at once,
# from num_vfs= at bind (the admin guide's modprobe.d example) and from a sriov_numvfs write
# right after the rescan; once more while a VFIO user holds one of the old VFs open, whose
# removal waits for it (as under a native PF driver, whose remove disables SR-IOV).
# pf_stub only: the C pci-pf-stub never removes a removed PF's VFs, and the enable after the
# rescan then oopses the guest (the collision this scenario guards against).
is_rust || exit 77
ROUNDS=${PFSTUB_RESCAN_ROUNDS:-5}
T=5f0e4c2a-7b1d-4e3f-9a8b-6c5d4e3f2a1b
load_vfio || fail "vfio-pci did not load"
vfs_of() { for l in "$SYS/$1"/virtfn*; do [ -e "$l" ] && basename "$(readlink "$l")"; done; }
# remove_pf PF: removes PF and checks, the moment `remove` returns, that none of its VFs exists.
remove_pf() {
	local vfs vf
	vfs=$(vfs_of "$1")
	echo 1 >"$SYS/$1/remove" || fail "remove of $1 failed"
	[ -e "$SYS/$1" ] && fail "$1 still present after remove"
	for vf in $vfs; do
		[ -e "$SYS/$vf" ] && fail "$vf of the removed $1 still exists when remove returned"
	done
	[ -z "$(stray_vfs)" ] || fail "VFs outlived their PF when remove returned: $(stray_vfs)"
}
# rescan_bound N: rescans, then checks every PF is back, bound to pf_stub, with N VFs.
rescan_bound() {
	echo 1 >/sys/bus/pci/rescan
	for pf in $PFS; do
		[ "$(driver_of "$pf")" = pf_stub ] || fail "round $r: $pf not bound after the rescan"
		expect_vfs "$pf" "$1"
	done
}
IDS=8086:10c9,1b36:0010:ffffffff:ffffffff:010802:ffffff

# 1. VFs enabled at bind: ids= and num_vfs=, locked and pinned to vfio-pci.
insmod "$PFSTUB_KO" ids=$IDS num_vfs=4 || fail "insmod failed"
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	for pf in $PFS; do
		expect_vfs "$pf" 4
		remove_pf "$pf"
	done
	rescan_bound 4
	r=$((r + 1))
done
note "num_vfs=4 at bind: $ROUNDS rounds of remove and rescan"
for pf in $PFS; do
	expect_write OK "$SYS/$pf/sriov_lock" unlock
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
done
rmmod pf_stub || fail "rmmod failed"

# 2. sriov_numvfs written right after the rescan.
insmod "$PFSTUB_KO" ids=$IDS || fail "insmod failed"
for pf in $PFS; do expect_write OK "$SYS/$pf/sriov_numvfs" 4; done
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	for pf in $PFS; do remove_pf "$pf"; done
	echo 1 >/sys/bus/pci/rescan
	for pf in $PFS; do
		expect_write OK "$SYS/$pf/sriov_numvfs" 4
		expect_vfs "$pf" 4
	done
	r=$((r + 1))
done
note "sriov_numvfs right after the rescan: $ROUNDS rounds"

# 3. A VFIO user holds an old VF open: the removal waits for it, then takes every VF; a rescan
# meanwhile waits for the removal (pci_rescan_remove_lock), and the PF it finds enables VFs.
pf=$IGB_PF
if [ -n "$pf" ]; then
	expect_write OK "$SYS/$pf/sriov_lock" unlock
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
	expect_write OK "$SYS/$pf/sriov_vf_token" "$T"
	expect_write OK "$SYS/$pf/sriov_numvfs" 2
	vf=$(vfs_of "$pf" | head -n 1)
	[ "$(driver_of "$vf")" = vfio-pci ] || fail "$vf not on vfio-pci"
	cdev=$(ls "$SYS/$vf/vfio-dev" 2>/dev/null | head -n 1)
	[ -n "$cdev" ] || fail "$vf has no VFIO cdev"
	i=0
	while ! [ -e "/dev/vfio/devices/$cdev" ] && [ "$i" -lt 5 ]; do sleep 1; i=$((i + 1)); done
fi
if [ -n "$pf" ] && ! [ -e "/dev/vfio/devices/$cdev" ]; then
	# Seen on Debian's stock 7.3.4 (`make test-distro`, 2026-12-08): the cdev is in sysfs but its
	# /dev node did not appear (cause not looked into). The VFIO user is left out there; the
	# remove and the rescan still run.
	note "remove while a VF is held open: skipped, no /dev/vfio/devices/$cdev on this kernel"
	echo 1 >"$SYS/$pf/remove" || fail "remove of $pf failed"
	echo 1 >/sys/bus/pci/rescan
	[ -z "$(stray_vfs)" ] || fail "VFs outlived their PF: $(stray_vfs)"
	[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf not bound after the rescan"
	pf=
fi
if [ -n "$pf" ]; then
	exec 3<"/dev/vfio/devices/$cdev" || fail "cannot open /dev/vfio/devices/$cdev"
	vfs=$(vfs_of "$pf")
	# The background writers must not inherit the open VF (fd 3), or it is never released.
	(exec 3<&-; echo 1 >"$SYS/$pf/remove") &
	rm_pid=$!
	sleep 3
	kill -0 "$rm_pid" 2>/dev/null || fail "remove of $pf returned while $vf was held open"
	(exec 3<&-; echo 1 >/sys/bus/pci/rescan) &
	rs_pid=$!
	sleep 1
	exec 3<&-
	wait "$rm_pid" || fail "remove of $pf failed"
	wait "$rs_pid"
	[ -z "$(stray_vfs)" ] || fail "VFs outlived their PF: $(stray_vfs)"
	[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf not bound after the rescan"
	[ "$(cat "$SYS/$pf/sriov_vf_token")" = unset ] || fail "$pf: the new device inherited a token"
	expect_write OK "$SYS/$pf/sriov_numvfs" 4
	expect_vfs "$pf" 4
	note "remove while $vf was held open: ok"
fi
for pf in $PFS; do
	expect_write OK "$SYS/$pf/sriov_lock" unlock
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
done
rmmod pf_stub || fail "rmmod failed"

# 4. Asynchronous probing asked for (`async_probe=1`, as `driver_async_probe=pf_stub` asks): pf_stub
# probes in the binding thread all the same, so that an enable at bind runs under the rescan's
# lock, never in an async worker racing the enumeration. insmod and the rescan return with every
# PF bound and its VFs enabled.
insmod "$PFSTUB_KO" ids=$IDS num_vfs=2 async_probe=1 || fail "insmod async_probe=1 failed"
for pf in $PFS; do
	[ "$(driver_of "$pf")" = pf_stub ] || fail "async_probe=1: $pf not bound when insmod returned"
	expect_vfs "$pf" 2
	remove_pf "$pf"
done
echo 1 >/sys/bus/pci/rescan
for pf in $PFS; do
	[ "$(driver_of "$pf")" = pf_stub ] || fail "async_probe=1: $pf not bound when the rescan returned"
	expect_vfs "$pf" 2
	expect_write OK "$SYS/$pf/sriov_lock" unlock
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
done
note "async_probe=1: probes ran in the binding thread (insmod and rescan)"
rmmod pf_stub || fail "rmmod failed"
