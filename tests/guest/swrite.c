// SPDX-License-Identifier: GPL-2.0
/*
 * swrite PATH VALUE: write VALUE to PATH in one write(2), as `echo VALUE > PATH` does (without
 * the newline unless VALUE has one), and report the result as the errno's name, so guest
 * scenarios can assert the exact error code a sysfs file returns.
 * Prints "OK" or the errno name (e.g. "ERANGE"); exits 0 on success, 1 on a write error,
 * 2 on usage or open errors (the open errno is printed too).
 * With SWRITE_UID=N in the environment it drops to that user and group first, to check that
 * non-root writers are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case EAGAIN: return "EAGAIN";
	case ENXIO: return "ENXIO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "EOTHER";
	}
}

int main(int argc, char **argv)
{
	int fd;
	ssize_t n;
	size_t len;

	if (argc != 3) {
		fprintf(stderr, "usage: swrite PATH VALUE\n");
		return 2;
	}
	if (getenv("SWRITE_UID")) {
		int id = atoi(getenv("SWRITE_UID"));

		if (setgid(id) || setuid(id)) {
			printf("%s\n", name(errno));
			return 2;
		}
	}
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		printf("%s\n", name(errno));
		return 2;
	}
	len = strlen(argv[2]);
	n = write(fd, argv[2], len);
	if (n < 0) {
		printf("%s\n", name(errno));
		close(fd);
		return 1;
	}
	if (close(fd) < 0) {
		printf("%s\n", name(errno));
		return 1;
	}
	printf("OK\n");
	return 0;
}
