# Module parameters: num_vfs= enables (and locks) VFs at bind, capped at sriov_totalvfs;
# addrs= narrows binding to listed PFs, with per-PF @N counts; bad values refuse the load.
is_rust || exit 77
IDS=ids=8086:10c9,1b36:0010
insmod "$PFSTUB_KO" $IDS num_vfs=3 || fail "insmod num_vfs=3 failed"
for pf in $PFS; do
	[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf not bound"
	expect_vfs "$pf" 3
	[ "$(cat "$SYS/$pf/sriov_lock")" = locked ] || fail "num_vfs VFs not locked"
	expect_write OK "$SYS/$pf/sriov_lock" unlock
done
rmmod pf_stub || fail "rmmod failed"
for pf in $PFS; do expect_vfs "$pf" 0; done

log_mark
insmod "$PFSTUB_KO" $IDS num_vfs=1000 policy=simple || fail "insmod num_vfs=1000 failed"
for pf in $PFS; do expect_vfs "$pf" "$(totalvfs "$pf")"; done
expect_log "num_vfs=1000 capped at sriov_totalvfs"
rmmod pf_stub || fail "rmmod failed"

if [ -n "$IGB_PF" ] && [ -n "$NVME_PF" ]; then
	log_mark
	insmod "$PFSTUB_KO" $IDS addrs="$IGB_PF" || fail "insmod addrs= failed"
	[ "$(driver_of "$IGB_PF")" = pf_stub ] || fail "listed PF not bound"
	[ -z "$(driver_of "$NVME_PF")" ] || fail "unlisted PF bound"
	expect_log "refusing to bind: address not in addrs="
	rmmod pf_stub
	short=${NVME_PF#0000:}
	insmod "$PFSTUB_KO" $IDS addrs="$IGB_PF@2,$short@5" || fail "insmod addrs=@N failed"
	expect_vfs "$IGB_PF" 2
	expect_vfs "$NVME_PF" 5
	for pf in $PFS; do expect_write OK "$SYS/$pf/sriov_lock" unlock; done
	rmmod pf_stub
fi

for bad in policy=foo policy=Locked vf_autoprobe=2 vf_autoprobe=-1 vf_driver=bad/name num_vfs=abc \
	num_vfs=-1 num_vfs=3x num_vfs=65536 addrs=zz addrs=01:00.0@x addrs=01:00.0@ addrs=01:00 \
	addrs=01:20.0 addrs=01:00.8 addrs=1:2:3:4.0 addrs=01:00.0,01:00.0 ids=8086 ids= addrs= policy= vf_driver= \
	"vf_driver=0123456789012345678901234567890123456789"; do
	log_mark
	if insmod "$PFSTUB_KO" "$bad" 2>/dev/null; then fail "insmod $bad succeeded"; fi
	[ -d /sys/bus/pci/drivers/pf_stub ] && fail "driver registered with $bad"
	dmesg | grep -q "pf_stub" || fail "no log line for $bad"
done
true
