# Shared paths and helpers for pf_stub's scripts. Sourced, not run.
# shellcheck shell=bash

: "${PF_STUB_CACHE:=/var/cache/pf_stub}"
export PF_STUB_CACHE
PF_STUB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PF_STUB_ROOT

# The toolchain environment the kernel's Rust build wants.
pf_stub_toolchain_env() {
	export PATH="$PF_STUB_CACHE/bin:$PATH"
	export LIBCLANG_PATH=/usr/lib/llvm-19/lib
	RUST_LIB_SRC=$(echo "$PF_STUB_CACHE"/rust-src/usr/src/rustc-*/library)
	export RUST_LIB_SRC
}

# The files a build of the driver needs (its Rust sources, Makefile and Kconfig), as rsync
# filter rules, for the copies the module and in-tree builds make.
PF_STUB_SOURCES=(--exclude .git --exclude out --include '*/' --include '*.rs' --include Makefile
	--include Kconfig --exclude '*' --prune-empty-dirs)

# The kernel series (X.Y) a command builds and boots: $PF_STUB_SERIES (vm.sh --linux), else the
# set-up's PF_STUB_LINUX (the first line of linux.series, written by scripts/setup.sh). Only the
# two series the set-up fetched can be used.
pf_stub_series() {
	local s
	s=${PF_STUB_SERIES:-$(sed -n 1p "$PF_STUB_CACHE/linux.series" 2>/dev/null)}
	if [ -z "$s" ] || ! grep -qxF "$s" "$PF_STUB_CACHE/linux.series" 2>/dev/null; then
		echo "kernel: series '${s:-none}' was not set up; set PF_STUB_LINUX or PF_STUB_LINUX_ALSO and run scripts/setup.sh" >&2
		return 1
	fi
	echo "$s"
}

# The set-up's second series (PF_STUB_LINUX_ALSO).
pf_stub_series_also() {
	sed -n 2p "$PF_STUB_CACHE/linux.series"
}

# Kernel source tree unpacked from Debian's linux-source-X.Y package of the series in use, and
# prepared, as a kernel maintainer would take pf_stub, to carry it in tree as
# drivers/pci/pf_stub/: drivers/pci/Kconfig sources its Kconfig (inside `if PCI`) and
# drivers/pci/Makefile descends into it under CONFIG_PCI_PF_STUB_RUST. The test kernels leave
# that option off; scripts/build-intree.sh turns it on in a copy of the base kernel's build
# and copies the driver's current sources in (pf_stub_sync_intree).
pf_stub_kernel_src() {
	local series ver tree k m
	series=$(pf_stub_series) || return 1
	ver=$(cat "$PF_STUB_CACHE/linux-source-$series.version")
	tree="$PF_STUB_CACHE/src/linux-source-$series"
	if [ ! -f "$tree/.pf_stub-unpacked-$ver" ]; then
		echo "kernel: unpacking linux-source-$series $ver" >&2
		rm -rf "$tree" && mkdir -p "$PF_STUB_CACHE/src"
		tar -C "$PF_STUB_CACHE/src" -xJf "$PF_STUB_CACHE/linux-source-pkg-$series/usr/src/linux-source-$series.tar.xz"
		touch "$tree/.pf_stub-unpacked-$ver"
	fi
	if [ ! -f "$tree/.pf_stub-intree-v1" ]; then
		k="$tree/drivers/pci/Kconfig" m="$tree/drivers/pci/Makefile"
		grep -qx 'endif # PCI' "$k" || { echo "kernel: drivers/pci/Kconfig has no 'endif # PCI'" >&2; return 1; }
		grep -q '^obj-$(CONFIG_PCI_PF_STUB)' "$m" || { echo "kernel: drivers/pci/Makefile has no pci-pf-stub line" >&2; return 1; }
		sed -i 's|^endif # PCI$|source "drivers/pci/pf_stub/Kconfig"\n\nendif # PCI|' "$k"
		sed -i '/^obj-$(CONFIG_PCI_PF_STUB)/a obj-$(CONFIG_PCI_PF_STUB_RUST)\t+= pf_stub/' "$m"
		pf_stub_sync_intree "$tree"
		touch "$tree/.pf_stub-intree-v1"
	fi
	echo "$tree"
}

# Copies the driver's sources, Makefile and Kconfig into TREE/drivers/pci/pf_stub/, by content,
# so that unchanged files keep their times and are not rebuilt.
pf_stub_sync_intree() {
	mkdir -p "$1/drivers/pci/pf_stub"
	rsync -rc --delete "${PF_STUB_SOURCES[@]}" "$PF_STUB_ROOT/" "$1/drivers/pci/pf_stub/"
}

# Kernel flavours: base (tinyconfig + tests/kernel/base.config, gcc) and
# debug (base + tests/kernel/debug.config, clang/LLVM=-19 for Rust KASAN).
pf_stub_kernel_make_flags() {
	case "$1" in
	base) echo "" ;;
	debug) echo "LLVM=-19" ;;
	*) echo "unknown kernel flavour $1" >&2; return 1 ;;
	esac
}

pf_stub_kernel_fragments() {
	case "$1" in
	base) echo "$PF_STUB_ROOT/tests/kernel/base.config" ;;
	debug) echo "$PF_STUB_ROOT/tests/kernel/base.config $PF_STUB_ROOT/tests/kernel/debug.config" ;;
	esac
}

# Cache key: everything that changes the kernel build's output.
pf_stub_kernel_key() {
	local flavour=$1 f
	{
		echo "flavour=$flavour"
		cat "$PF_STUB_CACHE/linux-source-$(pf_stub_series).version"
		for f in $(pf_stub_kernel_fragments "$flavour"); do cat "$f"; done
		pf_stub_kernel_make_flags "$flavour"
		rustc --version
		"$PF_STUB_CACHE/bin/bindgen" --version
		gcc --version | head -n1
		clang-19 --version | head -n1
		cat "$PF_STUB_ROOT/scripts/build-kernel.sh"
	} | sha256sum | cut -c1-16
}

pf_stub_kernel_dir() {
	echo "$PF_STUB_CACHE/kernel-$(pf_stub_series)-$1-$(pf_stub_kernel_key "$1")"
}

# pf_stub_vm LOG VM_ARGS...: tests/vm.sh with its console in LOG, quiet. A guest kernel that
# died before /init (vm.sh's exit status 75; once seen: a KASAN report in an interrupt 0.005 s
# into the debug kernel's boot under TCG), or a QEMU that aborted on an assertion of its own (once
# seen under the emulated IOMMU), is no result of pf_stub's: its console is kept as
# LOG.early-death, said on stdout, and the guest boots once more; a second early death fails
# through LOG like any other failure. A guest that ran out of time without any kernel report (vm.sh's
# exit status 76; once seen in ten boots under the emulated IOMMU, the guest idle, nothing on
# the console) boots once more the same way, its console kept as LOG.timeout: a hang that comes
# back fails, and the debug kernel's hung-task detector turns a real deadlock into a report.
# The --timeout of vm.sh arguments (600 when not given): only short boots are retried after a
# timeout, so that a retry cannot blow the test command's time budget.
pf_stub_vm_timeout() {
	local t=600
	while [ $# -gt 0 ]; do
		[ "$1" = --timeout ] && t=$2
		shift
	done
	echo "$t"
}

pf_stub_vm() {
	local log=$1
	shift
	"$PF_STUB_ROOT/tests/vm.sh" --log "$log" "$@" >/dev/null 2>&1
	local rc=$?
	if [ "$rc" = 75 ]; then
		mv "$log" "$log.early-death"
		echo "# the guest kernel died before /init, or QEMU aborted (console kept in $log.early-death); booting again"
		"$PF_STUB_ROOT/tests/vm.sh" --log "$log" "$@" >/dev/null 2>&1
		rc=$?
	elif [ "$rc" = 76 ] && [ "$(pf_stub_vm_timeout "$@")" -le 600 ]; then
		mv "$log" "$log.timeout"
		echo "# the guest timed out without any kernel report (console kept in $log.timeout); booting again"
		"$PF_STUB_ROOT/tests/vm.sh" --log "$log" "$@" >/dev/null 2>&1
		rc=$?
	fi
	return "$rc"
}
