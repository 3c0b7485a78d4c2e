# Binding by ID: pf_stub's ids= parameter (pci-stub's format) at insmod and modprobe, refusal of
# a malformed ids=, and new_id for both drivers.
if is_rust; then
	log_mark
	if insmod "$PFSTUB_KO" ids=8086:10c9,zz:1 2>/dev/null; then fail "insmod with a bad ids= succeeded"; fi
	[ -d /sys/bus/pci/drivers/pf_stub ] && fail "driver registered despite a bad ids="
	expect_log "refusing to load: invalid ids="
	if insmod "$PFSTUB_KO" ids=8086:10c9:1:2:3:4:5 2>/dev/null; then fail "insmod with 7 fields succeeded"; fi

	# ids= binds every matching PF at load, without driver_override.
	insmod "$PFSTUB_KO" ids=8086:10c9,1b36:0010:ffffffff:ffffffff:010802:ffffff || fail "insmod ids= failed"
	[ "$(cat /sys/module/pf_stub/parameters/ids)" = "8086:10c9,1b36:0010:ffffffff:ffffffff:010802:ffffff" ] ||
		fail "ids parameter reads $(cat /sys/module/pf_stub/parameters/ids)"
	for pf in $PFS; do
		[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf not bound by ids="
		[ -e "$SYS/$pf/driver_override" ] && [ "$(cat "$SYS/$pf/driver_override")" = "(null)" ] ||
			fail "$pf has a driver_override"
		expect_write OK "$SYS/$pf/sriov_numvfs" 2
		expect_vfs "$pf" 2
	done
	rmmod pf_stub || fail "rmmod failed"
	for pf in $PFS; do expect_vfs "$pf" 0; done

	# modprobe finds the module through depmod, parameters included.
	modprobe pf_stub ids=8086:10c9 || fail "modprobe pf_stub failed"
	[ -z "$IGB_PF" ] || [ "$(driver_of "$IGB_PF")" = pf_stub ] || fail "modprobe ids= did not bind igb"
	[ -z "$NVME_PF" ] || [ -z "$(driver_of "$NVME_PF")" ] || fail "nvme bound without a matching ID"
	rmmod pf_stub
fi

# new_id: "vendor device" added at run time binds the matching PF.
load_driver || fail "loading $DRV failed"
for pf in $PFS; do
	echo "$(cat "$SYS/$pf/vendor" | cut -c3-) $(cat "$SYS/$pf/device" | cut -c3-)" \
		>"/sys/bus/pci/drivers/$DRV/new_id" || fail "new_id write failed"
	[ "$(driver_of "$pf")" = "$DRV" ] || fail "$pf not bound by new_id"
	expect_write OK "$SYS/$pf/sriov_numvfs" 1
	expect_vfs "$pf" 1
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
done
