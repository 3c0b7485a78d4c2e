#!/bin/bash
# Runs inside the Debian 13 test host (scripts/host-image.sh) at every boot, from the test disk
# tests/host/run.sh makes (pf-stub-test.service mounts it on /run/pf-stub-test). The boot number
# is kept in /var/lib/pf-stub-test/boot; each boot runs its flows, prints one
# `PFSTUB-TAP ok NAME` or `PFSTUB-TAP not ok NAME # why` line per case on the serial console,
# then reboots or powers off. FLOWS (the test disk's config): main (1 boot) or all (3 boots).
# The image comes with pf-stub-dkms installed by apt and the admin's configuration written
# (tests/host/admin: modprobe.d, modules-load.d), as on a host about to reboot into it.
#
#   boot 1  the package's module for this kernel; the igb PF on pf_stub (never igb, whose module
#           is loaded) with 4 locked VFs on vfio-pci in IOMMU groups; main: power off;
#           all: driverctl set-override on the NVMe PF, reboot
#   boot 2  persistence again, the NVMe PF on pf_stub through driverctl; udev PF_STUB_EVENT
#           uevents and a rule; libvirt with a VF hostdev; a domain holding a VF left running;
#           reboot
#   boot 3  the previous boot's kernel log; persistence after that reboot; apt remove; power off
set -u
# The serial console is shared with the login prompt of serial-getty@ttyS0, whose start hangs up
# (vhangup) every file already open on the tty: a test that opened it first loses its output.
# The getty goes, and the console is opened again after it.
systemctl stop serial-getty@ttyS0.service 2>/dev/null
exec >/dev/ttyS0 2>&1
T=/run/pf-stub-test
FLOWS=main
[ -f "$T/config" ] && . "$T/config"
state=/var/lib/pf-stub-test
mkdir -p "$state"
boot=$(($(cat "$state/boot" 2>/dev/null || echo 0) + 1))
echo "$boot" >"$state/boot"
sync
SYS=/sys/bus/pci/devices
IGB_ID=8086:10c9 NVME_ID=1b36:0010
IGB_VFS=4 NVME_VFS=2
T_TOKEN=9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d

say() { echo "PFSTUB-HOST [$(cut -d' ' -f1 /proc/uptime) s] $*"; }
note() { echo "# $*"; }
tap() { # tap NAME FUNCTION...: one test case
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^# //; s/^/# /'
	# A check that failed fails the case, whatever the function went on to do.
	printf '%s\n' "$out" | grep -q '^FAIL: ' && rc=1
	if [ "$rc" = 0 ]; then echo "PFSTUB-TAP ok $name"; else echo "PFSTUB-TAP not ok $name"; fi
	return "$rc"
}
fail() {
	echo "FAIL: $*"
	return 1
}
pf_of() { # pf_of VENDOR:DEVICE: the first PCI function with that ID and an SR-IOV capability
	local d
	for d in "$SYS"/*; do
		[ -e "$d/sriov_totalvfs" ] || continue
		[ "$(sed 's/^0x//' "$d/vendor"):$(sed 's/^0x//' "$d/device")" = "$1" ] && { basename "$d"; return 0; }
	done
	return 1
}
driver_of() { [ -e "$SYS/$1/driver" ] && basename "$(readlink "$SYS/$1/driver")"; }
vfs_of() { local l; for l in "$SYS/$1"/virtfn*; do [ -e "$l" ] && basename "$(readlink "$l")"; done; }
kmsg_mark() { journalctl -k -o cat -n 0 --show-cursor 2>/dev/null | sed -n 's/^-- cursor: //p'; }
kmsg_since() { journalctl -k -o cat --after-cursor="$1" 2>/dev/null; }
expect_write() { # expect_write OK|ERRNAME FILE VALUE
	local want=$1 f=$2 v=$3 err rc
	err=$( (printf '%s\n' "$v" >"$f") 2>&1)
	rc=$?
	if [ "$want" = OK ]; then
		[ "$rc" = 0 ] || fail "echo '$v' > $f: $err"
	else
		[ "$rc" != 0 ] || fail "echo '$v' > $f succeeded, $want expected"
		case "$want:$err" in
		EPERM:*"not permitted"* | EBUSY:*busy* | EACCES:*"denied"* | EINVAL:*"Invalid argument"*) ;;
		*) fail "echo '$v' > $f: '$err', $want expected" ;;
		esac
	fi
}
wait_until() { # wait_until SECONDS COMMAND...
	local i=0 n=$(($1 * 2))
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -le "$n" ] || return 1
		sleep 0.5
	done
}
IGB=$(pf_of "$IGB_ID") || IGB=""
NVME=$(pf_of "$NVME_ID") || NVME=""

# A PF on pf_stub with N VFs, locked, each VF on vfio-pci in an IOMMU group of its own with its
# /dev/vfio node.
pf_ready() { # pf_ready PF N
	local pf=$1 n=$2 vf grp c=0
	[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf on '$(driver_of "$pf")', not pf_stub"
	[ "$(cat "$SYS/$pf/sriov_numvfs")" = "$n" ] || fail "$pf: sriov_numvfs $(cat "$SYS/$pf/sriov_numvfs"), not $n"
	[ "$(cat "$SYS/$pf/sriov_lock")" = locked ] || fail "$pf: sriov_lock $(cat "$SYS/$pf/sriov_lock")"
	for vf in $(vfs_of "$pf"); do
		c=$((c + 1))
		[ "$(driver_of "$vf")" = vfio-pci ] || fail "$vf on '$(driver_of "$vf")', not vfio-pci"
		grp=$(basename "$(readlink "$SYS/$vf/iommu_group")") || fail "$vf has no IOMMU group"
		[ -c "/dev/vfio/$grp" ] || fail "$vf: no /dev/vfio/$grp"
		[ "$(ls "/sys/kernel/iommu_groups/$grp/devices")" = "$vf" ] || fail "$vf: group $grp is shared"
	done
	[ "$c" = "$n" ] || fail "$pf: $c virtfn links, not $n"
}
wait_ready() { wait_until 60 pf_ready "$@"; pf_ready "$@"; }

persistence() { # after a boot with the configuration: igb PF on pf_stub, never on igb
	[ -n "$IGB" ] || fail "no igb PF ($IGB_ID)"
	wait_ready "$IGB" "$IGB_VFS" || return 1
	grep -q '^igb ' /proc/modules || fail "the native igb module is not loaded (it should be, and lose)"
	journalctl -k -b -o cat | grep -q "^igb $IGB" && fail "igb bound $IGB during this boot: $(journalctl -k -b -o cat | grep "^igb $IGB" | head -n 3)"
	note "$IGB on pf_stub, $IGB_VFS VFs locked on vfio-pci: $(for v in $(vfs_of "$IGB"); do printf '%s(group %s) ' "$v" "$(basename "$(readlink "$SYS/$v/iommu_group")")"; done)"
	note "modules: $(grep -oE '^(pf_stub|igb|igbvf|vfio_pci|vfio) ' /proc/modules | tr -d ' ' | tr '\n' ' ')"
	note "pf_stub: $(journalctl -k -b -o cat | grep -E "pf_stub $IGB" | head -n 4 | tr '\n' '|')"
	return 0
}
driverctl_persist() {
	[ -n "$NVME" ] || fail "no NVMe PF ($NVME_ID)"
	wait_ready "$NVME" "$NVME_VFS" || return 1
	driverctl list-overrides | grep "^$NVME pf_stub" >/dev/null || fail "driverctl list-overrides: $(driverctl list-overrides)"
	[ "$(cat "$SYS/$NVME/driver_override")" = pf_stub ] || fail "driver_override $(cat "$SYS/$NVME/driver_override")"
	note "$NVME: driverctl override pf_stub, $NVME_VFS VFs locked on vfio-pci"
}

installed() { # the package as apt installed it in the image: DKMS built pf_stub for this kernel
	local ko
	dpkg-query -W -f '${Package} ${Version} ${Status}\n' pf-stub-dkms | grep 'install ok installed' || fail "pf-stub-dkms not installed"
	dkms status pf_stub | grep "$(uname -r)" | grep -q installed || fail "dkms status: $(dkms status pf_stub)"
	ko=$(modinfo -n pf_stub) || fail "modinfo pf_stub"
	case "$ko" in */updates/dkms/pf_stub.ko*) ;; *) fail "pf_stub is $ko" ;; esac
	note "$(dkms status pf_stub); $ko; vermagic $(modinfo -F vermagic pf_stub)"
	modinfo -n igb >/dev/null || fail "no native igb module in the image"
	note "native driver: $(modinfo -n igb)"
	note "configuration: $(grep -hv '^#' /etc/modprobe.d/pf_stub.conf /etc/modules-load.d/pf_stub.conf | tr '\n' '|')"
}

driverctl_set() { # driverctl set-override: pf_stub takes the NVMe PF from nvme at once
	[ -n "$NVME" ] || fail "no NVMe PF ($NVME_ID)"
	note "$NVME on '$(driver_of "$NVME")' before driverctl"
	driverctl set-override "$NVME" pf_stub || fail "driverctl set-override $NVME pf_stub"
	wait_ready "$NVME" "$NVME_VFS" || return 1
	ls /etc/driverctl.d/
	note "$NVME on pf_stub with $NVME_VFS VFs (addrs=...@$NVME_VFS), locked, on vfio-pci"
}
udev_events() { # pf_stub's uevents seen by udev, and a rule acting on one
	local mon rule=/etc/udev/rules.d/90-pf-stub-test.rules
	cat >"$rule" <<'EOF'
ACTION=="change", SUBSYSTEM=="pci", ENV{PF_STUB_EVENT}=="locked", RUN+="/bin/sh -c 'echo $kernel $env{PF_STUB_EVENT} >>/run/pf-stub-udev-rule.log'"
EOF
	udevadm control --reload
	rm -f /run/pf-stub-udev-rule.log
	udevadm monitor --udev --property --subsystem-match=pci >/run/pf-stub-monitor.log 2>&1 &
	mon=$!
	sleep 1
	expect_write OK "$SYS/$NVME/sriov_lock" unlock || { kill $mon; return 1; }
	expect_write OK "$SYS/$NVME/sriov_numvfs" 0 || { kill $mon; return 1; }
	expect_write OK "$SYS/$NVME/sriov_numvfs" "$NVME_VFS" || { kill $mon; return 1; }
	udevadm settle
	wait_until 20 grep -q 'PF_STUB_EVENT=locked' /run/pf-stub-monitor.log
	wait_until 10 test -s /run/pf-stub-udev-rule.log
	kill $mon
	grep -E 'PF_STUB_|^UDEV ' /run/pf-stub-monitor.log | grep -B1 PF_STUB_EVENT | head -n 20
	for e in unlocked disabled enabled locked; do
		grep -q "PF_STUB_EVENT=$e" /run/pf-stub-monitor.log || fail "no PF_STUB_EVENT=$e in udevadm monitor"
	done
	grep -q 'PF_STUB_NUM_VFS=2' /run/pf-stub-monitor.log || fail "no PF_STUB_NUM_VFS=2"
	grep -q "$NVME locked" /run/pf-stub-udev-rule.log || fail "the rule did not run: $(cat /run/pf-stub-udev-rule.log 2>&1)"
	note "rule: $(cat /run/pf-stub-udev-rule.log)"
	wait_ready "$NVME" "$NVME_VFS"
}

vf_addr_xml() { # <address .../> of a PCI address
	local a=$1
	printf "<address domain='0x%s' bus='0x%s' slot='0x%s' function='0x%s'/>" \
		"${a%%:*}" "$(echo "$a" | cut -d: -f2)" "$(echo "$a" | cut -d: -f3 | cut -d. -f1)" "${a##*.}"
}
define_domain() { # define_domain NAME VF
	cat >"/run/$1.xml" <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>96</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source>$(vf_addr_xml "$2")</source>
    </hostdev>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
	virsh -q define "/run/$1.xml" >/dev/null
}
qemu_holds() { # qemu_holds VF: a QEMU process has the VF's VFIO group open
	local grp pid
	grp=$(basename "$(readlink "$SYS/$1/iommu_group")")
	for pid in $(pgrep -f qemu-system-x86_64); do
		ls -l "/proc/$pid/fd" 2>/dev/null | grep -q -E "/dev/vfio/($grp|devices/)" && return 0
	done
	return 1
}

libvirt_flow() {
	local vf0 vf1 m c
	wait_ready "$IGB" "$IGB_VFS" || return 1
	vf0=$(vfs_of "$IGB" | sed -n 1p)
	vf1=$(vfs_of "$IGB" | sed -n 2p)
	define_domain pfstub-vf "$vf0" || fail "virsh define"
	virsh -q start --paused pfstub-vf || fail "virsh start --paused pfstub-vf"
	note "$(virsh domstate pfstub-vf): QEMU pid $(pgrep -f 'guest=pfstub-vf' | head -n1) holds $vf0"
	qemu_holds "$vf0" || fail "QEMU does not hold $vf0's VFIO group"
	[ "$(driver_of "$vf0")" = vfio-pci ] || fail "$vf0 on $(driver_of "$vf0")"
	# Refusals while a VM holds a VF.
	expect_write EPERM "$SYS/$IGB/sriov_numvfs" 0 || return 1
	# From one non-zero count to another the PCI core itself refuses (EBUSY), before pf_stub.
	expect_write EBUSY "$SYS/$IGB/sriov_numvfs" 2 || return 1
	expect_write OK "$SYS/$IGB/sriov_numvfs" "$IGB_VFS" || return 1
	if rmmod pf_stub 2>/run/rmmod.err; then fail "rmmod pf_stub succeeded with a VF in a running VM"; fi
	note "rmmod pf_stub: $(cat /run/rmmod.err)"
	[ -d /sys/module/pf_stub ] || fail "pf_stub gone"
	# Unbinding pf_stub keeps the VFs (locked, in use); binding again adopts them.
	m=$(kmsg_mark)
	echo "$IGB" >/sys/bus/pci/drivers/pf_stub/unbind || fail "unbind"
	[ -z "$(driver_of "$IGB")" ] || fail "$IGB still on $(driver_of "$IGB")"
	[ "$(vfs_of "$IGB" | wc -l)" = "$IGB_VFS" ] || fail "VFs gone after unbind"
	qemu_holds "$vf0" || fail "QEMU lost $vf0 on unbind"
	echo "$IGB" >/sys/bus/pci/drivers/pf_stub/bind || fail "bind"
	[ "$(driver_of "$IGB")" = pf_stub ] || fail "$IGB not on pf_stub after bind"
	kmsg_since "$m" | grep -E "pf_stub $IGB" | sed 's/^/kernel: /'
	kmsg_since "$m" | grep -q "pf_stub $IGB: adopted $IGB_VFS locked VFs" || fail "no adoption line"
	[ "$(cat "$SYS/$IGB/sriov_lock")" = locked ] || fail "not locked after adoption"
	# virsh nodedev-detach on a VF that pf_stub pinned to vfio-pci (not in use): nothing to do.
	virsh -q nodedev-detach "pci_$(echo "$vf1" | tr ':.' '__')" || fail "virsh nodedev-detach $vf1"
	[ "$(driver_of "$vf1")" = vfio-pci ] || fail "$vf1 on $(driver_of "$vf1") after nodedev-detach"
	note "nodedev-detach $vf1: on $(driver_of "$vf1"), driver_override $(cat "$SYS/$vf1/driver_override")"
	# nodedev-reattach unbinds the VF from vfio-pci, clears its driver_override and probes it for
	# the host's VF driver (igbvf): pf_stub keeps locked VFs from host drivers, so the probe is
	# refused and the pin (driver_override vfio-pci) is back, the VF without a driver until a
	# probe (libvirt 11 of Debian 13, pf_stub since the pin fails closed; igbvf took it before).
	virsh -q nodedev-reattach "pci_$(echo "$vf1" | tr ':.' '__')" 2>&1 | sed 's/^/nodedev-reattach: /'
	note "nodedev-reattach $vf1: on '$(driver_of "$vf1")', driver_override '$(cat "$SYS/$vf1/driver_override")'"
	[ "$(driver_of "$vf1")" != igbvf ] || fail "$vf1 on igbvf after nodedev-reattach: a host driver took a locked VF"
	[ -e "$SYS/$vf1/driver" ] && echo "$vf1" >"$SYS/$vf1/driver/unbind"
	echo vfio-pci >"$SYS/$vf1/driver_override"
	echo "$vf1" >/sys/bus/pci/drivers_probe
	[ "$(driver_of "$vf1")" = vfio-pci ] || fail "$vf1 not back on vfio-pci"
	# virsh destroy releases the VF; then the count can be unlocked and disabled.
	virsh -q destroy pfstub-vf || fail "virsh destroy"
	wait_until 20 sh -c "virsh domstate pfstub-vf | grep -q 'shut off'" || fail "pfstub-vf: $(virsh domstate pfstub-vf)"
	qemu_holds "$vf0" && fail "$vf0 still held after destroy"
	[ "$(driver_of "$vf0")" = vfio-pci ] || fail "$vf0 on '$(driver_of "$vf0")' after destroy (managed='yes' gives it back to ...)"
	expect_write OK "$SYS/$IGB/sriov_lock" unlock || return 1
	expect_write OK "$SYS/$IGB/sriov_numvfs" 0 || return 1
	[ -z "$(vfs_of "$IGB")" ] || fail "VFs left after disable"
	note "destroy released $vf0; unlock and disable worked"
	# Back to the boot state for the next flows: 4 VFs, locked, on vfio-pci, now with a VF token.
	expect_write OK "$SYS/$IGB/sriov_vf_token" "$T_TOKEN" || return 1
	expect_write OK "$SYS/$IGB/sriov_numvfs" "$IGB_VFS" || return 1
	wait_ready "$IGB" "$IGB_VFS"
}

reboot_in_use() { # a VM holding a locked VF while the host reboots
	local vf0
	vf0=$(vfs_of "$IGB" | sed -n 1p)
	[ "$(virsh domstate pfstub-vf 2>/dev/null)" = paused ] || virsh -q start --paused pfstub-vf || fail "virsh start"
	qemu_holds "$vf0" || fail "QEMU does not hold $vf0"
	[ "$(cat "$SYS/$IGB/sriov_lock")" = locked ] || fail "not locked"
	expect_write EACCES "$SYS/$IGB/sriov_lock" unlock
	date +%s >"$state/reboot-start"
	note "rebooting with $vf0 held by the running domain pfstub-vf, the VFs locked with a token"
}
after_reboot() { # the boot after: the shutdown's kernel log is clean
	local k t0 t1
	k=$(journalctl -k -b -1 -o cat) || fail "no previous boot in the journal"
	[ -n "$k" ] || fail "journalctl -k -b -1 is empty"
	if printf '%s\n' "$k" | grep -E 'WARNING:|Oops|BUG:|blocked for more than|Call Trace|hung_task|general protection'; then
		fail "kernel report in the previous boot's log"
	fi
	t0=$(cat "$state/reboot-start")
	t1=$(journalctl -b -1 -o short-unix -n 1 | awk 'NR==1 {print int($1)}')
	note "previous boot: $(printf '%s\n' "$k" | wc -l) kernel lines, none a warning; its last journal entry $((t1 - t0)) s after systemctl reboot"
	note "its last kernel lines: $(printf '%s\n' "$k" | tail -n 3 | tr '\n' '|')"
	[ $((t1 - t0)) -lt 120 ] || fail "shutdown took $((t1 - t0)) s"
}
apt_remove() {
	local k
	DEBIAN_FRONTEND=noninteractive apt-get remove -y pf-stub-dkms 2>&1 | tail -n 8
	dpkg-query -W -f '${Status}\n' pf-stub-dkms 2>/dev/null | grep -q 'ok installed' && fail "still installed"
	k=$(find /lib/modules/ /usr/lib/modules/ -name 'pf_stub.ko*' 2>/dev/null)
	[ -z "$k" ] || fail "left behind: $k"
	modinfo pf_stub >/dev/null 2>&1 && fail "modinfo still finds pf_stub"
	[ -z "$(dkms status pf_stub 2>/dev/null)" ] || fail "dkms status: $(dkms status pf_stub)"
	note "no pf_stub.ko under /lib/modules; dkms status empty"
}

say "boot $boot of the test host (FLOWS=$FLOWS), kernel $(uname -r), $(systemctl is-system-running)"
note "igb PF $IGB, NVMe PF $NVME; IOMMU: $(ls /sys/class/iommu)"
systemd-analyze 2>/dev/null | head -n 1 | sed 's/^/# /'
next=poweroff
case "$boot" in
1)
	tap installed installed
	tap boot1.persistence persistence
	if [ "$FLOWS" = all ]; then
		tap driverctl-set driverctl_set
		next=reboot
	fi
	;;
2)
	tap boot2.persistence persistence
	tap boot2.driverctl driverctl_persist
	tap udev-events udev_events
	tap libvirt libvirt_flow
	tap reboot-in-use reboot_in_use && next=reboot
	;;
3)
	tap reboot-clean-log after_reboot
	tap boot3.persistence persistence
	tap boot3.driverctl driverctl_persist
	tap apt-remove apt_remove
	;;
esac
say "boot $boot done: $next"
sync
systemctl "$next" --no-block
