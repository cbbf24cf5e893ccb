/*	$NetBSD$	*/

/*
 * test_concurrency.c -- a smoke test of the lock-free paths under
 * contention: deciders, create/destroy churn, reference traffic, audit
 * and list readers at once.  Run under ASan/UBSan by `make test`.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell_impl.h"
#include "harness.h"

#define	T_ROUNDS	20000

struct t_shared {
	struct cell_core *core;
	uint32_t	ha, hb, ida, idb;
	uint64_t	denies[2];	/* per decider thread */
	unsigned	bad[4];		/* invariant breaks per thread */
	volatile int	stop;
};

static void *
t_decider(void *arg, int which)
{
	struct t_shared *sh = arg;
	struct cell_subject s;
	struct cell_object o;
	unsigned seed = 77u + (unsigned)which, op, i;
	int v;

	memset(&o, 0, sizeof(o));
	for (i = 0; i < T_ROUNDS; i++) {
		seed = seed * 1103515245u + 12345u;
		op = (seed >> 16) % CELL_OP_COUNT;
		s.cs_handle = (seed & 1) ? sh->ha : sh->hb;
		s.cs_euid = 0;
		o.co_handle = (seed & 2) ? sh->ha : sh->hb;
		o.co_port = (uint16_t)((seed >> 4) & 3) + 7000;
		v = cell_check(sh->core, &s, op, &o, i, (uint64_t)i + 1, 1);
		if (v == CELL_DENY)
			sh->denies[which]++;
		if (cell_op_class(op) == CELL_CLASS_CROSS &&
		    o.co_handle != s.cs_handle && v != CELL_DENY)
			sh->bad[which]++;
	}
	return NULL;
}

static void *
t_decider0(void *arg)
{

	return t_decider(arg, 0);
}

static void *
t_decider1(void *arg)
{

	return t_decider(arg, 1);
}

/* Create and destroy cells holding ports 7000..7003; destroy of A fails. */
static void *
t_churn(void *arg)
{
	struct t_shared *sh = arg;
	struct cell_create_req req;
	uint32_t id, h, i;
	int err;

	for (i = 0; i < 2000; i++) {
		t_req(&req, "churn");
		req.cr_nports = 1;
		req.cr_ports[0] = (uint16_t)(7000 + i % 4);
		err = cell_create(sh->core, &req, sizeof(req), 1, NULL, &id,
		    &h);
		if (err != 0)
			sh->bad[2]++;
		else if (cell_destroy(sh->core, id, NULL) != 0)
			sh->bad[2]++;
		if (cell_destroy(sh->core, sh->ida, NULL) != EBUSY)
			sh->bad[2]++;
	}
	return NULL;
}

/* Follow the audit ring: seq strictly increasing, events never torn. */
static void *
t_reader(void *arg)
{
	struct t_shared *sh = arg;
	struct cell_event ev[64];
	struct cell_info ci[8];
	uint64_t next = 1;
	size_t n, i, cnt;

	while (!sh->stop) {
		n = cell_events(sh->core, next, ev, 64);
		for (i = 0; i < n; i++) {
			if (ev[i].ev_seq < next ||
			    ev[i].ev_request != ev[i].ev_action + 1)
				sh->bad[3]++;
			next = ev[i].ev_seq + 1;
		}
		cnt = 8;
		if (cell_list(sh->core, ci, &cnt, 1) != 0 || cnt < 2)
			sh->bad[3]++;
		cell_ref(sh->core, sh->hb);
		cell_unref(sh->core, sh->hb);
	}
	return NULL;
}

static void
test_concurrency(void)
{
	struct t_shared sh;
	struct cell_stats st;
	pthread_t t[4];
	uint64_t total;
	unsigned i;

	memset(&sh, 0, sizeof(sh));
	sh.core = t_core();
	T_EQ(t_create(sh.core, "a", 3, &sh.ida, &sh.ha), 0);
	T_EQ(t_create(sh.core, "b", 1, &sh.idb, &sh.hb), 0);
	T_EQ(cell_enter(sh.core, sh.ida, NULL, NULL), 0);
	T_EQ(cell_enter(sh.core, sh.idb, NULL, NULL), 0);
	T_EQ(pthread_create(&t[0], NULL, t_decider0, &sh), 0);
	T_EQ(pthread_create(&t[1], NULL, t_decider1, &sh), 0);
	T_EQ(pthread_create(&t[2], NULL, t_churn, &sh), 0);
	T_EQ(pthread_create(&t[3], NULL, t_reader, &sh), 0);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	sh.stop = 1;
	pthread_join(t[3], NULL);
	for (i = 0; i < 4; i++)
		T_EQ(sh.bad[i], 0);

	cell_stats_get(sh.core, &st, 100);
	for (total = 0, i = 0; i < CELL_SCOPE_MAX; i++)
		total += st.st_denies[i];
	T_EQ(total, sh.denies[0] + sh.denies[1]);
	T_EQ(st.st_audit_head, sh.denies[0] + sh.denies[1]);
	T_EQ(st.st_ncells, 2);
	cell_unref(sh.core, sh.ha);
	cell_unref(sh.core, sh.hb);
	T_EQ(cell_destroy(sh.core, sh.ida, NULL), 0);
	T_EQ(cell_destroy(sh.core, sh.idb, NULL), 0);
	cell_core_destroy(sh.core);
}

/*
 * Enter against destroy: a holder of a reference always finds its cell
 * alive (ASan would see a freed record), destroy succeeds only between
 * references, and a destroyed id is never entered again.
 */
struct t_race {
	struct cell_core *core;
	uint32_t	id;		/* current incarnation, atomic */
	unsigned	bad;
	unsigned	entered;
	unsigned	destroyed;
};

static void *
t_enterer(void *arg)
{
	struct t_race *r = arg;
	uint32_t id, h, i;

	for (i = 0; i < 20000; i++) {
		id = __atomic_load_n(&r->id, __ATOMIC_ACQUIRE);
		if (cell_enter(r->core, id, &h, NULL) != 0)
			continue;
		r->entered++;
		if (cell_handle_id(r->core, h) != id)
			r->bad++;
		cell_ref(r->core, h);		/* a fork's copy */
		cell_unref(r->core, h);
		cell_unref(r->core, h);
	}
	return NULL;
}

static void *
t_destroyer(void *arg)
{
	struct t_race *r = arg;
	uint32_t id, old, h, i;
	int err;

	/*
	 * Until at least one destroy went through: on a busy machine the
	 * enterer may hold its reference at every try; once it is done,
	 * destroy succeeds.
	 */
	for (i = 0; i < 20000 || r->destroyed == 0; i++) {
		old = __atomic_load_n(&r->id, __ATOMIC_ACQUIRE);
		err = cell_destroy(r->core, old, NULL);
		if (err == EBUSY)
			continue;
		if (err != 0) {
			r->bad++;
			break;
		}
		r->destroyed++;
		if (cell_enter(r->core, old, &h, NULL) != ENOENT)
			r->bad++;
		if (t_create(r->core, "race", 3, &id, &h) != 0 || id <= old) {
			r->bad++;
			break;
		}
		__atomic_store_n(&r->id, id, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void
test_enter_vs_destroy(void)
{
	struct t_race r;
	pthread_t t[2];

	memset(&r, 0, sizeof(r));
	r.core = t_core();
	T_EQ(t_create(r.core, "race", 3, &r.id, NULL), 0);
	T_EQ(pthread_create(&t[0], NULL, t_enterer, &r), 0);
	T_EQ(pthread_create(&t[1], NULL, t_destroyer, &r), 0);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	T_EQ(r.bad, 0);
	T_CHECK(r.entered > 0);
	T_CHECK(r.destroyed > 0);
	T_EQ(cell_core_count(r.core), 1);
	T_EQ(cell_destroy(r.core, r.id, NULL), 0);
	cell_core_destroy(r.core);
}

void	test_concurrency_all(void);

void
test_concurrency_all(void)
{

	T_RUN(test_concurrency);
	T_RUN(test_enter_vs_destroy);
}
