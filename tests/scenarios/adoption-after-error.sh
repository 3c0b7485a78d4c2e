# A fatal PCI error while pf_stub is unbound and keeps locked VFs for adoption: the error's
# recovery resets the bus below the root port (QEMU's pcie_aer_inject_error, tests/vm.sh --qmp),
# which clears the PF's VF Enable, and nobody restores it (the PF has no driver). The next bind
# must not adopt dead VFs: it restores the PF's configuration (VF Enable and the count) and the
# VFs answer again, or it refuses the adoption; never "adopted" with VFs whose config space
# reads all ones.
is_rust || exit 77
[ "${PFSTUB_QMP:-0}" = 1 ] && [ -n "$IGB_PF" ] || exit 77
pf=$IGB_PF
T=1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d
load_vfio || fail "vfio-pci did not load"
insmod "$PFSTUB_KO" || fail "insmod failed"
lock_vfs_in_use "$pf" "$T" 2
vf=$VF0
# class: the VF's class code read from its config space (all ones when it does not answer).
class() { od -An -tx1 -j9 -N3 "$SYS/$vf/config" | tr -d ' \n'; }
[ "$(class)" != ffffff ] || fail "$vf does not answer before the error"
unbind "$pf"
expect_vfs "$pf" 2
log_mark
host_request hmp pcie_aer_inject_error rp1 DLP
i=0
while ! dmesg | grep -q "device recovery \(successful\|failed\)"; do
	i=$((i + 1))
	[ "$i" -le 30 ] || { dmesg | tail -n 20 | sed "s/^/# log: /"; fail "no end of recovery in the log"; }
	[ "$i" = 15 ] && host_request hmp pcie_aer_inject_error rp1 DLP
	sleep 1
done
sleep 1
note "after the fatal error, with no PF driver: $vf class '$(class)'"
log_mark
bind_to "$pf" || fail "$pf did not bind"
if dmesg | grep -q "adopted 2 locked VFs"; then
	[ "$(class)" != ffffff ] || fail "adopted 2 locked VFs whose config space reads all ones ($vf dead in hardware)"
	expect_log "VF Enable was clear"
	[ "$(cat "$SYS/$pf/sriov_vf_token")" = set ] || fail "token lost across the adoption"
	note "adopted after restoring VF Enable: $vf class $(class)"
else
	expect_log "not adopting the 2 kept VFs"
fi
expect_write OK "$SYS/$pf/sriov_lock" "unlock $T"
for l in "$SYS/$pf"/virtfn*; do
	v=$(basename "$(readlink "$l")")
	[ -e "$SYS/$v/driver" ] && echo "$v" >"$SYS/$v/driver/unbind"
done
expect_write OK "$SYS/$pf/sriov_numvfs" 0
unbind "$pf"
rmmod pf_stub || fail "rmmod failed"
