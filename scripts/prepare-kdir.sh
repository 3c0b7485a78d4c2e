#!/usr/bin/env bash
# Turns a distribution kernel's headers plus the kernel source of the same version into a kernel
# build directory (KDIR) that out-of-tree Rust modules such as pf_stub build against, and prints
# that KDIR on stdout (its log goes to stderr).
#
#   scripts/prepare-kdir.sh [options] [HEADERS [SOURCE]]
#     HEADERS            the kernel's headers / build dir, with .config, Module.symvers and
#                        vmlinux (default: /lib/modules/$RELEASE/build)
#     SOURCE             the same version's kernel source: a directory or a tarball (Debian:
#                        /usr/src/linux-source-7.2.tar.xz from linux-source-7.2); default:
#                        $PF_STUB_KERNEL_SOURCE, else the first /usr/src/linux-source-X.Y.tar.*,
#                        linux-source-X.Y*/linux-source-X.Y*.tar.*, linux-source-X.Y.Z/ or
#                        linux-X.Y.Z/
#     --kernel RELEASE   the kernel release (default: the headers' kernel.release, or uname -r)
#     --out DIR          where the KDIR is made (default $PF_STUB_CACHE/kdir-RELEASE, with
#                        PF_STUB_CACHE=/var/cache/pf_stub); the KDIR is DIR/build
#     --rustc PATH       the rustc to use (also env RUSTC); default: rustc on PATH, else rustup's
#                        toolchain of the kernel's rustc version
#     --bindgen PATH     the bindgen to use (also env BINDGEN); default: the first of the
#                        kernel's version among bindgen on PATH, ~/.cargo/bin/bindgen and
#                        $PF_STUB_CACHE/bindgen-VERSION/bin/bindgen
#     --jobs N           make -jN (default: nproc)
#
# Distribution kernels ship headers but none of the Rust build output an out-of-tree Rust module
# needs (rust/*.rmeta, libmacros.so, target.json). This script rebuilds that layer: it runs
# `olddefconfig modules_prepare` on the source with the distribution's .config, Module.symvers
# and vmlinux, with KERNELRELEASE set to the distribution's release so the module's vermagic
# matches. A Rust module links against the kernel crate's symbols, whose names carry a hash of
# the compiler's version text, so the rustc must be the very compiler the kernel was built with:
# same version and commit. Where only its version text differs (rustup's "rustc 1.85.1 (4eb161250
# 2025-03-15)" for Debian's "... (built from a source tarball)") the script sets
# RUSTC_FORCE_RUSTC_VERSION to the kernel's compiler's text; any other difference is refused, as
# is a bindgen other than the kernel's, a source of another version, and a configuration that
# olddefconfig changes beyond the toolchain's own options. After the build it checks that the
# rebuilt kernel crate's symbols are the ones the distribution's Module.symvers exports.
#
# The KDIR's Makefile puts that toolchain in place for any later `make -C KDIR M=...` (PATH,
# RUSTC_FORCE_RUSTC_VERSION, RUST_LIB_SRC), so DKMS and `make KDIR=...` need nothing else.
# Idempotent: a second run with the same inputs returns the cached KDIR in seconds.
set -euo pipefail

log() { printf 'prepare-kdir: %s\n' "$*" >&2; }
die() {
	printf 'prepare-kdir: error: %s\n' "$*" >&2
	exit 1
}

release="" out="" rustc_arg=${RUSTC:-} bindgen_arg=${BINDGEN:-} jobs=$(nproc)
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) release=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--rustc) rustc_arg=$2; shift 2 ;;
	--bindgen) bindgen_arg=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	-h|--help) sed -n '2,38p' "$0"; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) args+=("$1"); shift ;;
	esac
done
[ ${#args[@]} -le 2 ] || die "too many arguments (HEADERS [SOURCE])"
headers=${args[0]:-}
source=${args[1]:-${PF_STUB_KERNEL_SOURCE:-}}
if [ -z "$headers" ]; then
	headers=/lib/modules/${release:-$(uname -r)}/build
fi
[ -d "$headers" ] || die "no kernel headers at $headers (Debian/Ubuntu: apt install linux-headers-${release:-$(uname -r)}; Fedora: dnf install kernel-devel-${release:-$(uname -r)})"
headers=$(realpath "$headers")
for f in .config Module.symvers; do
	[ -f "$headers/$f" ] || die "$headers has no $f: not a kernel headers/build directory"
done

# --- the kernel: release, version, configuration ---
kconfig() { # the value of CONFIG_$1 in the distribution's .config, quotes removed
	sed -n "s/^CONFIG_$1=//p" "$headers/.config" | sed 's/^"\(.*\)"$/\1/'
}
hrel=""
[ -f "$headers/include/config/kernel.release" ] && hrel=$(cat "$headers/include/config/kernel.release")
release=${release:-$hrel}
[ -n "$release" ] || die "cannot tell the kernel release of $headers: pass --kernel RELEASE"
if [ -n "$hrel" ] && [ "$hrel" != "$release" ]; then
	die "the headers in $headers are for $hrel, not $release"
fi
# "# Linux/x86 7.2.12 Kernel Configuration": the upstream version the kernel was built from.
kver=$(sed -n '1,5s/^# Linux\/[^ ]* \([^ ]*\) Kernel Configuration$/\1/p' "$headers/.config")
[ -n "$kver" ] || die "$headers/.config does not name its kernel version"
[ "$(kconfig RUST)" = y ] || die "kernel $release was built without CONFIG_RUST: it cannot load Rust modules"
[ "$(kconfig PCI_IOV)" = y ] || die "kernel $release has no CONFIG_PCI_IOV: pf_stub needs SR-IOV support"
want_rustc=$(kconfig RUSTC_VERSION_TEXT)
want_bindgen=$(kconfig BINDGEN_VERSION_TEXT)
[ -n "$want_rustc" ] && [ -n "$want_bindgen" ] ||
	die "$headers/.config lacks CONFIG_RUSTC_VERSION_TEXT or CONFIG_BINDGEN_VERSION_TEXT"

# --- the source ---
if [ -z "$source" ]; then
	series=${kver%.*}
	# Debian's linux-source-X.Y tarball, Ubuntu's linux-source-X.Y.Z/linux-source-X.Y.Z.tar.bz2,
	# or an unpacked tree; its version is checked below.
	for s in /usr/src/linux-source-"$series".tar.* /usr/src/linux-source-"$series"*/linux-source-"$series"*.tar.* \
		/usr/src/linux-source-"$kver"/Makefile /usr/src/linux-"$kver"/Makefile; do
		if [ -f "$s" ]; then source=${s%/Makefile}; break; fi
	done
	[ -n "$source" ] || die "no kernel source for $kver under /usr/src: install the source of the same version (Debian: apt install linux-source-$series; Ubuntu: apt install linux-source; Fedora: the kernel's src.rpm, prepared with rpmbuild -bp), then pass it as SOURCE or in PF_STUB_KERNEL_SOURCE"
fi
[ -e "$source" ] || die "no kernel source at $source"
source=$(realpath "$source")

# --- the toolchain ---
cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
# rustc X.Y.Z (HASH DATE)...: "X.Y.Z HASH", the identity of a compiler build.
rustc_id() { sed -n 's/^rustc \([0-9][^ ]*\) (\([0-9a-f]*\) .*/\1 \2/p' <<<"$1"; }
want_id=$(rustc_id "$want_rustc")
want_release=${want_id%% *}
[ -n "$want_id" ] || die "cannot parse the kernel's rustc version text '$want_rustc'"
rustc=""
if [ -n "$rustc_arg" ]; then
	rustc=$(command -v "$rustc_arg") || die "no rustc at $rustc_arg"
else
	for cand in "$(command -v rustc || true)" "$cargo_bin/rustc"; do
		if [ -n "$cand" ] && [ -x "$cand" ] && [ "$(rustc_id "$("$cand" --version 2>/dev/null)")" = "$want_id" ]; then
			rustc=$cand
			break
		fi
	done
	# rustup's toolchain of that release, installed beside the default one.
	rustup=$(command -v rustup || echo "$cargo_bin/rustup")
	if [ -z "$rustc" ] && [ -x "$rustup" ]; then
		rustc=$("$rustup" which --toolchain "$want_release" rustc 2>/dev/null) || rustc=""
	fi
	[ -n "$rustc" ] || rustc=$(command -v rustc || true)
	[ -n "$rustc" ] || die "no rustc: the kernel was built with '$want_rustc'; install it (rustup toolchain install $want_release --component rust-src) and pass --rustc \$(rustup which --toolchain $want_release rustc)"
fi
# The toolchain's own rustc, not a rustup proxy whose choice depends on the directory or
# environment it later runs in.
sysroot=$("$rustc" --print sysroot) || die "$rustc does not run"
[ -x "$sysroot/bin/rustc" ] && rustc=$sysroot/bin/rustc
have_rustc=$("$rustc" --version)
force=""
if [ "$have_rustc" != "$want_rustc" ]; then
	if [ "$(rustc_id "$have_rustc")" != "$want_id" ]; then
		die "the kernel was built with '$want_rustc' but $rustc is '$have_rustc'; a Rust module must be built by the same compiler. Install it: rustup toolchain install $want_release --component rust-src (then --rustc \$(rustup which --toolchain $want_release rustc)), or your distribution's rustc $want_release"
	fi
	# The same compiler build under another version text (rustup's vs the distribution's): the
	# text (rustc's own version, without "rustc ") is hashed into every symbol name, so hash
	# the kernel's.
	force=${want_rustc#rustc }
fi
rust_lib_src=$sysroot/lib/rustlib/src/rust/library
[ -f "$rust_lib_src/core/src/lib.rs" ] ||
	die "$rustc has no Rust standard library source (rust-src) at $rust_lib_src: rustup component add rust-src --toolchain $want_release (Debian: apt install rust-src)"
llvm_want=$(kconfig RUSTC_LLVM_VERSION)
llvm_have=$("$rustc" --version --verbose | sed -n 's/^LLVM version: \([0-9]*\)\.\([0-9]*\)\.\([0-9]*\).*/\1 \2 \3/p' |
	awk '{printf "%d%02d%02d", $1, $2, $3}')
if [ -n "$llvm_want" ] && [ "$llvm_want" != "$llvm_have" ]; then
	log "warning: the kernel's rustc used LLVM $llvm_want, $rustc uses $llvm_have"
fi

bindgen=""
bgv=${want_bindgen#bindgen }
: "${PF_STUB_CACHE:=/var/cache/pf_stub}"
if [ -n "$bindgen_arg" ]; then
	bindgen=$(command -v "$bindgen_arg") || die "no bindgen at $bindgen_arg"
else
	for cand in "$(command -v bindgen || true)" "$cargo_bin/bindgen" "$PF_STUB_CACHE/bindgen-$bgv/bin/bindgen"; do
		if [ -n "$cand" ] && [ -x "$cand" ] && [ "$("$cand" --version 2>/dev/null)" = "$want_bindgen" ]; then
			bindgen=$cand
			break
		fi
	done
	[ -n "$bindgen" ] || bindgen=$(command -v bindgen || true)
fi
[ -n "$bindgen" ] || die "no bindgen: the kernel was built with '$want_bindgen'; cargo install bindgen-cli@$bgv --locked (or --root DIR, then pass --bindgen DIR/bin/bindgen)"
bindgen=$(realpath "$bindgen")
have_bindgen=$("$bindgen" --version 2>/dev/null) || die "$bindgen does not run (libclang missing? set LIBCLANG_PATH)"
[ "$have_bindgen" = "$want_bindgen" ] ||
	die "the kernel was built with '$want_bindgen' but $bindgen is '$have_bindgen': cargo install bindgen-cli@$bgv --locked --root DIR, then pass --bindgen DIR/bin/bindgen"

# --- the cache ---
base=${out:-$PF_STUB_CACHE/kdir-$release}
mkdir -p "$base"
base=$(realpath "$base")
kdir=$base/build
# One run at a time per KDIR (DKMS may build for several kernels, each its own KDIR).
exec 9>"$base/.lock"
flock 9
if [ -d "$source" ]; then
	src_id="dir $source $(sed -n '1,5p' "$source/Makefile" | tr '\n' ' ')"
else
	src_id="tarball $source $(stat -c '%s %Y' "$source")"
fi
key=$({
	echo "release=$release"
	sha256sum "$headers/.config" "$headers/Module.symvers"
	echo "$src_id"
	echo "$rustc $have_rustc force=$force"
	echo "$bindgen $have_bindgen LIBCLANG_PATH=${LIBCLANG_PATH:-}"
	sha256sum "$0" | cut -d' ' -f1
} | sha256sum | cut -c1-16)
if [ -f "$kdir/.pf_stub-kdir" ] && [ "$(cat "$kdir/.pf_stub-kdir")" = "$key" ]; then
	log "$kdir is ready (cached)"
	echo "$kdir"
	exit 0
fi

start=$(date +%s)
if [ -d "$source" ]; then
	srctree=$source
else
	srctree=$base/src
	if [ ! -f "$srctree/.pf_stub-unpacked" ] || [ "$(cat "$srctree/.pf_stub-unpacked")" != "$src_id" ]; then
		log "unpacking $source"
		rm -rf "$srctree" && mkdir -p "$srctree"
		tar -C "$srctree" --strip-components=1 -xf "$source"
		echo "$src_id" >"$srctree/.pf_stub-unpacked"
	fi
fi
[ -f "$srctree/Makefile" ] && [ -d "$srctree/rust" ] || die "$source is not a kernel source tree with Rust support"
mkv() { sed -n "s/^$1 *= *\(.*\)$/\1/p" "$srctree/Makefile" | head -n1; }
sver=$(mkv VERSION).$(mkv PATCHLEVEL).$(mkv SUBLEVEL)$(mkv EXTRAVERSION)
[ "$sver" = "$kver" ] ||
	die "the source in $source is Linux $sver, the kernel $release is Linux $kver: install the source of exactly $kver"
# A Debian kernel names its package version; a source from an installed package can be compared.
pkg_kernel=$(sed -n 's/^#define LINUX_PACKAGE_ID " *[A-Za-z]* \(.*\)"$/\1/p' "$headers/include/generated/package.h" 2>/dev/null || true)
if [ -n "$pkg_kernel" ] && [ ! -d "$source" ] && pkg=$(dpkg-query -S "$source" 2>/dev/null | cut -d: -f1); then
	pkg_source=$(dpkg-query -W -f '${Version}' "$pkg")
	[ "$pkg_source" = "$pkg_kernel" ] ||
		die "the source package $pkg is $pkg_source, the kernel's package $pkg_kernel: install $pkg=$pkg_kernel"
fi

log "preparing $kdir for $release (Linux $kver) with $have_rustc${force:+ (as '$force')}, $have_bindgen"
# From scratch: kbuild tracks command lines, not the compiler behind "rustc" nor
# RUSTC_FORCE_RUSTC_VERSION, so objects of an earlier toolchain would be kept.
rm -rf "$kdir"
mkdir -p "$kdir/.pf_stub-bin"
# The toolchain the kernel's Makefile finds by its plain names (rustc, bindgen): here, and on
# PATH first, for this build and, through the KDIR's Makefile, for every later M= build.
ln -sfn "$rustc" "$kdir/.pf_stub-bin/rustc"
ln -sfn "$bindgen" "$kdir/.pf_stub-bin/bindgen"
export PATH="$kdir/.pf_stub-bin:$PATH"
export RUST_LIB_SRC=$rust_lib_src
if [ -n "$force" ]; then export RUSTC_FORCE_RUSTC_VERSION=$force; else unset RUSTC_FORCE_RUSTC_VERSION; fi
cp "$headers/.config" "$kdir/.config.distro"
cp "$headers/.config" "$kdir/.config"
# modules_install would sign with the distribution's own key, which only the distribution has
# (a failing SIGN step): off here; the module is signed with the machine's key instead (README).
"$srctree/scripts/config" --file "$kdir/.config" --disable MODULE_SIG_ALL
cp -p "$headers/Module.symvers" "$kdir/Module.symvers"
# vmlinux gives modules their BTF (CONFIG_DEBUG_INFO_BTF_MODULES), resolved against the kernel's.
if [ -f "$headers/vmlinux" ]; then cp -p "$headers/vmlinux" "$kdir/vmlinux"; fi
mlog=$base/prepare.log
kmake=(make -C "$srctree" O="$kdir" KERNELRELEASE="$release")
failed() {
	grep -E 'error|Error' "$mlog" | head -n 20 >&2 || true
	tail -n 20 "$mlog" >&2
	die "$1 failed (log: $mlog)"
}
"${kmake[@]}" olddefconfig >"$mlog" 2>&1 || failed olddefconfig

# The configuration may differ only where it describes the local toolchain (compiler versions
# and the features they support: gcc 12 here for Debian's gcc 14 changes a dozen CC_HAS_*, which
# only steer code generation), and in MODULE_SIG_ALL; anything else would build modules for
# another kernel.
diff <(grep '^CONFIG_' "$kdir/.config.distro" | sort) <(grep '^CONFIG_' "$kdir/.config" | sort) |
	sed -n 's/^\([<>]\) CONFIG_\([^=]*\)=\(.*\)/\1 \2 \3/p' >"$base/config.diff" || true
allowed_sym='^(CC|GCC|CLANG|AS|LD|LLD|PAHOLE|RUSTC|BINDGEN|TOOLCHAIN|OBJTOOL|OPENSSL)_|_VERSION(_TEXT)?$|^MODULE_SIG_ALL$'
if [ -s "$base/config.diff" ]; then
	log "configuration differences (< $release's, > this build's: $base/config.diff): $(awk '{print $2}' "$base/config.diff" | sort -u | tr '\n' ' ')"
fi
other=$(awk '{print $2}' "$base/config.diff" | sort -u | grep -Ev "$allowed_sym" | tr '\n' ' ' || true)
[ -z "$other" ] || die "olddefconfig changed more than the toolchain's options: $other(see $base/config.diff); a module built here might not fit $release"

"${kmake[@]}" -j"$jobs" modules_prepare >>"$mlog" 2>&1 || failed modules_prepare
[ "$(cat "$kdir/include/config/kernel.release")" = "$release" ] || die "kernel.release is not $release"

# The kernel crate's symbols as rebuilt here must be those the distribution's kernel exports:
# a different compiler build or version text changes every name.
rust_syms=$(sed -n 's/^EXPORT_SYMBOL_RUST_GPL(\(.*\));$/\1/p' "$kdir"/rust/exports_kernel_generated.h | sort -u)
n_rust=$(grep -c . <<<"$rust_syms" || true)
missing=$(comm -23 <(echo "$rust_syms") <(awk '{print $2}' "$headers/Module.symvers" | sort -u) | grep -c . || true)
[ "$n_rust" -gt 0 ] || die "no Rust symbols in $kdir/rust/exports_kernel_generated.h"
if [ "$missing" = "$n_rust" ]; then
	die "none of the $n_rust kernel crate symbols rebuilt here is exported by $release: the rustc differs from the kernel's ('$want_rustc')"
elif [ "$missing" != 0 ]; then
	die "$missing of the $n_rust kernel crate symbols rebuilt here are not exported by $release (the configuration or source differs; see $base/config.diff)"
fi
log "the $n_rust kernel crate symbols match $release's Module.symvers"

# The KDIR's own Makefile (kbuild writes a bare one): the toolchain for later M= builds. Kbuild
# re-runs itself with -f on the source's Makefile, so it is passed as exported environment.
cat >"$kdir/Makefile" <<EOF
# Generated by pf_stub's scripts/prepare-kdir.sh for Linux $release: out-of-tree
# (Rust) modules build here with \`make -C $kdir M=DIR\`, with the kernel's own toolchain.
export PATH := $kdir/.pf_stub-bin:\$(PATH)
export RUST_LIB_SRC := $rust_lib_src
${force:+export RUSTC_FORCE_RUSTC_VERSION := $force}
${LIBCLANG_PATH:+export LIBCLANG_PATH := $LIBCLANG_PATH}
export KBUILD_OUTPUT = $kdir
include $srctree/Makefile
EOF
echo "$key" >"$kdir/.pf_stub-kdir"
log "ready in $(($(date +%s) - start)) s: $kdir"
echo "$kdir"
