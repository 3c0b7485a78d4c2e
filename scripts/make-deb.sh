#!/usr/bin/env bash
# `make deb`: builds pf-stub-dkms_VERSION_all.deb with Debian's packaging tools (debian/: dh and
# dh-dkms) from the work tree as it is, and prints its path (out/deb/).
#   VERSION = dkms.conf's PACKAGE_VERSION + git<commits>.<commit>, e.g. 0.1+git412.72bdf6c, with
#             .dirty appended when tracked files differ from that commit.
# Installs debhelper and dh-dkms (Debian 12's or 13's) when missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$PF_STUB_ROOT"
if ! command -v dh >/dev/null || ! dpkg-query -W -f '${Status}' dh-dkms 2>/dev/null | grep -q 'ok installed'; then
	echo "make-deb: installing debhelper and dh-dkms" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debhelper dh-dkms dpkg-dev >/dev/null
fi
upstream=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
[ -n "$upstream" ] || { echo "make-deb: dkms.conf has no PACKAGE_VERSION" >&2; exit 1; }
version="$upstream+git$(git rev-list --count HEAD).$(git rev-parse --short=7 HEAD)"
git diff --quiet HEAD -- . 2>/dev/null || version+=.dirty
# Reproducible: the same tree gives the same .deb (the image of tests/host is cached by its hash).
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct HEAD)
export SOURCE_DATE_EPOCH
stage=out/deb/pf-stub-$version
rm -rf out/deb && mkdir -p "$stage"
# The tracked and new (not ignored) files, as they are in the work tree.
git ls-files -z -co --exclude-standard | grep -zv '^out/' | xargs -0 cp -a --parents -t "$stage" 2>/dev/null || true
# DKMS's version is the package's (dh_dkms -V substitutes it).
sed -i 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="#MODULE_VERSION#"/' "$stage/dkms.conf"
cat >"$stage/debian/changelog" <<CL
pf-stub ($version) unstable; urgency=medium

  * Built from $(git rev-parse HEAD)$([ "${version%.dirty}" = "$version" ] || echo ' with local changes').

 -- pf_stub developers <linux-pci@vger.kernel.org>  $(date -R -d "@$SOURCE_DATE_EPOCH")
CL
start=$(date +%s)
(cd "$stage" && dpkg-buildpackage -b -uc -us --no-check-builddeps) >out/deb/build.log 2>&1 || {
	tail -n 30 out/deb/build.log >&2
	echo "make-deb: dpkg-buildpackage failed (log: out/deb/build.log)" >&2
	exit 1
}
deb=$(ls out/deb/pf-stub-dkms_"$version"_all.deb)
echo "make-deb: $deb in $(($(date +%s) - start)) s" >&2
echo "$PF_STUB_ROOT/$deb"
