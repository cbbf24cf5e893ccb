/*	$NetBSD$	*/

/*
 * prop_isolation.c -- isolation invariants over random subjects,
 * operations and objects (seeded; the iteration count is argv[1]).
 *
 * The world changes while the test runs: cells are created and destroyed,
 * profiles are corrupted and repaired.  Invariants checked on every draw:
 *   - a celled subject gets DENY for a CROSS operation on another cell's
 *     or the host's object;
 *   - a celled subject gets DENY when binding a port another cell owns;
 *   - host non-root gets DENY for a CROSS operation on a celled object;
 *   - host root is never denied an operation of the table;
 *   - an operation outside the table and a handle naming no cell get
 *     DENY for every row; a corrupted profile gets DENY for every
 *     profile row;
 *   - the model grants (ALLOW) credential bookkeeping and nothing else;
 *   - cell_check() agrees with cell_decide() and appends exactly one
 *     audit event per DENY.
 * Every reason code must have been produced at least once, so a draw
 * that never reaches a branch fails the run instead of passing vacuously.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell_impl.h"
#include "harness.h"

#define	P_CELLS		48

static uint64_t p_state = 0x9e3779b97f4a7c15ull;
static unsigned long p_iters = 20000;

static uint64_t
p_rand(void)
{

	p_state ^= p_state << 13;
	p_state ^= p_state >> 7;
	p_state ^= p_state << 17;
	return p_state;
}

static uint32_t
p_below(uint32_t n)
{

	return (uint32_t)(p_rand() % n);
}

struct p_cell {
	uint32_t	id;		/* 0: slot empty */
	uint32_t	handle;
	uint16_t	port;
	uint8_t		addr[4];	/* one IPv4 address, or none */
	int		has_addr;
};

static struct p_cell p_cells[P_CELLS];
static unsigned p_serial;

static void
p_create(struct cell_core *core, struct p_cell *c)
{
	struct cell_create_req req;
	char name[32];
	int err;

	snprintf(name, sizeof(name), "p%u", p_serial++);
	t_req(&req, name);
	req.cr_profile = 1 + p_below(3);
	req.cr_flags = p_below(4);
	c->port = (uint16_t)(1 + p_below(200));
	req.cr_nports = 1;
	req.cr_ports[0] = c->port;
	c->has_addr = p_below(2);
	if (c->has_addr) {
		req.cr_naddrs = 1;
		req.cr_addrs[0].ca_family = CELL_AF_INET;
		c->addr[0] = 10;
		c->addr[1] = 0;
		c->addr[2] = 0;
		c->addr[3] = (uint8_t)(1 + p_below(4));
		memcpy(req.cr_addrs[0].ca_addr, c->addr, 4);
	}
	err = cell_create(core, &req, sizeof(req), 1, NULL, &c->id,
	    &c->handle);
	if (err == EADDRINUSE) {
		c->id = 0;
		return;
	}
	T_EQ(err, 0);
	if (err != 0)
		c->id = 0;
}

static void
p_destroy(struct cell_core *core, struct p_cell *c)
{

	T_EQ(cell_destroy(core, c->id, NULL), 0);
	c->id = 0;	/* c->handle stays: now stale */
}

static int
p_is_live_handle(uint32_t h)
{
	unsigned i;

	for (i = 0; i < P_CELLS; i++)
		if (p_cells[i].id != 0 && p_cells[i].handle == h)
			return 1;
	return 0;
}

static void
test_isolation_invariants(void)
{
	struct cell_core *core = t_core();
	struct cell_subject s;
	struct cell_object o;
	struct cell_rec *rec;
	struct p_cell *sc, *oc;
	uint64_t head0, head1;
	uint32_t reason, reason2, owner, saved_profile = 0;
	unsigned long it;
	unsigned op, seen[CELL_R_COUNT], i, kind, corrupt;
	int v, v2, cls;

	memset(seen, 0, sizeof(seen));
	memset(p_cells, 0, sizeof(p_cells));
	for (i = 0; i < P_CELLS; i++)
		p_create(core, &p_cells[i]);

	for (it = 0; it < p_iters; it++) {
		/* Churn: replace a cell now and then. */
		if (p_below(50) == 0) {
			oc = &p_cells[p_below(P_CELLS)];
			if (oc->id != 0)
				p_destroy(core, oc);
			else
				p_create(core, oc);
		}

		/* Subject: host root, host user, a cell, a stale handle. */
		sc = &p_cells[p_below(P_CELLS)];
		kind = p_below(8);
		s.cs_euid = p_below(3) == 0 ? 0 : 1 + p_below(60000);
		if (kind == 0) {
			s.cs_handle = 0;
			s.cs_euid = 0;
		} else if (kind == 1) {
			s.cs_handle = 0;
			if (s.cs_euid == 0)
				s.cs_euid = 1000;
		} else if (kind == 2) {
			s.cs_handle = p_below(2) ? sc->handle :
			    CELL_MAX_CELLS + 1 + p_below(1000);
		} else
			s.cs_handle = sc->handle;

		/* Sometimes corrupt the subject cell's profile. */
		corrupt = 0;
		rec = cell_rec_get(core, s.cs_handle);
		if (rec != NULL && p_below(20) == 0) {
			corrupt = 1;
			saved_profile = rec->c_profile;
			rec->c_profile = p_below(2) ? 0 : 4 + p_below(1000);
		}

		/* Object: host, a cell (live or stale), a port, an address. */
		memset(&o, 0, sizeof(o));
		oc = &p_cells[p_below(P_CELLS)];
		o.co_handle = p_below(4) == 0 ? 0 : oc->handle;
		o.co_port = p_below(3) == 0 ? oc->port :
		    (uint16_t)p_below(65536);
		o.co_family = (uint8_t)(p_below(4) == 0 ? 0 :
		    p_below(3) == 0 ? CELL_AF_INET6 : CELL_AF_INET);
		o.co_addr[0] = 10;
		o.co_addr[3] = (uint8_t)(p_below(6));

		op = p_below(20) == 0 ? CELL_OP_COUNT + p_below(100) :
		    p_below(CELL_OP_COUNT);
		cls = cell_op_class(op);

		v = cell_decide(core, &s, op, &o, &reason);
		if (!T_CHECK(reason < CELL_R_COUNT))
			break;
		seen[reason]++;

		/* check == decide, one event per DENY and none otherwise. */
		head0 = cell_load_64(&core->cc_audit_head);
		v2 = cell_check(core, &s, op, &o, it, 0, 1);
		head1 = cell_load_64(&core->cc_audit_head);
		T_EQ(v2, v);
		T_EQ(head1 - head0, v == CELL_DENY ? 1 : 0);
		(void)cell_decide(core, &s, op, &o, &reason2);
		T_EQ(reason2, reason);

		if (op >= CELL_OP_COUNT) {
			T_EQ(v, CELL_DENY);
		} else if (s.cs_handle != 0 && rec == NULL) {
			T_EQ(v, CELL_DENY);
			T_EQ(reason, CELL_R_BAD_HANDLE);
		} else if (cls == CELL_CLASS_ALLOW) {
			T_EQ(v, CELL_ALLOW);
		} else {
			T_CHECK(v != CELL_ALLOW);
			if (s.cs_handle == 0 && s.cs_euid == 0)
				T_CHECK(v != CELL_DENY);
			if (s.cs_handle != 0 && rec == NULL)
				T_EQ(v, CELL_DENY);
			if (rec != NULL && cls == CELL_CLASS_CROSS &&
			    o.co_handle != s.cs_handle)
				T_EQ(v, CELL_DENY);
			if (rec != NULL && corrupt &&
			    cls == CELL_CLASS_PROFILE)
				T_EQ(v, CELL_DENY);
			if (s.cs_handle == 0 && s.cs_euid != 0 &&
			    cls == CELL_CLASS_CROSS && o.co_handle != 0)
				T_EQ(v, CELL_DENY);
			owner = o.co_port == 0 ? 0 :
			    cell_port_owner(core, o.co_port);
			if (cls == CELL_CLASS_BIND && owner != 0 &&
			    !(s.cs_handle == 0 && s.cs_euid == 0) &&
			    (rec == NULL || rec->c_id != owner))
				T_EQ(v, CELL_DENY);
			/* Same cell, CROSS: never denied. */
			if (rec != NULL && cls == CELL_CLASS_CROSS &&
			    o.co_handle == s.cs_handle)
				T_EQ(v, CELL_DEFER);
			if (rec != NULL && cls == CELL_CLASS_CROSS)
				T_CHECK(p_is_live_handle(s.cs_handle));
		}
		if (corrupt)
			rec->c_profile = saved_profile;
		if (t_checks_failed > 20)
			break;
	}

	for (i = 0; i < CELL_R_COUNT; i++)
		if (!T_CHECK(seen[i] > 0))
			printf("  reason %s never produced\n",
			    cell_reason_name(i));
	printf("%lu draws; reasons:", it);
	for (i = 0; i < CELL_R_COUNT; i++)
		printf(" %s=%u", cell_reason_name(i), seen[i]);
	printf("\n");
	cell_core_destroy(core);
}

int
main(int argc, char **argv)
{

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		p_iters = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		p_state = strtoull(argv[2], NULL, 0) | 1;
	T_RUN(test_isolation_invariants);
	return t_summary();
}
