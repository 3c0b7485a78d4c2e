# Guest-side helpers for pf_stub scenarios. Sourced by /init and by each scenario.
# shellcheck shell=sh

# Driver under test: "rust" (pf_stub) or "c" (the kernel's pci-pf-stub), from the command line.
PFSTUB_DRIVER=rust
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	pfstub.driver=*) PFSTUB_DRIVER=${arg#pfstub.driver=} ;;
	pfstub.kunit=*) PFSTUB_KUNIT=${arg#pfstub.kunit=} ;;
	pfstub.qmp=*) PFSTUB_QMP=${arg#pfstub.qmp=} ;;
	esac
done
if [ "$PFSTUB_DRIVER" = c ]; then
	DRV=pci-pf-stub
	MOD=pci_pf_stub
else
	DRV=pf_stub
	MOD=pf_stub
fi
export DRV MOD PFSTUB_DRIVER
KREL=$(uname -r)
# The out-of-tree build is installed as extra/pf_stub.ko; the in-tree kernel (vm.sh --kernel
# intree) names its own place.
PFSTUB_KO=${PFSTUB_KO:-/lib/modules/$KREL/extra/pf_stub.ko}
SYS=/sys/bus/pci/devices

is_c() { [ "$PFSTUB_DRIVER" = c ]; }
is_rust() { [ "$PFSTUB_DRIVER" = rust ]; }

# Prints a diagnostic line (KTAP comment) and fails the scenario.
fail() {
	echo "# FAIL: $*"
	exit 1
}
note() { echo "# $*"; }

# The PCI address of the first device with vendor:device $1:$2 (hex, no 0x), or nothing.
find_dev() {
	for d in "$SYS"/*; do
		[ "$(cat "$d/vendor")" = "0x$1" ] && [ "$(cat "$d/device")" = "0x$2" ] || continue
		[ -e "$d/physfn" ] && continue
		basename "$d"
		return 0
	done
}

# The emulated PFs: igb (Intel 82576) and nvme (QEMU NVMe with SR-IOV), and a device without
# SR-IOV (QEMU's pci-testdev).
IGB_PF=$(find_dev 8086 10c9)
NVME_PF=$(find_dev 1b36 0010)
NOSRIOV=$(find_dev 1b36 0005)
PFS="$IGB_PF $NVME_PF"
# The virtio topology (tests/vm.sh --topology virtio): a virtio-net PF (1af4:1041, modern) whose 8
# VFs are virtio-net devices too, each function on a QEMU user network of its own. Not in $PFS:
# the igb and nvme scenarios do not run on it; tests/virtio/ does.
VIRTIO_PF=$(find_dev 1af4 1041)

# The core scenarios compare pf_stub with pci_sriov_configure_simple(): pf_stub runs with the
# simple policy and VF autoprobe on, unless a scenario passes its own parameters.
PFSTUB_CORE_PARAMS="policy=simple vf_autoprobe=1"

# Loads the driver under test with module parameters (pf_stub only takes them); with none,
# pf_stub gets $PFSTUB_CORE_PARAMS.
load_driver() {
	if is_rust; then
		# shellcheck disable=SC2086
		if [ $# -eq 0 ]; then set -- $PFSTUB_CORE_PARAMS; fi
		insmod "$PFSTUB_KO" "$@" || return 1
	else
		modprobe pci-pf-stub || return 1
	fi
	[ -d "/sys/bus/pci/drivers/$DRV" ] || fail "driver $DRV did not register"
}

unload_driver() {
	rmmod "$MOD" 2>/dev/null
	! [ -d "/sys/module/$MOD" ]
}

# The name of the driver bound to device $1, or nothing.
driver_of() {
	[ -e "$SYS/$1/driver" ] && basename "$(readlink "$SYS/$1/driver")"
}

# Binds device $1 to driver $2 (default: the driver under test) with driver_override.
bind_to() {
	local d=$1 drv=${2:-$DRV}
	echo "$drv" >"$SYS/$d/driver_override"
	if [ -e "$SYS/$d/driver" ]; then echo "$d" >"$SYS/$d/driver/unbind"; fi
	echo "$d" >/sys/bus/pci/drivers_probe 2>/dev/null
	[ "$(driver_of "$d")" = "$drv" ]
}

unbind() {
	[ -e "$SYS/$1/driver" ] && echo "$1" >"$SYS/$1/driver/unbind"
	true
}

# Writes $3 to $2 and checks the outcome is $1 (OK or an errno name such as ERANGE).
expect_write() {
	local want=$1 got
	got=$(swrite "$2" "$3")
	[ "$got" = "$want" ] || fail "write '$3' > $2: got $got, want $want"
}

numvfs() { cat "$SYS/$1/sriov_numvfs"; }
totalvfs() { cat "$SYS/$1/sriov_totalvfs"; }

# Counts the virtfnN links of PF $1.
count_virtfn() {
	local n=0 l
	for l in "$SYS/$1"/virtfn*; do [ -e "$l" ] && n=$((n + 1)); done
	echo "$n"
}

# Checks PF $1 has exactly $2 VFs: sriov_numvfs, virtfn links, and each VF's physfn link.
expect_vfs() {
	[ "$(numvfs "$1")" = "$2" ] || fail "$1: sriov_numvfs=$(numvfs "$1"), want $2"
	[ "$(count_virtfn "$1")" = "$2" ] || fail "$1: $(count_virtfn "$1") virtfn links, want $2"
	local i=0 vf
	while [ "$i" -lt "$2" ]; do
		vf=$(basename "$(readlink "$SYS/$1/virtfn$i")")
		[ "$(basename "$(readlink "$SYS/$vf/physfn")")" = "$1" ] || fail "$vf: physfn is not $1"
		i=$((i + 1))
	done
}

# The kernel log since the last mark, for asserting log lines.
log_mark() { dmesg -c >/dev/null; }
expect_log() {
	dmesg | grep -q -- "$1" || { dmesg | tail -n 5 | sed 's/^/# log: /'; fail "no log line matching '$1'"; }
}
# wait_log PATTERN [SECONDS]: waits up to SECONDS (30) for a kernel log line matching PATTERN;
# fails (returns 1) without one.
wait_log() {
	local i=0
	while ! dmesg | grep -q -- "$1"; do
		i=$((i + 1))
		[ "$i" -le "${2:-30}" ] || return 1
		sleep 1
	done
}

# The VFs in the system that their PF does not list among its virtfnN: VFs left behind by a
# removed PF (their physfn link names the PF's address, which a rescanned PF takes again, with no
# virtfnN for them). Enabling VFs on that PF again would collide with them.
stray_vfs() {
	local d vf l found
	for d in "$SYS"/*; do
		[ -e "$d/physfn" ] || continue
		vf=$(basename "$d") found=
		for l in "$d"/physfn/virtfn*; do
			[ "$(basename "$(readlink "$l")")" = "$vf" ] && found=1
		done
		[ -n "$found" ] || echo "$vf"
	done
	true
}

# stray_vfs, once pf_stub has had up to 10 s to remove a removed PF's VFs (from its workqueue,
# after the removal has released pci_rescan_remove_lock).
stray_vfs_settled() {
	local i=0
	while [ -n "$(stray_vfs)" ] && [ "$i" -lt 10 ]; do sleep 1; i=$((i + 1)); done
	stray_vfs
}

# Puts every PF and module back to the boot state, whatever a scenario left.
reset_all() {
	for m in pf_stub pci_pf_stub; do
		[ -d "/sys/module/$m" ] || continue
		for pf in $PFS $VIRTIO_PF; do
			# A virtio PF left unbound with kept VFs: bind again (adopt) to unlock them.
			[ -n "$pf" ] && [ "$pf" = "$VIRTIO_PF" ] && [ -z "$(driver_of "$pf")" ] &&
				echo "$pf" >/sys/bus/pci/drivers_probe 2>/dev/null
			[ -n "$pf" ] && [ "$pf" = "$VIRTIO_PF" ] && [ "$(driver_of "$pf")" = pf_stub ] &&
				{ swrite "$SYS/$pf/sriov_lock" unlock; swrite "$SYS/$pf/sriov_lock" "unlock $VIRTIO_TOKEN"; } >/dev/null
			[ -n "$pf" ] && [ -e "$SYS/$pf/driver" ] && swrite "$SYS/$pf/sriov_numvfs" 0 >/dev/null
		done
		rmmod "$m" 2>/dev/null
	done
	for d in "$SYS"/*; do
		[ -e "$d/physfn" ] && continue
		[ -w "$d/driver_override" ] && echo >"$d/driver_override" 2>/dev/null
	done
	for m in igbvf vfio_pci vfio_pci_core vfio_iommu_type1 vfio pci_stub; do
		[ -d "/sys/module/$m" ] && rmmod "$m" 2>/dev/null
	done
	true
}

# Asks the host (tests/vm.sh --qmp) to run a QMP command such as `device_del igb0`: written
# straight to the console, since a scenario's own output is printed only when it ends.
host_request() {
	echo "PFSTUB-HOST $*" >/dev/console
}

# Fails if kmemleak (debug kernel) finds unreferenced objects; prints their count.
#
# check_kmemleak REMOVED_PF: the same after REMOVED_PF was hot-removed with VFs enabled, which in
# Linux 7.2 leaks that PF's struct pci_dev with any PF driver (the C pci-pf-stub too): pciehp
# removes the VFs as ordinary devices of the bus, so pci_iov_remove_virtfn() no longer finds
# them and never drops the reference each VF holds on its PF. The objects the PCI core
# allocated when it enumerated that PF (pci_scan_single_device) and its driver_override string
# are counted as that known upstream leak, provided one of them is the PF's name; so are, when the
# removal started at the root port above the PF (tests/debug/removal-race.sh), the bus and the
# port that the leaked PF keeps referenced (pci_add_new_bus). Anything else fails. They are then
# cleared from kmemleak's list.
# The allocations of a removed PF's struct pci_dev that Linux 7.2 leaks with it: its enumeration,
# its bus and port (a removal from the root port), its driver_override (set through sysfs, or by
# pf_stub holding the PF for its kept VFs).
KNOWN_LEAK='pci_scan_single_device|driver_override_store|__device_set_driver_override|pci_alloc_child_bus|pci_add_new_bus'

check_kmemleak() {
	local leaks known named
	[ -e /sys/kernel/debug/kmemleak ] || return 0
	echo scan >/sys/kernel/debug/kmemleak
	sleep 1
	echo scan >/sys/kernel/debug/kmemleak
	# The objects reported by two reads 2 s and a scan apart, and one snapshot of them for the
	# count, the known objects and the report: an object that was only in flight during a scan
	# (freed by the next read) is no leak. (Once seen: 32 objects counted, 31 known, and none
	# left to print by the time the report was read.)
	cat /sys/kernel/debug/kmemleak >/tmp/kmemleak.a
	sleep 2
	echo scan >/sys/kernel/debug/kmemleak
	awk 'NR == FNR { if (/unreferenced object/) seen[$3] = 1; next }
		/unreferenced object/ { keep = ($3 in seen) }
		keep' /tmp/kmemleak.a /sys/kernel/debug/kmemleak >/tmp/kmemleak.now
	leaks=$(grep -c "unreferenced object" /tmp/kmemleak.now)
	known=0
	if [ -n "${1:-}" ] && [ "$leaks" != 0 ]; then
		# One block per object; a block is known if its allocation came from the PCI core's
		# enumeration or a driver_override write.
		awk -v pf="$1" -v known="$KNOWN_LEAK" '
			/unreferenced object/ { flush(); blk = ""; }
			{ blk = blk $0 "\n" }
			function flush() {
				if (blk == "") return
				if (blk ~ known) { k++; if (index(blk, pf)) named = 1 }
			}
			END { flush(); print k + 0, named + 0 }' /tmp/kmemleak.now >/tmp/kmemleak.count
		read -r known named </tmp/kmemleak.count
		[ "$named" = 1 ] || known=0
	fi
	note "kmemleak: $leaks unreferenced objects${1:+, $known of them the known upstream leak of removed PF $1}"
	if [ "$leaks" != "$known" ]; then
		# The objects that are not the known upstream leak, first.
		awk -v known="$KNOWN_LEAK" '/unreferenced object/ { if (blk != "" && blk !~ known) printf "%s", blk; blk = "" }
			{ blk = blk $0 "\n" }
			END { if (blk !~ known) printf "%s", blk }' \
			/tmp/kmemleak.now | head -n 150
		fail "kmemleak found leaks"
	fi
	[ "$known" = 0 ] || echo clear >/sys/kernel/debug/kmemleak
}

# lock_vfs_in_use PF TOKEN N: binds pf_stub to PF, sets the VF token, enables N VFs (locked
# under the default policy, pinned to vfio-pci, which must be loaded) and checks that the first is
# on vfio-pci; its name is left in $VF0. Fails the scenario otherwise.
lock_vfs_in_use() {
	bind_to "$1" || fail "$1 did not bind"
	expect_write OK "$SYS/$1/sriov_vf_token" "$2"
	expect_write OK "$SYS/$1/sriov_numvfs" "$3"
	VF0=$(basename "$(readlink "$SYS/$1/virtfn0")")
	[ "$(driver_of "$VF0")" = vfio-pci ] || fail "$VF0 not on vfio-pci"
}

# Loads vfio-pci: under the emulated IOMMU (tests/vm.sh --iommu) as on a production host, else
# in no-IOMMU mode.
load_vfio() {
	if [ -n "$(ls /sys/class/iommu 2>/dev/null)" ]; then
		modprobe vfio-pci && modprobe vfio_iommu_type1
	else
		modprobe vfio enable_unsafe_noiommu_mode=1 && modprobe vfio-pci
	fi
}

# --- traffic through virtio-net VFs (tests/virtio/) ---
# Every function of the virtio topology is on a QEMU user network of its own (restrict=on): the
# guest is 10.0.2.15 on each, the network's gateway 10.0.2.2 answers pings; `ping -I IFACE`
# (SO_BINDTODEVICE) sends through that function only, and its counters show it did.
GW=10.0.2.2
# The VF token of the virtio scenarios: reset_all unlocks with it what a failed scenario left
# locked, so that one failure does not fail every scenario after it.
VIRTIO_TOKEN=0d1e2f30-4152-4637-8899-aabbccddeeff

# vf_of PF N: the PCI address of VF N of PF (its virtfnN link), or nothing.
vf_of() {
	[ -e "$SYS/$1/virtfn$2" ] && basename "$(readlink "$SYS/$1/virtfn$2")"
}

# The network interface of the virtio-net device at PCI address $1, or nothing.
netdev_of() {
	local n
	for n in "$SYS/$1"/virtio*/net/*; do
		[ -e "$n" ] && basename "$n" && return 0
	done
	true
}

# net_up PCI: waits up to 10 s for the device's interface, gives it 10.0.2.15/24 and brings it
# up; prints the interface's name. Fails if the interface never comes.
net_up() {
	local i=0 n
	while [ -z "$(netdev_of "$1")" ] && [ "$i" -lt 10 ]; do sleep 1; i=$((i + 1)); done
	n=$(netdev_of "$1")
	[ -n "$n" ] || return 1
	ip addr flush dev "$n"
	ip addr add 10.0.2.15/24 dev "$n" || return 1
	ip link set "$n" up || return 1
	echo "$n"
}

# if_stat IFACE NAME: a counter of the interface (tx_packets, rx_packets), 0 once it is gone.
if_stat() {
	cat "/sys/class/net/$1/statistics/$2" 2>/dev/null || echo 0
}

# ping_start IFACE COUNT INTERVAL: pings the gateway through IFACE in the background, COUNT
# echo requests INTERVAL seconds apart; ping_result IFACE waits for it (not in a subshell: the
# ping is this shell's child) and sets PING_TX and PING_RX, the packets it sent and the replies
# it got (empty if ping printed no summary).
ping_start() {
	ping -c "$2" -i "$3" -W 3 -I "$1" "$GW" >"/tmp/ping.$1" 2>&1 &
	eval "PING_PID_$(echo "$1" | tr -c 'a-zA-Z0-9\n' _)=\$!"
}
ping_result() {
	local v
	v=PING_PID_$(echo "$1" | tr -c 'a-zA-Z0-9\n' _)
	eval "wait \$$v"
	PING_TX=$(sed -n 's/^\([0-9]*\) packets transmitted, .*/\1/p' "/tmp/ping.$1")
	PING_RX=$(sed -n 's/^[0-9]* packets transmitted, \([0-9]*\) packets received.*/\1/p' "/tmp/ping.$1")
	# A ping whose interface went away (a removed VF) dies without a summary: its replies are
	# its reply lines, its requests unknown.
	if [ -z "$PING_TX" ]; then
		PING_RX=$(grep 'bytes from' "/tmp/ping.$1" | grep -vc DUP)
		note "ping through $1 ended without a summary, $PING_RX replies: $(tail -n 1 "/tmp/ping.$1")"
	fi
}

# expect_traffic IFACE COUNT: COUNT pings through IFACE, all answered, and the interface's own
# counters grew by at least COUNT each way. Prints a note with the counts; fails otherwise.
expect_traffic() {
	local tx0 rx0 tx rx
	tx0=$(if_stat "$1" tx_packets) rx0=$(if_stat "$1" rx_packets)
	ping_start "$1" "$2" 0.2
	ping_result "$1"
	[ "$PING_TX" = "$2" ] && [ "$PING_RX" = "$2" ] || {
		sed 's/^/# ping: /' "/tmp/ping.$1"
		fail "$1: ${PING_RX:-no} of ${PING_TX:-no} pings answered, want $2 of $2"
	}
	tx=$(($(if_stat "$1" tx_packets) - tx0)) rx=$(($(if_stat "$1" rx_packets) - rx0))
	[ "$tx" -ge "$2" ] && [ "$rx" -ge "$2" ] || fail "$1: counters grew by tx $tx rx $rx, want >= $2"
	note "$1: $PING_RX/$PING_TX pings answered (tx_packets +$tx, rx_packets +$rx)"
}

# expect_no_traffic IFACE COUNT: COUNT pings through IFACE, none answered.
expect_no_traffic() {
	ping_start "$1" "$2" 0.2
	ping_result "$1"
	[ "${PING_RX:-0}" = 0 ] || fail "$1: $PING_RX of $PING_TX pings answered, want none"
	note "$1: ${PING_RX:-0}/${PING_TX:-0} pings answered, as expected"
}

# Runs the KUnit suites (they run when pf_stub.ko is loaded) and prints their KTAP.
run_kunit() {
	dmesg -c >/dev/null
	insmod "$PFSTUB_KO" || echo "# insmod pf_stub.ko failed"
	rmmod pf_stub
	echo "PFSTUB-KTAP-BEGIN"
	dmesg | sed -n '/KTAP version/,$p' | sed 's/^\[[^]]*\] //'
	echo "PFSTUB-KTAP-END"
}

# Runs the program $1 for every uevent, with the uevent's variables in its environment: as the
# kernel's uevent helper where the kernel has one, else (Debian's kernels: no
# CONFIG_UEVENT_HELPER) from busybox's netlink listener. uevents_stop ends it.
uevents_to() {
	if [ -w /proc/sys/kernel/hotplug ]; then
		echo "$1" >/proc/sys/kernel/hotplug
	else
		uevent "$1" &
		UEVENT_PID=$!
		# The listener's socket must be bound before the events it is to see.
		sleep 1
	fi
}
uevents_stop() {
	if [ -n "${UEVENT_PID:-}" ]; then
		kill "$UEVENT_PID"
		UEVENT_PID=""
	else
		echo >/proc/sys/kernel/hotplug
	fi
}

# scenario_watchdog NAME PID: when scenario NAME (process PID, with its clean-up) still runs after
# $PFSTUB_SCENARIO_LIMIT seconds (900 by default), says so on the console with what every
# process waits for (its kernel stack) and the kernel log's last lines, whatever their level
# (vfio-pci's "blocked until device is released" is below the console's), then kills it. A
# task blocked for good in an uninterruptible wait is the hung-task detector's (a kernel report);
# this catches the rest: a removal waiting for a VFIO user that never lets go (vfio-pci retries
# every 10 s, which the detector counts as progress), a script waiting for a job that never ends.
scenario_watchdog() {
	local limit=${PFSTUB_SCENARIO_LIMIT:-900} sp p st cmd
	sleep "$limit" &
	sp=$!
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	wait "$sp"
	kill -0 "$2" 2>/dev/null || return 0
	touch "/tmp/$1.hung"
	{
		echo "PFSTUB-HUNG $1: still running after ${limit}s; its processes and the kernel log follow"
		for p in /proc/[0-9]*; do
			st=$(cut -d' ' -f3 "$p/stat" 2>/dev/null)
			case "$st" in D | S) ;; *) continue ;; esac
			# (proc files have no size: read them, kernel threads have no command line)
			cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-100)
			[ -n "$cmd" ] || continue
			echo "PFSTUB-HUNG task ${p#/proc/} $st in $(cat "$p/wchan" 2>/dev/null) ($cmd)"
			sed 's/^/PFSTUB-HUNG     /' "$p/stack" 2>/dev/null | head -n 16
		done
		dmesg | tail -n 40 | sed 's/^/PFSTUB-HUNG dmesg: /'
		echo "PFSTUB-HUNG end"
	} >/dev/console 2>&1
	kill "$2" 2>/dev/null
}

# hold_vf_disable VF PF: opens VF's VFIO device as fd 3 of the calling shell (a VFIO user, as a
# VM), then writes 0 to PF's sriov_numvfs in the background ($dis), whose removal of VF waits for
# that user (fd 3 closed releases it); fails unless the disable is still waiting 3 s later. For
# the PCI-core deadlock reproducers (tests/debug/core-*-deadlock.sh).
hold_vf_disable() {
	local cdev dev
	cdev=$(ls "$SYS/$1/vfio-dev" 2>/dev/null | head -n 1)
	if [ -n "$cdev" ]; then
		dev=/dev/vfio/devices/$cdev
	else
		dev=/dev/vfio/noiommu-$(basename "$(readlink "$SYS/$1/iommu_group")")
	fi
	exec 3<"$dev" || fail "cannot open $dev"
	(exec 3<&-; echo 0 >"$SYS/$2/sriov_numvfs") &
	dis=$!
	sleep 3
	kill -0 "$dis" 2>/dev/null || fail "the disable did not wait for the VF's user"
}

# run_scenario FILE NAME: runs scenario FILE, its output in /tmp/NAME.out (and, when it failed,
# the kernel log's last lines in /tmp/NAME.dmesg); resets the guest (reset_all); with pf_stub,
# fails a scenario that passed but left a VF of a removed PF behind (the C driver does leave
# them). Exits with the scenario's status.
run_scenario() {
	(. "$1") >"/tmp/$2.out" 2>&1
	r=$?
	[ "$r" = 0 ] || [ "$r" = 77 ] || dmesg | tail -n 12 >"/tmp/$2.dmesg"
	reset_all >/dev/null 2>&1
	if [ "$r" = 0 ] && is_rust; then
		stray=$(stray_vfs_settled)
		if [ -n "$stray" ]; then
			echo "# FAIL: VFs outlived their PF: $(echo $stray)" >>"/tmp/$2.out"
			r=1
		fi
	fi
	return "$r"
}

# Runs each scenario in /scenarios (all, or those named in pfstub.only=a,b) as one test case.
guest_main() {
	mkdir -p /tmp
	if is_rust && [ "${PFSTUB_KUNIT:-1}" = 1 ]; then run_kunit; fi
	# KUnit runs a module's suites at every load: once is enough, keep scenario logs clean.
	# (The distributions' kernels have no KUnit.)
	if [ -d /sys/module/kunit ]; then echo "pf_stub_none" >/sys/module/kunit/parameters/filter_glob; fi
	note "driver=$DRV igb=${IGB_PF:-none} nvme=${NVME_PF:-none} nosriov=${NOSRIOV:-none}"
	set -- /scenarios/*.sh
	echo "PFSTUB-SCENARIOS-BEGIN"
	echo "1..$#"
	n=0
	rc=0
	for s in "$@"; do
		n=$((n + 1))
		name=$(basename "$s" .sh)
		start=$(date +%s)
		# On the console at once: a guest that hangs shows which scenario it was in.
		echo "PFSTUB-RUNNING $name" >/dev/console
		# The scenario and the clean-up after it, under the watchdog.
		run_scenario "$s" "$name" &
		spid=$!
		scenario_watchdog "$name" "$spid" &
		wpid=$!
		wait "$spid"
		r=$?
		kill "$wpid" 2>/dev/null
		wait "$wpid" 2>/dev/null
		if [ -e "/tmp/$name.hung" ]; then
			# Its writes are stuck in the kernel: the next scenarios cannot run, and a power-off
			# would wait for the same device locks (init exits instead, see init.sh).
			sed 's/^/    /' "/tmp/$name.out"
			echo "not ok $n $name # ${PFSTUB_DRIVER} hung: still running after ${PFSTUB_SCENARIO_LIMIT:-900}s"
			echo "PFSTUB-SCENARIOS-END"
			touch /tmp/pfstub-hung
			return 1
		fi
		sed 's/^/    /' "/tmp/$name.out"
		if [ "$r" = 0 ]; then
			echo "ok $n $name # ${PFSTUB_DRIVER} $(($(date +%s) - start))s"
		elif [ "$r" = 77 ]; then
			echo "ok $n $name # SKIP"
		else
			sed 's/^/    # dmesg: /' "/tmp/$name.dmesg" 2>/dev/null
			echo "not ok $n $name # ${PFSTUB_DRIVER}"
			rc=1
		fi
		dmesg -c >/dev/null
	done
	echo "PFSTUB-SCENARIOS-END"
	return $rc
}

# virtio_pf: the scenario's PF is the virtio-net PF: sets $pf and $d (its sysfs folder) and loads
# virtio_net. Fails the scenario without the virtio topology.
virtio_pf() {
	pf=$VIRTIO_PF
	[ -n "$pf" ] || fail "no virtio-net PF: boot with tests/vm.sh --topology virtio"
	d=$SYS/$pf
	modprobe virtio_net || fail "modprobe virtio_net failed"
}

# virtio_stub_pf: virtio_pf, then pf_stub (VF autoprobe on) loaded and bound to the PF. Fails the
# scenario otherwise.
virtio_stub_pf() {
	virtio_pf
	insmod "$PFSTUB_KO" vf_autoprobe=1 || fail "insmod failed"
	bind_to "$pf" || fail "$pf did not bind to pf_stub"
}

# virtio_token_vfs TOKEN N: pf_stub (VF autoprobe on) bound to the virtio-net PF with TOKEN set and
# N VFs on virtio_net; sets $pf and $d (its sysfs folder). Fails the scenario otherwise.
virtio_token_vfs() {
	virtio_stub_pf
	expect_write OK "$d/sriov_vf_token" "$1"
	expect_write OK "$d/sriov_numvfs" "$2"
}

# virtio_vfs_on N DRIVER: writes N to $pf's sriov_numvfs, expects N VFs and each of them bound to
# DRIVER. Fails the scenario otherwise.
virtio_vfs_on() {
	local i=0 vf
	expect_write OK "$d/sriov_numvfs" "$1"
	expect_vfs "$pf" "$1"
	while [ "$i" -lt "$1" ]; do
		vf=$(vf_of "$pf" "$i")
		[ "$(driver_of "$vf")" = "$2" ] || fail "$vf on '$(driver_of "$vf")', not $2"
		i=$((i + 1))
	done
}

# virtio_vfs_up N: N VFs on $pf under a driver that lets them probe (pci-pf-stub, virtio-pci), VF0
# on virtio-pci, VF0's and VF1's interfaces up: sets $vf0, $vf1, $n0 and $n1. Fails the scenario
# otherwise.
virtio_vfs_up() {
	expect_write OK "$d/sriov_numvfs" "$1"
	expect_vfs "$pf" "$1"
	vf0=$(vf_of "$pf" 0) vf1=$(vf_of "$pf" 1)
	[ "$(driver_of "$vf0")" = virtio-pci ] || fail "$vf0 on '$(driver_of "$vf0")', not virtio-pci"
	n0=$(net_up "$vf0") || fail "$vf0: no network interface"
	n1=$(net_up "$vf1") || fail "$vf1: no network interface"
}

# virtio_vf0_traffic: VF0 of $pf with its interface up and 3 pings through it answered: sets $vf0
# and $n0. Fails the scenario otherwise.
# virtio_kept_after VF0 TOKEN WHAT: after WHAT (a reset, a PCI error), the virtio PF has the same
# 4 VFs, VF0 still VF0 and on virtio-pci, the count locked and TOKEN set. Fails otherwise.
virtio_kept_after() {
	expect_vfs "$pf" 4
	[ "$(vf_of "$pf" 0)" = "$1" ] || fail "after $3: VF0 is $(vf_of "$pf" 0), was $1"
	[ "$(driver_of "$1")" = virtio-pci ] || fail "after $3: $1 on '$(driver_of "$1")', not virtio-pci"
	[ "$(cat "$d/sriov_lock")" = locked ] && [ "$(cat "$d/sriov_vf_token")" = set ] ||
		fail "after $3: lock or token lost"
}

# virtio_traffic_after TOKEN WHAT: whether traffic through VF0 ($n0, on $vf0) came back after WHAT,
# noted with VF0's virtio status. If it did, the VFs are unlocked with TOKEN and disabled and
# pf_stub unloaded; if not (the VF driver was not told: see tests/virtio/reset.sh), they stay
# locked under TOKEN, since disabling them would hang in virtnet_remove().
virtio_traffic_after() {
	if ping -c 3 -i 0.2 -W 2 -I "$n0" "$GW" >/dev/null 2>&1; then
		note "traffic through $n0 came back after $2"
		expect_write OK "$d/sriov_lock" "unlock $1"
		expect_write OK "$d/sriov_numvfs" 0
		unbind "$pf"
		rmmod pf_stub || fail "rmmod failed"
	else
		note "traffic through $n0 did not come back after $2 (VF0's virtio status $(cat "$SYS/$vf0"/virtio*/status)): virtio_net was not told; the VFs stay locked"
	fi
}

virtio_vf0_traffic() {
	vf0=$(vf_of "$pf" 0)
	n0=$(net_up "$vf0") || fail "$vf0: no network interface"
	expect_traffic "$n0" 3
}
