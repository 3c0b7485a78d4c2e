# The lock under traffic: while pings stream through two VFs in use by virtio_net, every
# sriov_numvfs write that changes the count is refused (0: EPERM, the lock; another non-zero
# count: the core's EBUSY first) with the VFs untouched, and the streams lose nothing.
is_rust || exit 77
virtio_stub_pf
expect_write OK "$d/sriov_numvfs" 4
vf0=$(vf_of "$pf" 0) vf3=$(vf_of "$pf" 3)
n0=$(net_up "$vf0") || fail "$vf0: no network interface"
n3=$(net_up "$vf3") || fail "$vf3: no network interface"
ping_start "$n0" 50 0.2
ping_start "$n3" 50 0.2
sleep 2
log_mark
r=0
while [ "$r" -lt 5 ]; do
	expect_write EPERM "$d/sriov_numvfs" 0
	expect_write EBUSY "$d/sriov_numvfs" 2
	expect_write EBUSY "$d/sriov_numvfs" 8
	expect_write OK "$d/sriov_numvfs" 4
	expect_vfs "$pf" 4
	r=$((r + 1))
	sleep 1
done
expect_log "sriov_numvfs=0 refused: the VF count is locked"
[ "$(vf_of "$pf" 0)" = "$vf0" ] && [ "$(netdev_of "$vf0")" = "$n0" ] || fail "$vf0 changed under the refusals"
note "15 sriov_numvfs writes refused (5 EPERM, 10 EBUSY), 5 of the same count accepted, while the streams ran"
for n in $n0 $n3; do
	ping_result "$n"; set -- "$PING_TX" "$PING_RX"
	note "$n: $2/$1 pings answered during the refused writes"
	[ "${1:-}" = 50 ] && [ "${2:-}" = 50 ] || { sed 's/^/# ping: /' "/tmp/ping.$n"; fail "$n: ${2:-no} of ${1:-no} answered, want 50 of 50"; }
done
expect_write OK "$d/sriov_lock" unlock
expect_write OK "$d/sriov_numvfs" 0
expect_vfs "$pf" 0
unbind "$pf"
rmmod pf_stub || fail "rmmod failed"
