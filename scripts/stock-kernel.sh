#!/usr/bin/env bash
# Debian's own kernel of a series, as shipped (trixie-backports' linux-image-X.Y.Z+deb13-amd64),
# with pf_stub built for it the way a real host builds it: scripts/prepare-kdir.sh on the
# kernel's headers and the same version's linux-source, then `make -C KDIR M=...`. Prints a
# directory laid out like a test kernel's build dir, so that tests/vm.sh --kernel stock-X.Y boots
# it as it boots those: arch/x86/boot/bzImage (Debian's vmlinuz, unmodified),
# include/config/kernel.release, modroot/ (the few Debian modules the guest loads, decompressed
# for busybox's insmod, with their dependencies) and pf_stub.ko.
#
#   scripts/stock-kernel.sh X.Y [PACKAGE_VERSION]    e.g. 7.2, or 7.2 7.2.12-1~bpo13+1
#
# The packages come through the set-up's private apt (never the system's sources), cached under
# $PF_STUB_CACHE/stock-X.Y/, keyed by package version (default: the newest linux-source-X.Y).
# The toolchain is the kernel's own: rustup's toolchain of its rustc release (installed if
# missing) and its bindgen release (cargo install into the cache).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
log() { printf 'stock-kernel: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
series=${1:?usage: scripts/stock-kernel.sh X.Y [PACKAGE_VERSION]}
want_version=${2:-}
case "$series" in [0-9]*.[0-9]*) ;; *) die "series X.Y expected, got $series" ;; esac

"$PF_STUB_ROOT/scripts/setup.sh" >&2
papt="$PF_STUB_CACHE/apt"
# The set-up's private apt: trixie-backports, seen only through these options.
APTO=(-o "Dir::Etc::SourceList=$papt/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$papt/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	-o Dir::State::status=/dev/null -o "Dir::Cache::Archives=$papt/archives"
	-o APT::Sandbox::User=root)
version=${want_version:-$(apt-cache "${APTO[@]}" madison "linux-source-$series" | awk '{print $3; exit}')}
[ -n "$version" ] || die "the archive has no linux-source-$series"
upstream=${version%%-*}
# The kernel release, e.g. 7.2.12+deb13-amd64: Debian's ABI name is part of the package names.
krel=$(apt-cache "${APTO[@]}" pkgnames "linux-image-$upstream+" |
	grep -E "^linux-image-$upstream\+[a-z0-9]+-amd64\$" | sed 's/^linux-image-//' | sort -V | tail -n1)
[ -n "$krel" ] || die "the archive has no linux-image-$upstream+*-amd64"
abi=${krel%-amd64}
pkgs=("linux-binary-$krel" "linux-modules-$krel" "linux-headers-$krel" "linux-headers-$abi-common"
	"linux-kbuild-$abi" "linux-source-$series")

out="$PF_STUB_CACHE/stock-$series"
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if [ "$(cat "$out/version" 2>/dev/null)" != "$version" ]; then
	# Another package version: its predecessor's files (about 2.5 GB with the KDIR) go.
	find "$out" -mindepth 1 -maxdepth 1 ! -name .lock ! -name debs -exec rm -rf {} +
	echo "$version" >"$out/version"
fi

# --- the packages ---
# A .deb already in $out/debs (a previous interrupted run, or put there by hand) is used when
# its SHA256 is the archive's.
deb_ok() { # deb_ok PACKAGE FILE
	local want
	want=$(apt-cache "${APTO[@]}" show "$1=$version" | sed -n 's/^SHA256: //p' | head -n1)
	[ -f "$2" ] && [ -n "$want" ] && [ "$(sha256sum "$2" | cut -d' ' -f1)" = "$want" ]
}
if [ ! -f "$out/.unpacked" ]; then
	mkdir -p "$out/debs"
	start=$(date +%s)
	for p in "${pkgs[@]}"; do
		f=$(find "$out/debs" -maxdepth 1 -name "${p}_${version//:/%3a}_*.deb" | head -n1)
		if [ -n "$f" ] && deb_ok "$p" "$f"; then continue; fi
		log "fetching $p=$version"
		if ! (cd "$out/debs" && apt-get "${APTO[@]}" download "$p=$version" >/dev/null 2>&1); then
			# Lists older than the archive (a superseded version's file is gone): refresh once.
			apt-get "${APTO[@]}" update -qq >/dev/null
			(cd "$out/debs" && apt-get "${APTO[@]}" download "$p=$version" >/dev/null) ||
				die "cannot download $p=$version"
		fi
		f=$(find "$out/debs" -maxdepth 1 -name "${p}_${version//:/%3a}_*.deb" | head -n1)
		deb_ok "$p" "$f" || die "$f does not match the archive's SHA256"
	done
	log "unpacking ${pkgs[*]}"
	rm -rf "$out/root" "$out/source-pkg"
	for p in "${pkgs[@]}"; do
		f=$(find "$out/debs" -maxdepth 1 -name "${p}_${version//:/%3a}_*.deb" | head -n1)
		if [ "$p" = "linux-source-$series" ]; then
			dpkg-deb -x "$f" "$out/source-pkg"
		else
			dpkg-deb -x "$f" "$out/root"
		fi
	done
	# kmod's depmod and modprobe look in lib/modules only (Debian ships usr/lib/modules).
	[ -e "$out/root/lib" ] || ln -s usr/lib "$out/root/lib"
	rm -rf "$out/debs"
	touch "$out/.unpacked"
	log "packages fetched and unpacked in $(($(date +%s) - start)) s"
fi
headers="$out/root/usr/src/linux-headers-$krel"
vmlinuz="$out/root/usr/lib/modules/$krel/vmlinuz"
[ -f "$vmlinuz" ] && [ -f "$headers/.config" ] || die "$out/root lacks $vmlinuz or $headers"

# --- the kernel's toolchain ---
kconfig() { sed -n "s/^CONFIG_$1=\"\(.*\)\"$/\1/p" "$headers/.config"; }
rust_release=$(kconfig RUSTC_VERSION_TEXT | awk '{print $2}')
bindgen_release=$(kconfig BINDGEN_VERSION_TEXT | awk '{print $2}')
if ! rustup which --toolchain "$rust_release" rustc >/dev/null 2>&1 ||
	! rustup component list --toolchain "$rust_release" --installed 2>/dev/null | grep -q '^rust-src'; then
	log "rustup toolchain install $rust_release (the kernel's rustc)"
	rustup toolchain install "$rust_release" --profile minimal --component rust-src >&2
fi
bindgen="$PF_STUB_CACHE/bindgen-$bindgen_release/bin/bindgen"
if [ ! -x "$bindgen" ]; then
	log "cargo install bindgen-cli@$bindgen_release (the kernel's bindgen; a minute or two)"
	cargo install -q bindgen-cli@"$bindgen_release" --locked --root "$PF_STUB_CACHE/bindgen-$bindgen_release" >&2
fi
# The libclang the test kernels' bindgen uses (LLVM 19, as the kernel's rustc), whatever the caller's
# environment says, so that the KDIR's cache key does not change with it.
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
unset RUSTC BINDGEN RUST_LIB_SRC

# --- the KDIR and the module ---
start=$(date +%s)
kdir=$("$PF_STUB_ROOT/scripts/prepare-kdir.sh" --kernel "$krel" --out "$out/kdir" \
	--rustc "$(rustup which --toolchain "$rust_release" rustc)" --bindgen "$bindgen" \
	"$headers" "$out/source-pkg/usr/src/linux-source-$series.tar.xz")
log "prepare-kdir.sh: $(($(date +%s) - start)) s"
# One module build and boot dir per work tree (git worktree), as build-module.sh does.
tree="$out/tree-$(printf '%s' "$PF_STUB_ROOT" | sha256sum | cut -c1-8)"
mkdir -p "$tree/src"
rsync -a --delete "${PF_STUB_SOURCES[@]}" "$PF_STUB_ROOT/" "$tree/src/"
start=$(date +%s)
if ! make -s -C "$kdir" M="$tree/src" -j"$(nproc)" modules >"$tree/build.log" 2>&1; then
	grep -E 'error|ERROR' "$tree/build.log" | head -n 30 >&2 || true
	tail -n 20 "$tree/build.log" >&2
	die "pf_stub did not build against $krel (log: $tree/build.log)"
fi
log "pf_stub.ko built against $krel in $(($(date +%s) - start)) s"
cp "$tree/src/pf_stub.ko" "$tree/pf_stub.ko"

# --- the guest's modules ---
# vfio-pci and its IOMMU back end, igbvf, igb, pci-stub, the C pci-pf-stub (the drivers the
# scenarios load), virtio_net (the virtio topology's VFs; with net_failover and failover;
# virtio-pci itself is built into Debian's kernels), and what they depend on, resolved by the host's modprobe against Debian's
# modules, decompressed so busybox's insmod takes them.
mods=(vfio-pci vfio_iommu_type1 igbvf igb pci-stub pci-pf-stub virtio_net)
# One modroot per module list, so that trees of other lists (another work tree's, a branch's) do
# not rebuild it under each other's boots.
modroot="$out/modroot-$(printf '%s' "${mods[*]}" | sha256sum | cut -c1-8)"
[ "$(cat "$modroot/.done" 2>/dev/null)" = "${mods[*]}" ] || rm -f "$modroot/.done"
# Debian ships no modules.order nor modules.builtin with the modules (nothing here needs them):
# empty ones keep depmod from warning about each.
if [ ! -f "$modroot/.done" ]; then
	touch "$out/root/lib/modules/$krel/"modules.{order,builtin,builtin.modinfo}
	depmod -b "$out/root" "$krel"
	rm -rf "$modroot"
	mkdir -p "$modroot/lib/modules/$krel"
	touch "$modroot/lib/modules/$krel/"modules.{order,builtin,builtin.modinfo}
	modprobe -d "$out/root" -S "$krel" --show-depends -a "${mods[@]}" | awk '$1 == "insmod" {print $2}' | sort -u |
		while read -r m; do
			rel=${m#"$out/root/lib/modules/$krel/"}
			mkdir -p "$modroot/lib/modules/$krel/$(dirname "$rel")"
			case "$m" in
			*.xz) xz -dc "$m" >"$modroot/lib/modules/$krel/${rel%.xz}" ;;
			*) cp "$m" "$modroot/lib/modules/$krel/$rel" ;;
			esac
		done
	depmod -b "$modroot" "$krel"
	for m in "${mods[@]}"; do
		modprobe -d "$modroot" -S "$krel" --show-depends "$m" >/dev/null || die "the guest's modules lack $m"
	done
	echo "${mods[*]}" >"$modroot/.done"
fi
mkdir -p "$tree/arch/x86/boot" "$tree/include/config"
ln -sfn "$vmlinuz" "$tree/arch/x86/boot/bzImage"
ln -sfn "$modroot" "$tree/modroot"
echo "$krel" >"$tree/include/config/kernel.release"
echo "$tree"
