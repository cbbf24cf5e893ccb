/*	$NetBSD$	*/

/*
 * fuzz_driver.c -- a standalone driver for fuzz_create.c where libFuzzer
 * is not available: a fixed seed, random byte strings and mutated valid
 * payloads, up to argv[1] inputs or argv[2] seconds.  Fails when the
 * target aborts, or when the run never produced a success or one of the
 * documented errno values (the inputs would then not be reaching the
 * paths they are meant to).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cell_core.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
extern unsigned long fuzz_outcomes[256];

static uint64_t d_state = 0x2545f4914f6cdd1dull;

static uint32_t
d_rand(uint32_t n)
{

	d_state ^= d_state << 13;
	d_state ^= d_state >> 7;
	d_state ^= d_state << 17;
	return n == 0 ? 0 : (uint32_t)(d_state % n);
}

/* A valid payload with random contents. */
static void
d_valid(struct cell_create_req *req)
{
	static const char cs[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	uint32_t i, n;

	memset(req, 0, sizeof(*req));
	req->cr_size = sizeof(*req);
	req->cr_abi = CELL_ABI_VERSION;
	req->cr_profile = 1 + d_rand(3);
	req->cr_flags = d_rand(4);
	n = 1 + d_rand(d_rand(4) == 0 ? 63 : 4);
	for (i = 0; i < n; i++)
		req->cr_name[i] = cs[d_rand(i == 0 ? 52 : sizeof(cs) - 1)];
	req->cr_root[0] = '/';
	n = d_rand(40);
	for (i = 1; i <= n; i++)
		req->cr_root[i] = cs[d_rand(sizeof(cs) - 1)];
	req->cr_nports = (uint16_t)d_rand(CELL_PORTS_MAX + 1);
	for (i = 0; i < req->cr_nports; i++)
		req->cr_ports[i] = (uint16_t)(d_rand(4) == 0 ?
		    1 + d_rand(1000) : 1000 + 32 * d_rand(2000) + i);
	req->cr_naddrs = (uint16_t)d_rand(CELL_ADDRS_MAX + 1);
	for (i = 0; i < req->cr_naddrs; i++) {
		req->cr_addrs[i].ca_family = d_rand(2) ? CELL_AF_INET :
		    CELL_AF_INET6;
		req->cr_addrs[i].ca_addr[0] = (uint8_t)(i + 1);
		req->cr_addrs[i].ca_addr[1] = (uint8_t)d_rand(256);
	}
	req->cr_nrlimits = (uint16_t)d_rand(CELL_RLIMITS_MAX + 1);
	for (i = 0; i < req->cr_nrlimits; i++) {
		req->cr_rlimits[i].crl_resource = i + 1;
		req->cr_rlimits[i].crl_soft = d_rand(100);
		req->cr_rlimits[i].crl_hard = 100 + d_rand(100);
	}
}

/* One mutation: a byte, a boundary value in a field, or a truncation. */
static size_t
d_mutate(uint8_t *buf, size_t len, size_t cap)
{
	static const uint32_t edges[] = { 0, 1, 2, 3, 4, 5, 8, 9, 32, 33,
	    0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0xffffffff };
	uint32_t v, off;

	switch (d_rand(5)) {
	case 0:
		buf[d_rand((uint32_t)len)] = (uint8_t)d_rand(256);
		break;
	case 1:
		buf[d_rand((uint32_t)len)] ^= (uint8_t)(1u << d_rand(8));
		break;
	case 2:
		v = edges[d_rand(sizeof(edges) / sizeof(edges[0]))];
		off = d_rand((uint32_t)(len / 2)) * 2;
		if (off + 4 <= len)
			memcpy(&buf[off], &v, d_rand(2) ? 4 : 2);
		break;
	case 3:
		/* Copy a neighbouring byte run: makes duplicates. */
		off = d_rand((uint32_t)len);
		v = d_rand(64);
		if (off + 2 * v < len)
			memcpy(&buf[off + v], &buf[off], v);
		break;
	default:
		if (d_rand(4) == 0)
			len = d_rand((uint32_t)cap + 1);
		break;
	}
	return len;
}

int
main(int argc, char **argv)
{
	struct cell_create_req req;
	uint8_t buf[2048];
	unsigned long iters = 200000, i, j, n;
	time_t start, limit = 10;
	size_t len;
	int missing = 0;

	if (argc > 1)
		iters = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		limit = (time_t)strtol(argv[2], NULL, 10);
	start = time(NULL);
	for (i = 0; i < iters; i++) {
		if ((i & 1023) == 0 && time(NULL) - start >= limit)
			break;
		if (d_rand(8) == 0) {
			len = d_rand(sizeof(buf) + 1);
			for (j = 0; j < len; j++)
				buf[j] = (uint8_t)d_rand(256);
		} else {
			d_valid(&req);
			memcpy(buf, &req, sizeof(req));
			len = sizeof(req);
			n = d_rand(4);
			for (j = 0; j < n; j++)
				len = d_mutate(buf, len, sizeof(buf));
		}
		(void)LLVMFuzzerTestOneInput(buf, len);
	}
	printf("fuzz: %lu inputs in %ld s: ok=%lu EINVAL=%lu EPROTO=%lu "
	    "ENAMETOOLONG=%lu EEXIST=%lu EADDRINUSE=%lu ENOSPC=%lu "
	    "ENOMEM=%lu\n", i, (long)(time(NULL) - start), fuzz_outcomes[0],
	    fuzz_outcomes[EINVAL], fuzz_outcomes[EPROTO],
	    fuzz_outcomes[ENAMETOOLONG], fuzz_outcomes[EEXIST],
	    fuzz_outcomes[EADDRINUSE], fuzz_outcomes[ENOSPC],
	    fuzz_outcomes[ENOMEM]);
	if (fuzz_outcomes[0] == 0 || fuzz_outcomes[EINVAL] == 0 ||
	    fuzz_outcomes[EPROTO] == 0 || fuzz_outcomes[ENAMETOOLONG] == 0 ||
	    fuzz_outcomes[EEXIST] == 0 || fuzz_outcomes[EADDRINUSE] == 0)
		missing = 1;
	if (missing)
		printf("fuzz: an expected outcome never occurred\n");
	return missing;
}
