# Reproducer of a PCI core deadlock that every PF driver inherits (pf_stub and the C
# pci-pf-stub alike); not part of `make test`, since it leaves the guest hung by design:
#   tests/vm.sh --topology both --no-kunit [--driver c] tests/debug/core-numvfs-remove-deadlock.sh
# sriov_numvfs_store() (drivers/pci/iov.c, 7.2 and 7.3) takes the PF's device lock, then
# pci_rescan_remove_lock; a removal (`echo 1 > remove`) takes pci_rescan_remove_lock, then the
# PF's device lock (pci_stop_dev() -> device_release_driver()). While a third party holds the
# global lock (here a disable of the igb PF's VFs, waiting for vfio-pci's remove of a VF that a
# user holds open), a removal of the NVMe PF queues for it first, then an `sriov_numvfs` write of
# that PF takes its device lock and queues second. When the user lets go, the remover gets the
# lock and waits for the device lock the writer holds while it waits for the lock: both hang for
# good, and with them every rescan, hotplug and `sriov_numvfs` write of the host.
# The scenario passes when both are still blocked 30 s after the VF was released (the deadlock),
# and fails if they returned.
[ -n "$IGB_PF" ] && [ -n "$NVME_PF" ] || exit 77
a=$IGB_PF b=$NVME_PF
load_vfio || fail "vfio-pci did not load"
if is_rust; then insmod "$PFSTUB_KO" policy=simple || fail "insmod failed"; else load_driver || fail "load failed"; fi
bind_to "$a" || fail "$a did not bind"
bind_to "$b" || fail "$b did not bind"
expect_write OK "$SYS/$a/sriov_numvfs" 1
vf=$(basename "$(readlink "$SYS/$a/virtfn0")")
[ "$(driver_of "$vf")" = vfio-pci ] || bind_to "$vf" vfio-pci || fail "$vf not on vfio-pci"
# 1. The third party: the disable holds pci_rescan_remove_lock until the VF's user lets go.
hold_vf_disable "$vf" "$a"
# 2. The removal of the other PF queues for the lock first; 3. its sriov_numvfs write second,
# holding that PF's device lock.
(exec 3<&-; echo 1 >"$SYS/$b/remove") &
rm_pid=$!
sleep 2
(exec 3<&-; echo 2 >"$SYS/$b/sriov_numvfs") &
wr=$!
sleep 2
exec 3<&-
i=0
while { kill -0 "$rm_pid" || kill -0 "$wr"; } 2>/dev/null && [ "$i" -lt 30 ]; do sleep 1; i=$((i + 1)); done
if kill -0 "$rm_pid" 2>/dev/null && kill -0 "$wr" 2>/dev/null; then
	kill -0 "$dis" 2>/dev/null && fail "the first disable is still blocked: not this deadlock"
	note "REPRODUCED with $DRV: remove and sriov_numvfs of $b still blocked 30 s after the VF was released"
	exit 0
fi
fail "no deadlock: the removal and the write returned"
