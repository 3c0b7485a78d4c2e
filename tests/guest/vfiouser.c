// SPDX-License-Identifier: GPL-2.0
/*
 * vfiouser GROUP DEVICE: a minimal VFIO user, as QEMU or DPDK opens an assigned device: opens
 * the container (/dev/vfio/vfio) and the IOMMU group /dev/vfio/GROUP, checks that the group is
 * viable, attaches it to the container with the type1 IOMMU back end, gets DEVICE's fd
 * (a PCI address), reads its config space vendor and device IDs through the config region,
 * and resets it if it can. Prints
 *   vfio: DEVICE vendor=0xVVVV device=0xDDDD regions=N irqs=N reset=ok|none
 * and exits 0; on any failure prints the step and errno and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int die(const char *what)
{
	printf("vfio: %s failed: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	char path[64];
	int container, group, device;
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint16_t ids[2];
	const char *reset = "none";

	if (argc != 3) {
		fprintf(stderr, "usage: vfiouser GROUP DEVICE\n");
		return 2;
	}
	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		return die("open /dev/vfio/vfio");
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return die("VFIO_GET_API_VERSION");
	if (!ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)) {
		errno = ENOTSUP;
		return die("VFIO_CHECK_EXTENSION(TYPE1v2)");
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
	group = open(path, O_RDWR);
	if (group < 0)
		return die(path);
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status))
		return die("VFIO_GROUP_GET_STATUS");
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EBUSY;
		return die("group viability");
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return die("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return die("VFIO_SET_IOMMU");
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]);
	if (device < 0)
		return die("VFIO_GROUP_GET_DEVICE_FD");
	if (ioctl(device, VFIO_DEVICE_GET_INFO, &info))
		return die("VFIO_DEVICE_GET_INFO");
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return die("VFIO_DEVICE_GET_REGION_INFO(config)");
	if (pread(device, ids, sizeof(ids), cfg.offset) != sizeof(ids))
		return die("config space read");
	if (info.flags & VFIO_DEVICE_FLAGS_RESET) {
		if (ioctl(device, VFIO_DEVICE_RESET))
			return die("VFIO_DEVICE_RESET");
		reset = "ok";
	}
	printf("vfio: %s vendor=0x%04x device=0x%04x regions=%u irqs=%u reset=%s\n", argv[2],
	       ids[0], ids[1], info.num_regions, info.num_irqs, reset);
	close(device);
	close(group);
	close(container);
	return 0;
}
