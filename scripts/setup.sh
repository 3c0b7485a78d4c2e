#!/usr/bin/env bash
# Installs everything pf_stub's builds and tests need on a fresh Debian 12
# (bookworm) machine, from the package registries only. Idempotent: a second
# run costs a few seconds.
#
# Newer-suite packages (linux-source-X.Y, rust-src) are architecture
# independent; they are fetched with `apt-get download` through a private
# source list and lists directory and unpacked with `dpkg-deb -x`, so the
# system's apt never sees trixie (adding it as an ordinary source upgrades
# libc and breaks dpkg on bookworm).
#
# The kernels, one variable each (a series, X.Y, whose linux-source-X.Y the archive has):
#   PF_STUB_LINUX       the kernel every test runs on (default: the newest series in the archive)
#   PF_STUB_LINUX_ALSO  the second kernel, for the module build, KUnit and the main flows
#                       (default: the newest series before PF_STUB_LINUX that pf_stub supports)
# A series the archive does not have fails here, naming the variable. The resolved series are
# kept in $PF_STUB_CACHE/linux.series (two lines: PF_STUB_LINUX, PF_STUB_LINUX_ALSO).
set -euo pipefail

: "${PF_STUB_CACHE:=/var/cache/pf_stub}"
export PF_STUB_CACHE
log() { printf 'setup: %s\n' "$*" >&2; }
# The oldest series whose kernel crate rust/compat.rs bridges.
oldest_supported=7.2

stamp="$PF_STUB_CACHE/setup.stamp"
want_stamp="v6 $(rustc --version 2>/dev/null || echo none) linux=${PF_STUB_LINUX:-newest} also=${PF_STUB_LINUX_ALSO:-default}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] \
	&& [ -x "$PF_STUB_CACHE/bin/bindgen" ] && command -v qemu-system-x86_64 >/dev/null; then
	exit 0
fi

mkdir -p "$PF_STUB_CACHE"
export DEBIAN_FRONTEND=noninteractive

# --- bookworm + bookworm-backports (QEMU 10 with igb and NVMe SR-IOV) ---
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	log "adding bookworm-backports"
	echo 'deb http://deb.debian.org/debian bookworm-backports main' \
		>/etc/apt/sources.list.d/pf_stub-bookworm-backports.list
fi
log "apt-get update"
apt-get update -qq >/dev/null
pkgs=(flex bison bc make gcc libelf-dev libssl-dev cpio busybox-static
	clang-19 libclang-19-dev lld-19 llvm-19 python3 kmod xz-utils dwarves rsync uuid-dev
	mmdebstrap e2fsprogs)
log "installing ${pkgs[*]}"
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
if ! qemu-system-x86_64 -device help 2>/dev/null | grep -q '"igb"'; then
	log "installing qemu-system-x86 from bookworm-backports"
	apt-get install -y -qq --no-install-recommends -t bookworm-backports \
		qemu-system-x86 >/dev/null
fi

# --- private apt for trixie-backports (source only, never installed) ---
papt="$PF_STUB_CACHE/apt"
mkdir -p "$papt/lists/partial" "$papt/archives/partial"
cat >"$papt/sources.list" <<SRC
deb http://deb.debian.org/debian trixie-backports main
deb http://deb.debian.org/debian trixie main
SRC
APTO=(-o "Dir::Etc::SourceList=$papt/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$papt/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	-o Dir::State::status=/dev/null -o "Dir::Cache::Archives=$papt/archives"
	-o APT::Sandbox::User=root)
log "private apt-get update (trixie-backports)"
apt-get "${APTO[@]}" update -qq >/dev/null

fetch() { # fetch PACKAGE VERSION DEST
	local pkg=$1 ver=$2 dest=$3
	[ -f "$dest/.unpacked-$ver" ] && return 0
	log "fetching $pkg=$ver"
	rm -rf "$dest" && mkdir -p "$dest"
	(cd "$papt/archives" && apt-get "${APTO[@]}" download "$pkg=$ver" >/dev/null)
	dpkg-deb -x "$papt/archives/${pkg}_${ver//:/%3a}_all.deb" "$dest"
	rm -f "$papt/archives/${pkg}_"*.deb
	touch "$dest/.unpacked-$ver"
}

# rust-src must match the machine's rustc exactly.
rv=$(rustc --version | awk '{print $2}')
rsv=$(apt-cache "${APTO[@]}" madison rust-src | awk -v v="$rv" '$3 ~ "^"v"\\+" {print $3; exit}')
[ -n "$rsv" ] || { log "no rust-src $rv in trixie-backports"; exit 1; }
fetch rust-src "$rsv" "$PF_STUB_CACHE/rust-src"
echo "$rsv" >"$PF_STUB_CACHE/rust-src.version"

# --- the kernels' sources ---
mapfile -t series < <(apt-cache "${APTO[@]}" pkgnames linux-source- | sed -n 's/^linux-source-\([0-9]*\.[0-9]*\)$/\1/p' | sort -V)
supported=()
for v in "${series[@]}"; do
	[ "$(printf '%s\n%s\n' "$oldest_supported" "$v" | sort -V | head -n1)" = "$oldest_supported" ] && supported+=("$v")
done
[ ${#supported[@]} -gt 0 ] || { log "the archive has no linux-source-X.Y of $oldest_supported or later (it has: ${series[*]:-none})"; exit 1; }
has_series() { printf '%s\n' "${supported[@]}" | grep -qxF "$1"; }
linux=${PF_STUB_LINUX:-${supported[-1]}}
has_series "$linux" || { log "PF_STUB_LINUX=$linux: no linux-source-$linux of $oldest_supported or later in the archive (it has: ${series[*]})"; exit 1; }
also=${PF_STUB_LINUX_ALSO:-}
if [ -z "$also" ]; then
	for v in "${supported[@]}"; do
		[ "$(printf '%s\n%s\n' "$v" "$linux" | sort -V | tail -n1)" = "$linux" ] && [ "$v" != "$linux" ] && also=$v
	done
	# Only one supported series in the archive: the second kernel is the first one again.
	also=${also:-$linux}
fi
has_series "$also" || { log "PF_STUB_LINUX_ALSO=$also: no linux-source-$also of $oldest_supported or later in the archive (it has: ${series[*]})"; exit 1; }
for v in "$linux" "$also"; do
	ksv=$(apt-cache "${APTO[@]}" madison "linux-source-$v" | awk '{print $3; exit}')
	fetch "linux-source-$v" "$ksv" "$PF_STUB_CACHE/linux-source-pkg-$v"
	echo "$ksv" >"$PF_STUB_CACHE/linux-source-$v.version"
done
printf '%s\n%s\n' "$linux" "$also" >"$PF_STUB_CACHE/linux.series"
log "kernels: PF_STUB_LINUX=$linux, PF_STUB_LINUX_ALSO=$also"

# --- bindgen from crates.io ---
if [ ! -x "$PF_STUB_CACHE/bin/bindgen" ]; then
	log "cargo install bindgen-cli (about a minute)"
	cargo install -q bindgen-cli --locked --root "$PF_STUB_CACHE" >/dev/null
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

echo "$want_stamp" >"$stamp"
log "done"
