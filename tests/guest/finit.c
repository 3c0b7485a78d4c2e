// SPDX-License-Identifier: GPL-2.0
/*
 * finit MODULE.ko [PARAMS]: loads a module with finit_module(2) and prints "OK" or the error.
 * With FINIT_FAIL_NTH=N the Nth fault-injection site of the finit_module call itself fails
 * (/proc/self/fail-nth); "NOTREACHED" follows the result when the load did not reach N sites.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd, nth = -1, ret, e, reached = 1;
	const char *params = argc > 2 ? argv[2] : "";

	if (argc < 2) {
		fprintf(stderr, "usage: finit MODULE.ko [PARAMS]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		printf("%s\n", strerror(errno));
		return 2;
	}
	if (getenv("FINIT_FAIL_NTH")) {
		nth = open("/proc/self/fail-nth", O_RDWR);
		if (nth < 0 || write(nth, getenv("FINIT_FAIL_NTH"), strlen(getenv("FINIT_FAIL_NTH"))) < 0) {
			printf("%s\n", strerror(errno));
			return 2;
		}
	}
	ret = syscall(SYS_finit_module, fd, params, 0);
	e = errno;
	if (nth >= 0) {
		char left[16] = "";

		if (pread(nth, left, sizeof(left) - 1, 0) > 0 && atoi(left) > 0)
			reached = 0;
		if (pwrite(nth, "0", 1, 0) < 0)
			reached = 0;
	}
	printf("%s%s\n", ret ? strerror(e) : "OK", reached ? "" : " NOTREACHED");
	return ret ? 1 : 0;
}
