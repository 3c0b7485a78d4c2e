# A VF whose probe fails is not in use: it does not pin the module, and rmmod works. The driver
# core clears a VF's driver only after it has told the bus that the probe failed, so a count of
# VFs with a driver taken at that moment still counts it. Two failing probes: pf_stub itself
# (it refuses VFs) and, without an IOMMU, vfio-pci loaded without its no-IOMMU mode.
is_rust || exit 77
pf=${IGB_PF:-$NVME_PF}
insmod "$PFSTUB_KO" || fail "insmod failed"
bind_to "$pf" || fail "$pf did not bind"
expect_write OK "$SYS/$pf/sriov_numvfs" 2
[ "$(cat "$SYS/$pf/sriov_lock")" = locked ] || fail "VFs not locked"
vf=$(basename "$(readlink "$SYS/$pf/virtfn0")")
[ -z "$(driver_of "$vf")" ] || fail "$vf bound before the test"
refcnt() { cat /sys/module/pf_stub/refcnt; }
[ "$(refcnt)" = 0 ] || fail "module pinned by idle VFs: refcnt $(refcnt)"
# try_bind VF DRIVER: a probe of VF by DRIVER that must fail.
try_bind() {
	log_mark
	echo "$2" >"$SYS/$1/driver_override"
	echo "$1" >/sys/bus/pci/drivers_probe 2>/dev/null
	[ -z "$(driver_of "$1")" ] || fail "$1 bound to $(driver_of "$1")"
	[ "$(refcnt)" = 0 ] || fail "a failed probe of $1 by $2 pinned the module: refcnt $(refcnt)"
}
try_bind "$vf" pf_stub
expect_log "refusing to bind: device is an SR-IOV VF"
if [ -z "$(ls /sys/class/iommu 2>/dev/null)" ]; then
	# No IOMMU and no no-IOMMU mode: vfio-pci refuses the VF (no IOMMU group).
	modprobe vfio-pci || fail "modprobe vfio-pci failed"
	[ "$(cat /sys/module/vfio/parameters/enable_unsafe_noiommu_mode 2>/dev/null || echo N)" = N ] ||
		fail "vfio in no-IOMMU mode"
	try_bind "$vf" vfio-pci
	expect_log "probe with driver vfio-pci failed"
fi
expect_vfs "$pf" 2
rmmod pf_stub || {
	expect_write OK "$SYS/$pf/sriov_lock" unlock
	fail "rmmod refused after failed VF probes: refcnt $(refcnt)"
}
expect_vfs "$pf" 0
