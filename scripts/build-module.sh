#!/usr/bin/env bash
# Builds pf_stub.ko out of tree against the cached test kernel of a flavour (of the series in
# use, see pf_stub_series in scripts/lib.sh), in a copy of the sources under the cache (the work
# tree stays clean). Prints the .ko path.
#   scripts/build-module.sh [base|debug] [extra make args, e.g. CLIPPY=1]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
flavour=${1:-base}
shift || true
pf_stub_toolchain_env
kdir=$("$PF_STUB_ROOT/scripts/build-kernel.sh" "$flavour")
# One build dir per series, flavour and work tree, so that two work trees (git worktree) build
# side by side.
b="$PF_STUB_CACHE/module-$(pf_stub_series)-$flavour-$(printf '%s' "$PF_STUB_ROOT" | sha256sum | cut -c1-8)"
mkdir -p "$b"
rsync -a --delete "${PF_STUB_SOURCES[@]}" "$PF_STUB_ROOT/" "$b/src/"
# shellcheck disable=SC2046
make -s -C "$b/src" KDIR="$kdir" $(pf_stub_kernel_make_flags "$flavour") "$@" >&2
echo "$b/src/pf_stub.ko"
