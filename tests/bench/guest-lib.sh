# Shared by the benchmark's guest scripts (guest-bench.sh, guest-bench-virtio.sh): tests/bench/run.sh
# puts this file in front of each of them (tests/vm.sh ships to the guest only the scripts it is
# given and tests/guest/lib.sh, which is sourced before them).

bench() { echo "BENCH $1 $2 $3"; }

# t_write METRIC DRIVER FILE VALUE: one timed write that must succeed.
t_write() {
	set -- "$1" "$2" "$3" "$4" "$(pfbench write "$3" "$4")"
	case "$5" in
	*" OK") bench "$1" "$2" "${5%% *}" ;;
	*) fail "$1 ($2): write $4 > $3: $5" ;;
	esac
}

# load DRIVER: c (the C pci-pf-stub), rust (pf_stub as loaded by default), rust-simple (pf_stub
# with policy=simple vf_autoprobe=1) or native (the virtio PF's own virtio-pci: nothing to load).
load() {
	case "$1" in
	c) modprobe pci-pf-stub ;;
	rust) insmod "$PFSTUB_KO" ;;
	rust-simple) insmod "$PFSTUB_KO" policy=simple vf_autoprobe=1 ;;
	native) true ;;
	esac
}
