# Every state change and refusal sends a change uevent on the PF with PF_STUB_* variables that a
# udev rule can match; a hotplug helper in the guest records them.
is_rust || exit 77
cat >/tmp/hotplug <<'HP'
#!/bin/sh
[ -n "$PF_STUB_EVENT" ] && echo "$ACTION $DEVPATH $PF_STUB_EVENT n=$PF_STUB_NUM_VFS attr=$PF_STUB_ATTR err=$PF_STUB_ERROR" >>/tmp/uevents
HP
chmod +x /tmp/hotplug
: >/tmp/uevents
uevents_to /tmp/hotplug
insmod "$PFSTUB_KO" || fail "insmod failed"
pf=${IGB_PF:-$NVME_PF}
d=$SYS/$pf
bind_to "$pf" || fail "$pf did not bind"
expect_write OK "$d/sriov_vf_token" 11111111-2222-3333-4444-555555555555
expect_write OK "$d/sriov_numvfs" 2
expect_write EPERM "$d/sriov_numvfs" 0
expect_write EACCES "$d/sriov_lock" unlock
expect_write OK "$d/sriov_lock" "unlock 11111111-2222-3333-4444-555555555555"
expect_write OK "$d/sriov_numvfs" 0
expect_write OK "$d/sriov_vf_token" clear
expect_write OK "$d/sriov_vf_autoprobe" 1
expect_write EINVAL "$d/sriov_policy" nonsense
sleep 1
uevents_stop
sed 's/^/# uevent: /' /tmp/uevents
for want in "change .*$pf token_set" "change .*$pf enabled n=2" "change .*$pf locked" \
	"change .*$pf refused n= attr=sriov_numvfs err=EPERM" "change .*$pf refused n= attr=sriov_lock err=EACCES" \
	"change .*$pf unlocked" "change .*$pf disabled n=0" "change .*$pf token_cleared" \
	"change .*$pf vf_autoprobe" "change .*$pf refused n= attr=sriov_policy err=EINVAL"; do
	grep -q "$want" /tmp/uevents || fail "no uevent matching '$want'"
done
