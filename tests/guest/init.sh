#!/bin/busybox sh
# Guest /init: mounts the pseudo file systems, runs KUnit (pf_stub's suites run at module load)
# and every scenario given on the kernel command line, prints KTAP-style results, powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
# Tells tests/vm.sh that the kernel booted as far as user space.
echo "PFSTUB-INIT"
mkdir -p /var/log
hostname guest
. /tests/lib.sh
guest_main
echo "PFSTUB-DONE rc=$?"
# After a hung scenario a power-off would wait for its device locks (device_shutdown()): init
# exits instead, the kernel panics and, with panic=-1 and QEMU's -no-reboot, the guest ends.
[ -e /tmp/pfstub-hung ] && exit 1
sync
poweroff -f
