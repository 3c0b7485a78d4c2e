# Reading pf_stub's knobs never waits for a VF change: a monitor or a udev ATTR{} match reading
# sriov_policy, sriov_lock or sriov_vf_token while 64 VFs are being disabled (the PCI core's
# one-second wait and more) gets its answer at once, and sees the state from before the change.
is_rust || exit 77
[ -n "$NVME_PF" ] || exit 77
pf=$NVME_PF
insmod "$PFSTUB_KO" || fail "insmod failed"
bind_to "$pf" || fail "$pf did not bind"
n=$(totalvfs "$pf")
expect_write OK "$SYS/$pf/sriov_numvfs" "$n"
expect_write OK "$SYS/$pf/sriov_lock" unlock
echo 0 >"$SYS/$pf/sriov_numvfs" &
job=$!
sleep 0.3
kill -0 "$job" 2>/dev/null || fail "the disable of $n VFs ended before the reads could start"
for i in 1 2 3; do
	for k in sriov_policy sriov_lock sriov_vf_token sriov_vf_autoprobe sriov_vf_driver; do
		cat "$SYS/$pf/$k" >/dev/null || fail "reading $k failed"
	done
done
kill -0 "$job" 2>/dev/null || fail "knob reads waited for the disable of $n VFs to end"
[ "$(cat "$SYS/$pf/sriov_lock")" = unlocked ] || fail "sriov_lock does not read unlocked"
wait "$job"
expect_vfs "$pf" 0
unbind "$pf"
rmmod pf_stub || fail "rmmod failed"
