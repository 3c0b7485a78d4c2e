#!/bin/sh
# mmdebstrap --customize-hook of scripts/host-image.sh: ROOT KERNEL_RELEASE.
set -eu
root=$1 krel=$2
here=$(dirname "$0")
echo 'LABEL=pfstubroot / ext4 defaults,errors=remount-ro 0 1' >"$root/etc/fstab"
echo pfstub-host >"$root/etc/hostname"
chroot "$root" passwd -d root >/dev/null
# A persistent journal: the test reads the previous boot's kernel log (journalctl -k -b -1).
mkdir -p "$root/var/log/journal"
install -m 755 "$here/pf-stub-test" "$root/usr/local/sbin/pf-stub-test"
install -m 644 "$here/pf-stub-test.service" "$root/etc/systemd/system/pf-stub-test.service"
chroot "$root" systemctl enable pf-stub-test.service >/dev/null 2>&1
# Nothing that runs on a timer or waits for a network in the test's boots.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer dpkg-db-backup.timer \
	systemd-networkd-wait-online.service; do
	ln -sf /dev/null "$root/etc/systemd/system/$u"
done
[ -f "$root/boot/initrd.img-$krel" ] || chroot "$root" update-initramfs -c -k "$krel"
rm -f "$root/var/cache/apt/archives/"*.deb
