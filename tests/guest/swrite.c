// SPDX-License-Identifier: GPL-2.0
/*
 * swrite PATH VALUE: write VALUE to PATH in one write(2), as `echo VALUE > PATH` does (without
 * the newline unless VALUE has one), and report the result as the errno's name, so guest
 * scenarios can assert the exact error code a sysfs file returns.
 * Prints "OK" or the errno name (e.g. "ERANGE"); exits 0 on success, 1 on a write error,
 * 2 on usage or open errors (the open errno is printed too).
 * With SWRITE_UID=N in the environment it drops to that user and group first, to check that
 * non-root writers are refused. With SWRITE_FAIL_NTH=N it makes the Nth fault-injection site
 * of the write(2) itself fail (/proc/self/fail-nth); if the write did not reach N sites it
 * prints NOTREACHED after the result. With SWRITE_MAKE_IT_FAIL=1 it marks itself for the
 * task-filtered fault injectors (/proc/self/make-it-fail) just before the write(2).
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
	int nth = -1, reached = 1;

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
	if (getenv("SWRITE_FAIL_NTH")) {
		nth = open("/proc/self/fail-nth", O_RDWR);
		if (nth < 0 || write(nth, getenv("SWRITE_FAIL_NTH"), strlen(getenv("SWRITE_FAIL_NTH"))) < 0) {
			printf("%s\n", name(errno));
			return 2;
		}
	}
	if (getenv("SWRITE_MAKE_IT_FAIL")) {
		int mf = open("/proc/self/make-it-fail", O_WRONLY);

		if (mf < 0 || write(mf, "1", 1) < 0) {
			printf("%s\n", name(errno));
			return 2;
		}
		close(mf);
	}
	n = write(fd, argv[2], len);
	if (nth >= 0) {
		char left[16] = "";
		int e = errno;

		/* Non-zero when fewer than N sites were reached: nothing was injected. */
		if (pread(nth, left, sizeof(left) - 1, 0) > 0 && atoi(left) > 0)
			reached = 0;
		/* Disarm, so that nothing after the write fails instead. */
		if (pwrite(nth, "0", 1, 0) < 0)
			reached = 0;
		close(nth);
		errno = e;
	}
	if (n < 0) {
		printf("%s%s\n", name(errno), reached ? "" : " NOTREACHED");
		close(fd);
		return 1;
	}
	if (close(fd) < 0) {
		printf("%s\n", name(errno));
		return 1;
	}
	printf("OK%s\n", reached ? "" : " NOTREACHED");
	return 0;
}
