# PCI errors at the virtio PF's root port under traffic (tests/vm.sh --qmp: QEMU's
# pcie_aer_inject_error into rp3): a non-fatal error (poisoned TLP), then a fatal one (data link
# protocol error, whose recovery resets the link below the root port). This asserts what the
# issue asks: traffic through the same VFs resumes after each recovery, lock and token kept.
#
# Today (Linux 7.3, QEMU 11.1) it does not pass, for reasons outside pf_stub: the VFs' driver,
# virtio-pci, has no error_detected callback, so the core fails the recovery of the whole
# hierarchy ("can't recover (no error_detected callback)", "device recovery failed") and then
# tells pf_stub the PF failed for good ("permanent failure ... the PF is disconnected"). After
# the non-fatal error the device is in fact fine and the stream goes on (40 of 40 seen); after
# the fatal one the link reset has reset the VFs under virtio_net (virtio status 0, transmit
# queue timeouts), the stream stops (11 of 40) and nothing comes back. Disabling such VFs then
# hangs in virtnet_remove(), as after a PF reset (reset.sh): the token is this scenario's own,
# so a failure leaves the VFs enabled (and pf_stub loaded) instead of hanging the clean-up: run
# it alone, last or in a boot of its own. Not wired into `make test` or `make test-distro`.
is_rust || exit 77
[ "${PFSTUB_QMP:-0}" = 1 ] || exit 77
T=8d2e3f40-5b6c-4d7e-9f80-a1b2c3d4e5f6
virtio_token_vfs "$T" 4
virtio_vf0_traffic
wait_log() {
	i=0
	while ! dmesg | grep -q -- "$1"; do
		i=$((i + 1))
		[ "$i" -le 30 ] || return 1
		sleep 1
	done
}
for e in "POISON_TLP non-fatal" "DLP fatal"; do
	set -- $e
	ping_start "$n0" 40 0.2
	sleep 2
	log_mark
	host_request hmp pcie_aer_inject_error rp3 "$1"
	wait_log "device recovery \(successful\|failed\)" || fail "$2 error: no end of recovery in the log"
	sleep 2
	dmesg | grep -E 'AER|pf_stub|virtio' | sed "s/^/# $2: /"
	ping_result "$n0"
	note "$2 error: stream through $n0 $PING_RX/$PING_TX answered; VF0's virtio status $(cat "$SYS/$vf0"/virtio*/status)"
	expect_vfs "$pf" 4
	[ "$(driver_of "$vf0")" = virtio-pci ] || fail "$2 error: $vf0 lost virtio-pci"
	[ "$(cat "$d/sriov_lock")" = locked ] && [ "$(cat "$d/sriov_vf_token")" = set ] || fail "$2 error: lock or token lost"
	expect_log "device recovery successful"
	expect_traffic "$n0" 5
done
expect_write OK "$d/sriov_lock" "unlock $T"
expect_write OK "$d/sriov_numvfs" 0
unbind "$pf"
rmmod pf_stub || fail "rmmod failed"
