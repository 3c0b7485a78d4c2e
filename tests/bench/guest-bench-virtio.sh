# Benchmark on the virtio topology (tests/bench/run.sh --virtio, Debian's stock kernel): the C
# pci-pf-stub, pf_stub (default: VFs pinned to vfio-pci, which is not loaded, so no VF driver
# probes; and policy=simple vf_autoprobe=1: the VFs probe virtio-pci and virtio_net as under
# the C driver) and the native PF driver, virtio-pci's own sriov_configure, alternated on the
# same virtio-net PF, round after round. One "BENCH <metric> <driver> <ns>" line per measurement.
# bench, t_write and load: tests/bench/guest-lib.sh, which run.sh puts in front of this script.
ROUNDS=${PFSTUB_BENCH_ROUNDS:-20}
pf=$VIRTIO_PF
[ -n "$pf" ] || fail "the virtio benchmark needs the virtio topology"
modprobe virtio_net || fail "modprobe virtio_net failed"

drvname() {
	case "$1" in
	c) echo pci-pf-stub ;;
	native) echo virtio-pci ;;
	*) echo pf_stub ;;
	esac
}
unlock() { [ "$1" = rust ] && echo unlock >"$SYS/$pf/sriov_lock"; true; }
unload() {
	case "$1" in
	c) rmmod pci_pf_stub ;;
	rust | rust-simple) rmmod pf_stub ;;
	esac
}

unbind "$pf"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for d in c rust rust-simple native; do
		load "$d" || fail "loading $d failed"
		echo "$(drvname "$d")" >"$SYS/$pf/driver_override"
		t_write probe_virtio "$d" /sys/bus/pci/drivers_probe "$pf"
		[ "$(driver_of "$pf")" = "$(drvname "$d")" ] || fail "$pf not bound to $d"
		for n in 8 1; do
			t_write "enable_virtio_$n" "$d" "$SYS/$pf/sriov_numvfs" "$n"
			unlock "$d"
			t_write "disable_virtio_$n" "$d" "$SYS/$pf/sriov_numvfs" 0
		done
		echo "$pf" >"$SYS/$pf/driver/unbind"
		echo >"$SYS/$pf/driver_override"
		unload "$d" || fail "unloading $d failed"
	done
	r=$((r + 1))
done
