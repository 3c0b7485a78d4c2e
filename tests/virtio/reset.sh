# A function reset of the PF under traffic (`echo 1 > reset`, pci_reset_function()): pf_stub's
# reset_prepare/reset_done keep the VF count, the lock and the token, and the PCI core restores
# SR-IOV, so the same VFs are there afterwards; this asserts that their traffic resumes too.
#
# It does not today (Linux 7.2 and 7.3, QEMU 11.1): the PF's reset resets the VFs under
# virtio_net without telling their driver (the core calls only the PF driver's reset_prepare and
# reset_done; virtio-pci's own reset_prepare/reset_done, which would quiesce and restore each
# VF, are never called for them), the VF's virtio status reads 0, the stream stops and the
# interface's transmit queue times out. Disabling such VFs afterwards hangs in virtnet_remove()
# (disable_work_sync()). So the VFs are locked with a token of this scenario's own, which
# reset_all does not know: a failure leaves them enabled and the boot ends, instead of hanging
# in the clean-up (pf_stub stays loaded: run it alone, or last). Not part of `make test` or
# `make test-distro` until the VFs' drivers hear of the reset (one way, not tried: pf_stub's
# reset_prepare/reset_done calling the VF drivers' own).
is_rust || exit 77
T=7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f
virtio_token_vfs "$T" 4
virtio_vf0_traffic
ping_start "$n0" 30 0.2
sleep 2
log_mark
echo 1 >"$d/reset" || fail "reset of $pf failed"
expect_log "reset of the PF: its 4 VFs are reset with it"
expect_log "reset done: 4 VFs, locked, token set"
expect_vfs "$pf" 4
[ "$(vf_of "$pf" 0)" = "$vf0" ] && [ "$(driver_of "$vf0")" = virtio-pci ] || fail "VF0 changed"
[ "$(cat "$d/sriov_lock")" = locked ] && [ "$(cat "$d/sriov_vf_token")" = set ] || fail "lock or token lost"
ping_result "$n0"
note "stream through $n0 across the PF reset: $PING_RX/$PING_TX answered; VF0's virtio status $(cat "$SYS/$vf0"/virtio*/status)"
sleep 2
expect_traffic "$n0" 10
expect_write OK "$d/sriov_lock" "unlock $T"
expect_write OK "$d/sriov_numvfs" 0
unbind "$pf"
rmmod pf_stub || fail "rmmod failed"
