/*	$NetBSD$	*/

/*
 * test_info.c -- listings (the size protocol, id order) and telemetry
 * sampling (process counts, memory, CPU over 1 s and 10 s).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell_impl.h"
#include "harness.h"

static void
test_list_protocol(void)
{
	struct cell_core *core = t_core();
	struct cell_create_req req;
	struct cell_info *buf;
	uint32_t id[3], h;
	size_t n;

	n = 0;
	T_EQ(cell_list(core, NULL, &n, 1), 0);
	T_EQ(n, 0);
	/* Ids out of slot order: restore puts a low id in a later slot. */
	T_EQ(t_create(core, "x", 3, &id[0], &h), 0);
	T_EQ(t_create(core, "y", 3, &id[1], &h), 0);
	T_EQ(cell_destroy(core, id[0], NULL), 0);
	t_req(&req, "z");
	T_EQ(cell_restore(core, &req, sizeof(req), 100, 1, &h), 0);
	T_EQ(h, CELL_HANDLE(0, 1));
	t_req(&req, "w");
	T_EQ(cell_restore(core, &req, sizeof(req), 50, 1, &h), 0);
	T_EQ(h, 3);

	n = 0;
	T_EQ(cell_list(core, NULL, &n, 1), ENOMEM);
	T_EQ(n, 3);
	n = 10;		/* no buffer is no room, whatever the count says */
	T_EQ(cell_list(core, NULL, &n, 1), ENOMEM);
	T_EQ(n, 3);
	buf = calloc(4, sizeof(*buf));
	n = 2;
	T_EQ(cell_list(core, buf, &n, 1), ENOMEM);
	T_EQ(n, 3);
	T_EQ(buf[0].ci_id, 0);	/* nothing written on ENOMEM */
	n = 4;
	T_EQ(cell_list(core, buf, &n, 1), 0);
	T_EQ(n, 3);
	T_EQ(buf[0].ci_id, id[1]);
	T_EQ(buf[1].ci_id, 50);
	T_EQ(buf[2].ci_id, 100);
	T_STR(buf[1].ci_name, "w");
	T_STR(buf[2].ci_name, "z");
	n = 3;
	T_EQ(cell_list(core, buf, &n, 1), 0);
	T_EQ(n, 3);
	T_EQ(cell_destroy(core, 50, NULL), 0);
	n = 3;
	T_EQ(cell_list(core, buf, &n, 1), 0);
	T_EQ(n, 2);
	T_EQ(buf[0].ci_id, id[1]);
	T_EQ(buf[1].ci_id, 100);
	free(buf);
	cell_core_destroy(core);
}

/* Many cells created and destroyed at random keep the id order. */
static void
test_list_order_random(void)
{
	struct cell_core *core = t_core();
	struct cell_info *buf;
	uint32_t live[200], nlive = 0, id, h, i, k;
	unsigned seed = 12345;
	char name[16];
	size_t n;

	buf = calloc(200, sizeof(*buf));
	for (i = 0; i < 3000; i++) {
		seed = seed * 1103515245u + 12345u;
		if (nlive < 200 && (nlive == 0 || (seed >> 16) % 3 != 0)) {
			snprintf(name, sizeof(name), "c%u", i);
			T_EQ(t_create(core, name, 3, &id, &h), 0);
			live[nlive++] = id;
		} else {
			k = (seed >> 8) % nlive;
			T_EQ(cell_destroy(core, live[k], NULL), 0);
			live[k] = live[--nlive];
		}
	}
	n = 200;
	T_EQ(cell_list(core, buf, &n, 1), 0);
	T_EQ(n, nlive);
	for (i = 1; i < n; i++)
		T_CHECK(buf[i - 1].ci_id < buf[i].ci_id);
	for (i = 0; i < nlive; i++)
		T_EQ(cell_lookup_id(core, live[i], &h), 0);
	free(buf);
	cell_core_destroy(core);
}

static void
t_sample(struct cell_core *core, uint64_t now, uint32_t h, uint64_t cpu_a,
    uint64_t cpu_b, uint64_t vm)
{

	cell_sample_begin(core);
	cell_sample_proc(core, h, cpu_a, vm);
	cell_sample_proc(core, h, cpu_b, vm);
	cell_sample_proc(core, 0, 1000000, 1 << 30);	/* host: ignored */
	cell_sample_proc(core, 9999, 5, 5);		/* no such cell */
	cell_sample_zombie(core, h);
	cell_sample_end(core, now);
}

static void
test_telemetry(void)
{
	struct cell_core *core = t_core();
	struct cell_info ci;
	uint32_t id, h, id2, h2, i;

	T_EQ(t_create(core, "t", 3, &id, &h), 0);
	T_EQ(t_create(core, "idle", 3, &id2, &h2), 0);
	T_EQ(cell_info_get(core, id, &ci, 0), 0);
	T_EQ(ci.ci_nprocs, 0);
	T_EQ(ci.ci_cpu_1s, 0);

	/* First sample: a baseline only. */
	t_sample(core, 1001, h, 500, 100, 4096);
	T_EQ(cell_info_get(core, id, &ci, 1001), 0);
	T_EQ(ci.ci_nprocs, 2);
	T_EQ(ci.ci_vmsize, 8192);
	T_EQ(ci.ci_cpu_1s, 0);
	T_EQ(ci.ci_cpu_10s, 0);

	/* +30 ticks in one second. */
	t_sample(core, 1002, h, 520, 110, 4096);
	T_EQ(cell_info_get(core, id, &ci, 1002), 0);
	T_EQ(ci.ci_cpu_1s, 30);
	T_EQ(ci.ci_cpu_10s, 3000);

	/* +10: average of 30 and 10 is 20 -> 2000. */
	t_sample(core, 1003, h, 525, 115, 4096);
	T_EQ(cell_info_get(core, id, &ci, 1003), 0);
	T_EQ(ci.ci_cpu_1s, 10);
	T_EQ(ci.ci_cpu_10s, 2000);

	/* A busy process exited: the sum went down, clamp at 0. */
	cell_sample_begin(core);
	cell_sample_proc(core, h, 118, 1000);
	cell_sample_end(core, 1004);
	T_EQ(cell_info_get(core, id, &ci, 1004), 0);
	T_EQ(ci.ci_nprocs, 1);
	T_EQ(ci.ci_vmsize, 1000);
	T_EQ(ci.ci_cpu_1s, 0);
	T_EQ(ci.ci_cpu_10s, (30 + 10 + 0) * 100 / 3);

	/* Ten more seconds of 7 ticks each: history is 10 entries. */
	for (i = 1; i <= 10; i++) {
		cell_sample_begin(core);
		cell_sample_proc(core, h, 118 + 7 * i, 1000);
		cell_sample_end(core, 1004 + i);
	}
	T_EQ(cell_info_get(core, id, &ci, 1014), 0);
	T_EQ(ci.ci_cpu_1s, 7);
	T_EQ(ci.ci_cpu_10s, 700);

	/* A late sampler: 40 ticks over 4 seconds is 10 per second. */
	cell_sample_begin(core);
	cell_sample_proc(core, h, 188 + 40, 1000);
	cell_sample_end(core, 1018);
	T_EQ(cell_info_get(core, id, &ci, 1018), 0);
	T_EQ(ci.ci_cpu_1s, 10);
	T_EQ(ci.ci_cpu_10s, (9 * 7 + 10) * 100 / 10);

	/* No processes left. */
	cell_sample_begin(core);
	cell_sample_end(core, 1019);
	T_EQ(cell_info_get(core, id, &ci, 1019), 0);
	T_EQ(ci.ci_nprocs, 0);
	T_EQ(ci.ci_vmsize, 0);
	T_EQ(ci.ci_cpu_1s, 0);

	/* The idle cell saw nothing of the others' processes. */
	T_EQ(cell_info_get(core, id2, &ci, 1019), 0);
	T_EQ(ci.ci_nprocs, 0);
	T_EQ(ci.ci_vmsize, 0);
	T_EQ(ci.ci_cpu_10s, 0);

	/* Calls outside begin/end change nothing. */
	cell_sample_proc(core, h, 99999, 99999);
	T_EQ(cell_info_get(core, id, &ci, 1019), 0);
	T_EQ(ci.ci_nprocs, 0);
	cell_core_destroy(core);
}

void	test_info(void);

void
test_info(void)
{

	T_RUN(test_list_protocol);
	T_RUN(test_list_order_random);
	T_RUN(test_telemetry);
}
