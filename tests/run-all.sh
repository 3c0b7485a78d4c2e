#!/usr/bin/env bash
# pf_stub's whole test suite, from a fresh machine: installs what it needs, builds the test
# kernels (cached) and the module, checks style (rustfmt, CLIPPY=1 with no warnings on both
# kernels), runs the KUnit suites and every guest scenario on igb and nvme with pf_stub, runs
# the debug-kernel scenarios, runs the same scenarios against the kernel's C pci-pf-stub, runs
# the kernel's VFIO selftests on VFs under an emulated IOMMU, builds and runs pf_stub in tree,
# all on the newest kernel (PF_STUB_LINUX); runs KUnit and the guest scenarios again on the
# second kernel (PF_STUB_LINUX_ALSO); boots Debian's stock kernel binary of the newest series
# with pf_stub built as on a real host, and on it a virtio-net SR-IOV PF whose VFs carry traffic
# (QEMU >= 10.1 from a Debian sid chroot, scripts/sid-qemu.sh: VFs on virtio_net, adoption under a
# ping stream); installs the Debian package pf-stub-dkms into a Debian 13 system image and boots
# it once (tests/host/run.sh main); and prints `N passed, N failed` last.
#   tests/run-all.sh          make test
#   tests/run-all.sh distro   make test-distro: every scenario on Debian's stock kernels of both
#                             series, every virtio scenario (tests/virtio/) too
set -uo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
cd "$PF_STUB_ROOT"

out=${PF_STUB_TEST_OUT:-$PF_STUB_ROOT/out/test}
rm -rf "$out" && mkdir -p "$out"
extra=()
step() { printf '\n=== %s\n' "$*"; }
logs=()
run_vm() { # label, vm.sh args...
	local label=$1
	shift
	step "guest: $label"
	pf_stub_vm "$out/$label.log" "$@"
	grep -aE '^(ok|not ok) |# FAIL|^# (pf_stub_[a-z_]+|Totals):' "$out/$label.log" | grep -v '^    ' || true
	logs+=("$label=$out/$label.log")
}

# stock_kernel SERIES SCRIPT...: builds pf_stub for Debian's stock kernel of SERIES through
# scripts/stock-kernel.sh (its build must be warning-free) and boots that kernel with SCRIPTs.
stock_kernel() {
	local s=$1 stock
	shift
	step "Debian's stock kernel, Linux $s"
	if stock=$(scripts/stock-kernel.sh "$s" 2>"$out/stock-$s-build.log"); then
		if grep -q 'warning' "$stock/build.log"; then
			cat "$stock/build.log"; extra+=("extra:style.stock-linux-$s-warnings=1")
		else
			extra+=("extra:style.stock-linux-$s-warnings=0")
		fi
		run_vm "stock-$s" --kernel "stock-$s" --topology both --iommu --qmp --no-kunit --timeout 900 "$@"
	else
		tail -n 30 "$out/stock-$s-build.log"; extra+=("extra:stock-linux-$s-build=1")
	fi
}

# virtio_kernel KERNEL LABEL VM_ARGS... SCRIPT...: the virtio topology (a virtio-net SR-IOV PF
# whose VFs carry traffic, QEMU >= 10.1 from the sid chroot of scripts/sid-qemu.sh) on KERNEL,
# Debian's stock kernel of a series (stock-X.Y, prepared by stock_kernel before: its virtio_pci
# is built in, virtio_net a module; the test kernels have neither, nor IPv4).
virtio_kernel() {
	local k=$1 label=$2
	shift 2
	step "virtio-net SR-IOV PF, kernel $k"
	if [ -z "${virtio_qemu:-}" ]; then
		local t0=$SECONDS
		if virtio_qemu=$(scripts/sid-qemu.sh 2>"$out/sid-qemu.log"); then
			extra+=(extra:virtio.sid-qemu-setup=0)
			echo "sid chroot: $(cat "$virtio_qemu/.pf_stub-qemu-version") ($((SECONDS - t0)) s)"
		else
			tail -n 30 "$out/sid-qemu.log"; extra+=(extra:virtio.sid-qemu-setup=1)
			virtio_qemu=failed
		fi
	fi
	[ "$virtio_qemu" != failed ] || return 0
	run_vm "$label" --kernel "$k" --topology virtio --no-kunit "$@"
}

mode=${1:-all}
case "$mode" in all|distro) ;; *) echo "usage: tests/run-all.sh [all|distro]" >&2; exit 2 ;; esac

step "setup"
scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
# The kernel every test runs on (PF_STUB_LINUX) and the second one (PF_STUB_LINUX_ALSO): the
# module build, KUnit and the guest scenarios (scripts/setup.sh).
linux=$(pf_stub_series) && also=$(pf_stub_series_also) || { echo "0 passed, 1 failed"; exit 1; }
# `make test-distro`: the main flow and every guest scenario on Debian's stock kernel binaries of
# both series, with pf_stub built through scripts/prepare-kdir.sh as on a real host.
if [ "$mode" = distro ]; then
	src=$(pf_stub_kernel_src) || { echo "0 passed, 1 failed"; exit 1; }
	for s in "$linux" "$also"; do
		stock_kernel "$s" tests/stock/main-flow.sh tests/scenarios/*.sh
		# Every virtio scenario (the VFIO one under the emulated IOMMU), the references too; the
		# PF removal last, since it ends with a PF found again by a rescan.
		virtio_kernel "stock-$s" "virtio-stock-$s" --iommu --timeout 900 tests/virtio/traffic.sh \
			tests/virtio/adoption.sh tests/virtio/lock.sh tests/virtio/vfio.sh \
			tests/virtio/c-pf-stub.sh tests/virtio/native.sh tests/virtio/removal.sh
		# A PF reset and PCI errors under traffic, each in a boot of its own: when the VFs'
		# traffic does not come back they stay locked (see the scripts).
		virtio_kernel "stock-$s" "virtio-reset-stock-$s" tests/virtio/reset.sh
		virtio_kernel "stock-$s" "virtio-errors-stock-$s" --qmp tests/virtio/pci-errors.sh
		[ "$also" != "$linux" ] || break
	done
	step "results"
	python3 tests/results.py "$src/tools/testing/kunit/kunit.py" "${logs[@]}" "${extra[@]}"
	exit
fi
# The two systems later steps boot come from the archive (the sid chroot with QEMU >= 10.1 for the
# virtio PF, the Debian 13 host's base system): made in the background while the kernels build,
# each under its own lock, which the step that needs it waits for. Mostly downloads and
# unpacking: about 5 minutes of an empty cache's run saved.
bg=()
scripts/sid-qemu.sh >"$out/sid-qemu-bg.log" 2>&1 &
bg+=($!)
if [ "${PFSTUB_SKIP_HOST:-0}" != 1 ]; then
	scripts/host-image.sh base >"$out/host-base-bg.log" 2>&1 &
	bg+=($!)
fi
step "kernel (Linux $linux)"
kdir=$(scripts/build-kernel.sh base) || { echo "kernel build failed"; echo "0 passed, 1 failed"; exit 1; }
src=$(pf_stub_kernel_src)
pf_stub_toolchain_env
# Builds cached under other keys are outdated (a kernel is about 0.5-1 GB): drop them.
keep=()
for s in "$linux" "$also"; do
	for f in base debug; do keep+=("$(PF_STUB_SERIES=$s pf_stub_kernel_dir "$f")"); done
done
for d in "$PF_STUB_CACHE"/kernel-* "$PF_STUB_CACHE"/intree-* "$PF_STUB_CACHE"/module-*; do
	[ -d "$d" ] || continue
	case "$d" in
	*/kernel-*) printf '%s\n' "${keep[@]}" | grep -qxF "$d" && continue ;;
	*/intree-"$linux"-*) continue ;;
	*/module-"$linux"-* | */module-"$also"-*) continue ;;
	esac
	rm -rf "$d"
done

step "rustfmt (kernel .rustfmt.toml)"
mapfile -t rs < <(git ls-files '*.rs'; git ls-files --others --exclude-standard '*.rs')
if rustfmt --check --edition 2021 --config-path "$src/.rustfmt.toml" "${rs[@]}" >"$out/rustfmt.log" 2>&1; then
	extra+=(extra:style.rustfmt=0)
else
	cat "$out/rustfmt.log"; extra+=(extra:style.rustfmt=1)
fi

# Warning-free on both kernels: rust/compat.rs bridges their kernel crates.
for s in "$linux" "$also"; do
	step "module build with CLIPPY=1 (Linux $s)"
	rm -rf "$PF_STUB_CACHE/module-$s-base-$(printf '%s' "$PF_STUB_ROOT" | sha256sum | cut -c1-8)"
	if PF_STUB_SERIES=$s scripts/build-module.sh base CLIPPY=1 W=1 >"$out/clippy-$s.log" 2>&1 &&
		! grep -qE '^(warning|error)|warning:' "$out/clippy-$s.log"; then
		extra+=("extra:style.clippy-linux-$s=0")
	else
		cat "$out/clippy-$s.log"; extra+=("extra:style.clippy-linux-$s=1")
	fi
	[ "$also" != "$linux" ] || break
done

if grep -nE '\bunsafe\b' $(git ls-files '*.rs' | grep -v '^rust/') | grep -vE '^\S+:[0-9]+:\s*//'; then
	echo "unsafe outside rust/"; extra+=(extra:style.no-unsafe-outside-rust=1)
else
	extra+=(extra:style.no-unsafe-outside-rust=0)
fi


# The scenarios with pf_stub under the emulated Intel IOMMU, as on a production host (vfio-pci
# with real IOMMU groups); the C driver's run and the debug kernel's keep vfio's no-IOMMU mode.
run_vm rust-both --topology both --driver rust --iommu --qmp tests/scenarios/*.sh
# The debug kernel (lockdep, KASAN, UBSAN, kmemleak, fault injection; any report fails the run):
# KUnit, the bounded stress, fault-injection, fuzz, removal-race and surprise-removal scenarios,
# and the core flows on igb.
if [ "${PFSTUB_SKIP_DEBUG:-0}" != 1 ]; then
	step "debug kernel"
	if scripts/build-kernel.sh debug >/dev/null; then
		run_vm debug-igb --kernel debug --topology igb --qmp --timeout 2400 \
			tests/debug/stress.sh tests/debug/faults.sh tests/debug/fuzz.sh \
			tests/scenarios/bind-enable-disable.sh tests/scenarios/policy-adoption.sh \
			tests/scenarios/policy-vfio-rmmod.sh tests/scenarios/unbind-rebind.sh \
			tests/scenarios/pf-removal.sh tests/scenarios/remove-rescan.sh tests/debug/removal-race.sh \
			tests/scenarios/pci-errors.sh \
			tests/debug/surprise-removal.sh
	else
		extra+=(extra:debug-kernel-build=1)
	fi
fi
run_vm c-both --topology both --driver c --qmp --no-kunit tests/scenarios/*.sh
# The kernel's VFIO selftests on a VF of each PF under the emulated Intel IOMMU, with each PF in
# its own IOMMU group and sharing one with its VFs (no ACS); the C driver as the reference,
# whose shared-group VFs vfio cannot use (tests/vfio/selftests.sh).
run_vm vfio-rust --topology both --iommu --no-kunit --timeout 300 tests/vfio/selftests.sh
run_vm vfio-rust-shared --topology both --iommu --shared-group --env PFSTUB_GROUPS=shared \
	--no-kunit --timeout 300 tests/vfio/selftests.sh
run_vm vfio-c --topology both --iommu --driver c --no-kunit --timeout 300 tests/vfio/selftests.sh
run_vm vfio-c-shared --topology both --iommu --shared-group --env PFSTUB_GROUPS=shared \
	--driver c --no-kunit --timeout 300 tests/vfio/selftests.sh
# The runner's single-PF topologies, with the main flow.
run_vm rust-igb --topology igb --no-kunit tests/scenarios/bind-enable-disable.sh
run_vm rust-nvme --topology nvme --no-kunit tests/scenarios/bind-enable-disable.sh
# The in-tree build: the base kernel built with pf_stub as drivers/pci/pf_stub/ (its Kconfig and
# Makefile), its KUnit suites, modprobe by name, and the main flow.
step "in-tree build"
if scripts/build-intree.sh >/dev/null; then
	run_vm rust-intree --kernel intree --topology igb tests/intree/modprobe.sh \
		tests/scenarios/bind-enable-disable.sh
else
	extra+=(extra:intree-build=1)
fi

# The second kernel: KUnit and every guest scenario, under the emulated IOMMU.
if [ "$also" != "$linux" ]; then
	run_vm "linux-$also-rust-both" --linux "$also" --topology both --driver rust --iommu --qmp \
		tests/scenarios/*.sh
fi

# Debian's stock kernel binary of the newest series (linux-image-X.Y.Z+deb13-amd64, unmodified),
# with pf_stub built as on a real host (scripts/prepare-kdir.sh, under the kernel's own rustc
# and bindgen, Debian's configuration: no KUnit, so a warning that only KUnit hides shows here):
# the main flow under the emulated IOMMU. `make test-distro` (tests/run-all.sh distro) runs every
# scenario on the stock kernels of both series; here the budget holds one kernel's preparation.
stock_kernel "$linux" tests/stock/main-flow.sh
# VFs that carry traffic: a virtio-net SR-IOV PF on the same stock kernel, VFs on virtio_net
# pinging through their own QEMU user networks, and adoption under a steady stream (without the
# IOMMU: the other virtio scenarios and the references are in `make test-distro`).
virtio_kernel "stock-$linux" "virtio-stock-$linux" tests/virtio/traffic.sh tests/virtio/adoption.sh

# A full Debian 13 host (tests/host/run.sh): pf-stub-dkms built with Debian's packaging tools and
# installed by apt into a Debian 13 system image (DKMS building pf_stub with Debian's own rustc
# and bindgen), booted once from its disk with the persistent configuration: the main flow under
# systemd and udev. `make test-host` runs every flow across three boots (driverctl, udev
# uevents, libvirt, a reboot with VFs in use, apt remove).
# From an empty cache this adds about 8 to 10 minutes (the image 2-4, DKMS's first KDIR 4, the
# boot 1); warm, about 2. PFSTUB_SKIP_HOST=1 leaves it out.
if [ "${PFSTUB_SKIP_HOST:-0}" != 1 ]; then
	step "Debian 13 host: pf-stub-dkms installed by apt, one boot"
	tests/host/run.sh main --log "$out/host-main.log" >"$out/host-main.out" 2>&1 || tail -n 30 "$out/host-main.out"
	grep -aE '^(host|host-image|make-deb): ' "$out/host-main.out" || true
	logs+=("host-main=$out/host-main.log")
fi

wait "${bg[@]}"
step "results"
python3 tests/results.py "$src/tools/testing/kunit/kunit.py" "${logs[@]}" "${extra[@]}"
