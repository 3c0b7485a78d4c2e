// SPDX-License-Identifier: GPL-2.0
/*
 * fuzzw KNOB SEED COUNT PATH: writes COUNT pseudo-random payloads (xorshift, seeded by SEED) to
 * the pf_stub attribute file PATH, and checks each result against a reference parser of the
 * KNOB's grammar (policy, lock, token, autoprobe, driver): a payload the grammar rejects must
 * get EINVAL; one it accepts must not (it may still be refused for the PF's state: EPERM,
 * EACCES, EBUSY). Prints the counts; exits 1 on any mismatch, printing the payload in hex.
 *
 * Payloads mix raw bytes, printable noise, and mutations of valid inputs (UUIDs, keywords,
 * driver names) so that the parsers' edges are hit, not only their first byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t s;

static uint64_t rnd(void)
{
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return s;
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 4122 text, surrounding ASCII whitespace allowed, not the nil UUID. */
static int uuid_ok(const char *p, size_t n)
{
	size_t i, k = 0;
	int nonzero = 0;

	while (n && strchr(" \t\n\r\f", p[0]))
		p++, n--;
	while (n && strchr(" \t\n\r\f", p[n - 1]))
		n--;
	if (n != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i] != '-')
				return 0;
			continue;
		}
		if (!is_hex(p[i]))
			return 0;
		nonzero |= p[i] != '0';
		k++;
	}
	return k == 32 && nonzero;
}

static int eq(const char *p, size_t n, const char *w)
{
	return n == strlen(w) && !memcmp(p, w, n);
}

static int valid(const char *knob, const char *p, size_t n)
{
	size_t i;

	if (memchr(p, 0, n))
		return 0;
	if (n && p[n - 1] == '\n')
		n--;
	if (!strcmp(knob, "policy"))
		return eq(p, n, "locked") || eq(p, n, "simple");
	if (!strcmp(knob, "autoprobe"))
		return eq(p, n, "0") || eq(p, n, "1");
	if (!strcmp(knob, "driver")) {
		if (n < 1 || n > 31)
			return 0;
		for (i = 0; i < n; i++)
			if (!(p[i] == '_' || p[i] == '-' || p[i] == '.' ||
			      (p[i] >= '0' && p[i] <= '9') || ((p[i] | 32) >= 'a' && (p[i] | 32) <= 'z')))
				return 0;
		return 1;
	}
	if (!strcmp(knob, "lock"))
		return eq(p, n, "lock") || eq(p, n, "unlock") ||
		       (n > 7 && !memcmp(p, "unlock ", 7) && uuid_ok(p + 7, n - 7));
	if (!strcmp(knob, "token")) {
		const char *sp = memchr(p, ' ', n);

		if (eq(p, n, "clear"))
			return 1;
		if (!sp)
			return uuid_ok(p, n);
		return uuid_ok(p, sp - p) &&
		       (eq(sp + 1, n - (sp + 1 - p), "clear") || uuid_ok(sp + 1, n - (sp + 1 - p)));
	}
	return -1;
}

static const char *seeds[] = {
	"locked", "simple", "0", "1", "lock", "unlock", "clear", "vfio-pci", "igbvf",
	"2ab74924-c335-45f4-9b16-8569e5b08258", "unlock 2ab74924-c335-45f4-9b16-8569e5b08258",
	"2ab74924-c335-45f4-9b16-8569e5b08258 clear",
	"2ab74924-c335-45f4-9b16-8569e5b08258 9f1c0b6e-7d5a-4c3e-8b2a-1e0f9d8c7b6a",
};

static size_t gen(char *buf, size_t cap)
{
	size_t n, i;

	switch (rnd() % 4) {
	case 0: /* raw bytes */
		n = rnd() % 80;
		for (i = 0; i < n; i++)
			buf[i] = rnd();
		return n;
	case 1: /* printable noise */
		n = rnd() % 80;
		for (i = 0; i < n; i++)
			buf[i] = 32 + rnd() % 95;
		return n;
	default: { /* a mutated valid input */
		const char *seed = seeds[rnd() % (sizeof(seeds) / sizeof(seeds[0]))];
		int m, muts = rnd() % 4;

		n = strlen(seed);
		memcpy(buf, seed, n);
		for (m = 0; m < muts && n < cap - 1; m++) {
			size_t at = n ? rnd() % n : 0;

			switch (rnd() % 5) {
			case 0: buf[at] = rnd(); break;
			case 1: buf[at] ^= 0x20; break;
			case 2: memmove(buf + at + 1, buf + at, n - at); buf[at] = " -\n0aF"[rnd() % 6]; n++; break;
			case 3: if (n) { memmove(buf + at, buf + at + 1, n - at - 1); n--; } break;
			case 4: buf[n++] = '\n'; break;
			}
		}
		return n;
	}
	}
}

int main(int argc, char **argv)
{
	long count, i, ok = 0, einval = 0, other = 0, bad = 0;
	char buf[256];

	if (argc != 5 || valid(argv[1], "", 0) < 0) {
		fprintf(stderr, "usage: fuzzw policy|lock|token|autoprobe|driver SEED COUNT PATH\n");
		return 2;
	}
	s = strtoull(argv[2], NULL, 0) * 2654435761u + 1;
	count = atol(argv[3]);
	for (i = 0; i < count; i++) {
		size_t n = gen(buf, sizeof(buf));
		int v = valid(argv[1], buf, n), fd = open(argv[4], O_WRONLY), e = 0;

		if (fd < 0) {
			perror(argv[4]);
			return 2;
		}
		if (n == 0) { /* a zero-length write never reaches the driver */
			close(fd);
			continue;
		}
		if (write(fd, buf, n) < 0)
			e = errno;
		close(fd);
		if (!e)
			ok++;
		else if (e == EINVAL)
			einval++;
		else
			other++;
		if ((e == EINVAL) == v) {
			size_t k;

			bad++;
			printf("# MISMATCH %s: %s got %s for:", argv[1], v ? "valid" : "invalid",
			       e ? strerror(e) : "OK");
			for (k = 0; k < n; k++)
				printf(" %02x", (unsigned char)buf[k]);
			printf("\n");
		}
	}
	printf("fuzz %s seed=%s writes=%ld accepted=%ld einval=%ld refused-by-state=%ld mismatches=%ld\n",
	       argv[1], argv[2], count, ok, einval, other, bad);
	return bad ? 1 : 0;
}
