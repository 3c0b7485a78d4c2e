// SPDX-License-Identifier: GPL-2.0
/*
 * pfbench: times sysfs operations in the guest with CLOCK_MONOTONIC, so that process start-up
 * and shell overhead stay outside the measurement.
 *
 *   pfbench write PATH VALUE      one write; prints "<ns> OK" or "<ns> <errno>"
 *   pfbench rw PATH VALUE N       N open-write-close cycles; prints the median ns of one cycle
 *   pfbench rd PATH N             N open-read-close cycles; prints the median ns of one cycle
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int once(const char *path, const char *val, int write_op)
{
	char buf[4096];
	int fd = open(path, write_op ? O_WRONLY : O_RDONLY);
	int ret = 0;

	if (fd < 0)
		return errno;
	if (write_op) {
		if (write(fd, val, strlen(val)) < 0)
			ret = errno;
	} else if (read(fd, buf, sizeof(buf)) < 0) {
		ret = errno;
	}
	close(fd);
	return ret;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static int repeat(const char *path, const char *val, int write_op, int n)
{
	long long *t = calloc(n, sizeof(*t));
	int i;

	if (!t || n < 1)
		return 2;
	for (i = 0; i < n; i++) {
		long long s = now();
		int e = once(path, val, write_op);

		t[i] = now() - s;
		if (e) {
			printf("error %s\n", strerror(e));
			return 1;
		}
	}
	qsort(t, n, sizeof(*t), cmp);
	printf("%lld\n", t[n / 2]);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "write")) {
		long long s = now();
		int e = once(argv[2], argv[3], 1);
		long long d = now() - s;

		printf("%lld %s\n", d, e ? strerror(e) : "OK");
		return e ? 1 : 0;
	}
	if (argc == 5 && !strcmp(argv[1], "rw"))
		return repeat(argv[2], argv[3], 1, atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "rd"))
		return repeat(argv[2], NULL, 0, atoi(argv[3]));
	fprintf(stderr, "usage: pfbench write PATH VALUE | rw PATH VALUE N | rd PATH N\n");
	return 2;
}
