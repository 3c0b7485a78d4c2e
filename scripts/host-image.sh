#!/usr/bin/env bash
# A full Debian 13 (trixie) host as a disk image, for tests/host/run.sh: systemd, udev, kmod,
# driverctl, libvirt (libvirt-daemon-system, qemu-system-x86), initramfs-tools, Debian's stock
# kernel of the set-up's series (trixie-backports' linux-image-X.Y.Z+deb13-amd64) and what DKMS
# needs to build pf_stub with Debian's own toolchain (dkms, rustc, rust-src, bindgen,
# libclang-dev, the kernel's headers and linux-source-X.Y). Then pf-stub-dkms is installed in a
# chroot of it as an admin would (`apt install ./pf-stub-dkms_*.deb`: DKMS runs natively here).
#
#   scripts/host-image.sh base          the system, without pf_stub; prints its directory
#   scripts/host-image.sh DEB           the system with DEB installed and the test host's
#                                       configuration (tests/host/admin); prints a directory with
#                                       disk.raw (ext4, the root file system, on /dev/vda),
#                                       vmlinuz, initrd.img, kernel.release and dkms.log
#
# Built with bookworm's mmdebstrap into a directory: trixie is never an apt source of this
# machine (adding it breaks dpkg here). The archive is the one this machine's apt uses
# (/etc/apt/sources.list.d, /etc/apt/sources.list). Both stages are cached under
# $PF_STUB_CACHE/host-*, keyed by a hash of their inputs (the package list, this script, the
# kernel's package version; the .deb's content for the second). Times go to stderr.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
log() { printf 'host-image: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
arg=${1:?usage: scripts/host-image.sh base|DEB}
[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap, chroot, mounts)"
command -v mmdebstrap >/dev/null || apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 (e2fsprogs) is missing"

"$PF_STUB_ROOT/scripts/setup.sh" >&2
series=$(pf_stub_series)

# The archive: the Debian mirror of this machine's own apt configuration (the first URI serving
# a bookworm suite, security excluded), so that nothing here names a host.
archive_uri() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
			{ uri = ""; ok = 0
			  for (i = 1; i <= NF; i++) {
				if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, u, " "); uri = u[1] }
				if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) ok = 1
				if ($i ~ /^Enabled:[ \t]*no/) ok = 0
			  }
			  if (ok && uri != "" && uri !~ /security/) { print uri; exit } }' "$f"
	done
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /:\/\//) { if ($(i+1) ~ /^bookworm/) print $i; break } }' || true
}
uri=$(archive_uri | sed -n 1p)
[ -n "$uri" ] || die "no Debian archive serving bookworm in this machine's apt sources"

# The stock kernel of the series, as scripts/stock-kernel.sh finds it (the set-up's private apt).
papt="$PF_STUB_CACHE/apt"
APTO=(-o "Dir::Etc::SourceList=$papt/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$papt/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	-o Dir::State::status=/dev/null -o "Dir::Cache::Archives=$papt/archives"
	-o APT::Sandbox::User=root)
version=$(apt-cache "${APTO[@]}" madison "linux-source-$series" | awk '{print $3; exit}')
[ -n "$version" ] || die "the archive has no linux-source-$series"
upstream=${version%%-*}
krel=$(apt-cache "${APTO[@]}" pkgnames "linux-image-$upstream+" |
	grep -E "^linux-image-$upstream\+[a-z0-9]+-amd64\$" | sed 's/^linux-image-//' | sort -V | tail -n1)
[ -n "$krel" ] || die "the archive has no linux-image-$upstream+*-amd64"

# What a host running pf_stub has. The toolchain comes from trixie itself (its rustc and bindgen
# are the stock kernel's); only the kernel, its headers and source come from trixie-backports.
pkgs=(systemd systemd-sysv udev kmod driverctl dbus libvirt-daemon-system libvirt-clients
	qemu-system-x86 initramfs-tools linux-base/trixie-backports "linux-image-$krel" "linux-headers-$krel"
	"linux-source-$series" dkms rustc rust-src bindgen libclang-dev gcc make flex bison bc
	libelf-dev libssl-dev dwarves python3 openssl xz-utils pciutils procps iproute2 e2fsprogs)

# The base image's key: its packages, the function that builds it and the image's files.
base_key=$({
	printf '%s\n' "${pkgs[@]}" "version=$version" "krel=$krel"
	sed -n '/^build_base() {$/,/^}$/p' "$0"
	for f in "$PF_STUB_ROOT"/tests/host/image/*; do [ -f "$f" ] && sha256sum "$f" | sed "s|$PF_STUB_ROOT/||"; done
} | sha256sum | cut -c1-16)
base="$PF_STUB_CACHE/host-base-$base_key"

build_base() {
	[ -f "$base/.done" ] && return 0
	exec 8>"$base.lock"
	flock 8
	[ -f "$base/.done" ] && return 0
	rm -rf "$base" && mkdir -p "$base"
	local start=$(date +%s) img=$PF_STUB_ROOT/tests/host/image
	log "mmdebstrap trixie (+ trixie-backports: linux-image-$krel) from $uri into $base/root"
	# initramfs-tools: only what mounts the root file system (virtio-blk, ext4), so that no NIC
	# driver (igb) binds the PF from the initramfs before the real system's modprobe.d applies.
	mmdebstrap --variant=apt --mode=root --format=directory \
		--aptopt='Apt::Install-Recommends "false"' --skip=cleanup/apt/lists \
		--include="$(
			IFS=,
			echo "${pkgs[*]}"
		)" \
		--setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools/hooks"' \
		--setup-hook="cp $img/initramfs.conf \"\$1/etc/initramfs-tools/conf.d/pf-stub-test\"" \
		--setup-hook="install -m 755 $img/initramfs-hook \"\$1/etc/initramfs-tools/hooks/pf-stub-test\"" \
		--customize-hook="$img/customize.sh \"\$1\" $krel" \
		trixie "$base/root" \
		"deb $uri trixie main" "deb $uri trixie-backports main" \
		>"$base/mmdebstrap.log" 2>&1 || {
		tail -n 30 "$base/mmdebstrap.log" >&2
		die "mmdebstrap failed (log: $base/mmdebstrap.log)"
	}
	echo "$krel" >"$base/kernel.release"
	log "base image: $(($(date +%s) - start)) s, $(du -sh "$base/root" | cut -f1)"
	touch "$base/.done"
	# Images of other inputs (2 to 3 GB each) go.
	find "$PF_STUB_CACHE" -maxdepth 1 -name 'host-base-*' ! -name "host-base-$base_key" ! -name "host-base-$base_key.lock" -exec rm -rf {} +
}
build_base
[ "$arg" = base ] && { echo "$base"; exit 0; }

# --- the package, installed in a chroot of the image ---
deb=$(realpath "$arg")
[ -f "$deb" ] || die "no package at $arg"
admin=$PF_STUB_ROOT/tests/host/admin
key=$({
	echo "$base_key"
	sha256sum "$deb" "$0" "$admin"/* | cut -d' ' -f1
} | sha256sum | cut -c1-16)
out="$PF_STUB_CACHE/host-disk-$key"
if [ -f "$out/.done" ]; then
	echo "$out"
	exit 0
fi
exec 9>"$PF_STUB_CACHE/host-disk.lock"
flock 9
# Older disks: a few GB each.
find "$PF_STUB_CACHE" -maxdepth 1 -name 'host-disk-*' ! -name "host-disk-$key" -exec rm -rf {} +
rm -rf "$out" && mkdir -p "$out"/{upper,work,merged}
start=$(date +%s)
mnts=()
cleanup() {
	local i
	for ((i = ${#mnts[@]} - 1; i >= 0; i--)); do umount -l "${mnts[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$base/root,upperdir=$out/upper,workdir=$out/work" "$out/merged"
mnts+=("$out/merged")
m=$out/merged
# The KDIR DKMS prepares (about 2 GB) is kept outside the image, in a cache of its own, so that
# a new package version rebuilds only the module.
mkdir -p "$PF_STUB_CACHE/host-kdir" "$m/var/cache/pf_stub"
for d in proc sys dev dev/pts; do mount --bind "/$d" "$m/$d"; mnts+=("$m/$d"); done
mount --bind "$PF_STUB_CACHE/host-kdir" "$m/var/cache/pf_stub"
mnts+=("$m/var/cache/pf_stub")
cp "$deb" "$m/tmp/"
log "apt install ./$(basename "$deb") in a chroot of the image (DKMS builds pf_stub for $(cat "$base/kernel.release"))"
if ! chroot "$m" env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	apt-get install -y --no-install-recommends "/tmp/$(basename "$deb")" >"$out/dkms.log" 2>&1; then
	tail -n 40 "$out/dkms.log" >&2
	die "apt install of $(basename "$deb") failed in the image (log: $out/dkms.log)"
fi
rm -f "$m/tmp/$(basename "$deb")"
# The admin's configuration, written after the install as on a host about to reboot into it.
install -m 644 "$admin/modprobe.conf" "$m/etc/modprobe.d/pf_stub.conf"
install -m 644 "$admin/modules-load.conf" "$m/etc/modules-load.d/pf_stub.conf"
krel=$(cat "$base/kernel.release")
ko=$(find "$m/lib/modules/$krel/updates" -name 'pf_stub.ko*' 2>/dev/null | sed -n 1p) || true
[ -n "$ko" ] || die "DKMS installed no pf_stub.ko for $krel (log: $out/dkms.log)"
log "package installed, DKMS built ${ko#"$m"}: $(($(date +%s) - start)) s"
# The chroot's mounts go (lazily: the host's /dev is seen busy through mount propagation).
for d in var/cache/pf_stub dev/pts dev sys proc; do umount -l "$m/$d"; done
mnts=("$m")
cp "$m/boot/vmlinuz-$krel" "$out/vmlinuz"
cp "$m/boot/initrd.img-$krel" "$out/initrd.img"
echo "$krel" >"$out/kernel.release"
start=$(date +%s)
size=$(($(du -sm "$m" | cut -f1) + 1536))
mkfs.ext4 -q -F -L pfstubroot -d "$m" "$out/disk.raw" "${size}M" >/dev/null
log "disk.raw (${size} MB): $(($(date +%s) - start)) s"
umount "$m"
mnts=()
rm -rf "$out/upper" "$out/work" "$out/merged"
touch "$out/.done"
echo "$out"
