/*	$NetBSD$	*/

/*
 * test_audit.c -- cell_check() effects: deny counters, the audit ring,
 * the deny log rate limit.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell_impl.h"
#include "harness.h"

static int
t_check_op(struct cell_core *core, uint32_t handle, uint32_t euid,
    unsigned op, uint32_t ohandle, uint16_t port, uint64_t action,
    uint64_t now)
{
	struct cell_subject s = { handle, euid };
	struct cell_object o;

	memset(&o, 0, sizeof(o));
	o.co_handle = ohandle;
	o.co_port = port;
	return cell_check(core, &s, op, &o, action, action + 1, now);
}

/* Every DENY counts per cell and scope, for the host, and in total. */
static void
test_counters(void)
{
	struct cell_core *core = t_core();
	struct cell_create_req req;
	struct cell_stats st;
	struct cell_info ci;
	uint32_t ida, ha, idb, hb;
	unsigned i;

	T_EQ(t_create(core, "a", CELL_PROFILE_HIGH, &ida, &ha), 0);
	t_req(&req, "b");
	req.cr_nports = 1;
	req.cr_ports[0] = 25;
	T_EQ(cell_create(core, &req, sizeof(req), 1, NULL, &idb, &hb), 0);

	/* a: 3 process denies, 2 system, 1 network; 2 DEFERs not counted. */
	for (i = 0; i < 3; i++)
		T_EQ(t_check_op(core, ha, 0, CELL_OP_PROC_SIGNAL, hb, 0, 1, 5),
		    CELL_DENY);
	T_EQ(t_check_op(core, ha, 0, CELL_OP_SYS_ADMIN, 0, 0, 1, 5),
	    CELL_DENY);
	T_EQ(t_check_op(core, ha, 0, CELL_OP_SYS_MOUNT, 0, 0, 1, 5),
	    CELL_DENY);
	T_EQ(t_check_op(core, ha, 0, CELL_OP_NET_BIND, 0, 25, 1, 5),
	    CELL_DENY);
	T_EQ(t_check_op(core, ha, 0, CELL_OP_PROC_SIGNAL, ha, 0, 1, 5),
	    CELL_DEFER);
	T_EQ(t_check_op(core, ha, 0, CELL_OP_SYS_MOUNT_GET, 0, 0, 1, 5),
	    CELL_DEFER);
	T_EQ(t_check_op(core, ha, 0, CELL_OP_CRED_ANY, 0, 0, 1, 5),
	    CELL_ALLOW);
	/* host non-root: 1 process deny; host root: none. */
	T_EQ(t_check_op(core, 0, 1000, CELL_OP_PROC_PTRACE, ha, 0, 1, 5),
	    CELL_DENY);
	T_EQ(t_check_op(core, 0, 0, CELL_OP_PROC_PTRACE, ha, 0, 1, 5),
	    CELL_DEFER);
	/* stale handle and unknown op: totals / events only. */
	T_EQ(t_check_op(core, 999, 0, CELL_OP_SYS_ADMIN, 0, 0, 1, 5),
	    CELL_DENY);
	T_EQ(t_check_op(core, ha, 0, CELL_OP_COUNT + 3, 0, 0, 1, 5),
	    CELL_DENY);

	T_EQ(cell_info_get(core, ida, &ci, 5), 0);
	T_EQ(ci.ci_denies[CELL_SCOPE_PROCESS], 3);
	T_EQ(ci.ci_denies[CELL_SCOPE_SYSTEM], 2);
	T_EQ(ci.ci_denies[CELL_SCOPE_NETWORK], 1);
	T_EQ(ci.ci_denies[CELL_SCOPE_DEVICE], 0);
	T_EQ(ci.ci_denies[CELL_SCOPE_CRED], 0);
	T_EQ(cell_info_get(core, idb, &ci, 5), 0);
	for (i = 0; i < CELL_SCOPE_MAX; i++)
		T_EQ(ci.ci_denies[i], 0);

	cell_stats_get(core, &st, 100);
	T_EQ(st.st_size, sizeof(st));
	T_EQ(st.st_abi, CELL_ABI_VERSION);
	T_EQ(st.st_hz, 100);
	T_EQ(st.st_ncells, 2);
	T_EQ(st.st_next_id, 3);
	T_EQ(st.st_audit_size, CELL_AUDIT_RING);
	T_EQ(st.st_audit_head, 9);
	T_EQ(st.st_denies[CELL_SCOPE_PROCESS], 4);
	T_EQ(st.st_denies[CELL_SCOPE_SYSTEM], 3);
	T_EQ(st.st_denies[CELL_SCOPE_NETWORK], 1);
	T_EQ(st.st_host_denies[CELL_SCOPE_PROCESS], 1);
	T_EQ(st.st_host_denies[CELL_SCOPE_SYSTEM], 0);
	T_EQ(st.st_pad0, 0);

	/* A destroyed cell's denials stay in the totals. */
	T_EQ(cell_destroy(core, ida, NULL), 0);
	cell_stats_get(core, &st, 100);
	T_EQ(st.st_ncells, 1);
	T_EQ(st.st_denies[CELL_SCOPE_PROCESS], 4);
	T_EQ(st.st_denies[CELL_SCOPE_SYSTEM], 3);
	T_EQ(st.st_denies[CELL_SCOPE_NETWORK], 1);
	T_EQ(t_check_op(core, hb, 0, CELL_OP_MD_ANY, 0, 0, 1, 5), CELL_DENY);
	cell_stats_get(core, &st, 100);
	T_EQ(st.st_denies[CELL_SCOPE_MACHDEP], 1);
	T_EQ(st.st_denies[CELL_SCOPE_PROCESS], 4);
	cell_core_destroy(core);
}

/* Events record what was denied, and to whom. */
static void
test_event_fields(void)
{
	struct cell_core *core = t_core();
	struct cell_create_req req;
	struct cell_event ev[8];
	uint32_t ida, ha, idb, hb;

	T_EQ(t_create(core, "a", CELL_PROFILE_HIGH, &ida, &ha), 0);
	t_req(&req, "b");
	req.cr_nports = 1;
	req.cr_ports[0] = 25;
	T_EQ(cell_create(core, &req, sizeof(req), 1, NULL, &idb, &hb), 0);
	T_EQ(cell_events(core, 0, ev, 8), 0);

	T_EQ(t_check_op(core, ha, 33, CELL_OP_PROC_SIGNAL, hb, 0, 100, 7000),
	    CELL_DENY);
	T_EQ(t_check_op(core, ha, 0, CELL_OP_NET_BIND, 0, 25, 200, 7001),
	    CELL_DENY);
	T_EQ(t_check_op(core, 0, 5, CELL_OP_PROC_CANSEE, hb, 0, 300, 7002),
	    CELL_DENY);
	T_EQ(t_check_op(core, ha, 0, CELL_OP_DEV_ANY, 0, 0, 400, 7003),
	    CELL_DENY);
	T_EQ(t_check_op(core, ha, 0, 1000, 0, 0, 500, 7004), CELL_DENY);
	T_EQ(cell_events(core, 0, ev, 8), 5);

	T_EQ(ev[0].ev_seq, 1);
	T_EQ(ev[0].ev_time, 7000);
	T_EQ(ev[0].ev_cell, ida);
	T_EQ(ev[0].ev_target, idb);
	T_EQ(ev[0].ev_euid, 33);
	T_EQ(ev[0].ev_scope, CELL_SCOPE_PROCESS);
	T_EQ(ev[0].ev_op, CELL_OP_PROC_SIGNAL);
	T_EQ(ev[0].ev_reason, CELL_R_CROSS_CELL);
	T_EQ(ev[0].ev_action, 100);
	T_EQ(ev[0].ev_request, 101);
	T_EQ(ev[0].ev_pad, 0);

	T_EQ(ev[1].ev_seq, 2);
	T_EQ(ev[1].ev_target, idb);	/* the port's owner */
	T_EQ(ev[1].ev_scope, CELL_SCOPE_NETWORK);
	T_EQ(ev[1].ev_reason, CELL_R_PORT_OWNED);

	T_EQ(ev[2].ev_cell, 0);
	T_EQ(ev[2].ev_target, idb);
	T_EQ(ev[2].ev_reason, CELL_R_INTO_CELL);

	T_EQ(ev[3].ev_target, 0);
	T_EQ(ev[3].ev_scope, CELL_SCOPE_DEVICE);
	T_EQ(ev[3].ev_reason, CELL_R_PROFILE_DENY);

	T_EQ(ev[4].ev_scope, CELL_SCOPE_COUNT);
	T_STR(cell_scope_name(ev[4].ev_scope), "unknown");
	T_EQ(ev[4].ev_op, 1000);
	T_EQ(ev[4].ev_reason, CELL_R_UNKNOWN_OP);

	/* since, and a short buffer. */
	T_EQ(cell_events(core, 4, ev, 8), 2);
	T_EQ(ev[0].ev_seq, 4);
	T_EQ(cell_events(core, 2, ev, 1), 1);
	T_EQ(ev[0].ev_seq, 2);
	T_EQ(cell_events(core, 6, ev, 8), 0);
	T_EQ(cell_events(core, 1, ev, 0), 0);
	T_EQ(cell_events(core, 1, NULL, 8), 0);
	cell_core_destroy(core);
}

/* More than CELL_AUDIT_RING events: the oldest are lost, seq goes on. */
static void
test_ring_wrap(void)
{
	struct cell_core *core = t_core();
	struct cell_event *ev;
	uint32_t id, h;
	size_t n, i, total = CELL_AUDIT_RING * 3 + 17;

	ev = calloc(CELL_AUDIT_RING + 10, sizeof(*ev));
	T_EQ(t_create(core, "a", CELL_PROFILE_HIGH, &id, &h), 0);
	for (i = 0; i < total; i++)
		T_EQ(t_check_op(core, h, 0, CELL_OP_SYS_ADMIN, 0, 0, i, i),
		    CELL_DENY);
	n = cell_events(core, 0, ev, CELL_AUDIT_RING + 10);
	T_EQ(n, CELL_AUDIT_RING);
	T_EQ(ev[0].ev_seq, total - CELL_AUDIT_RING + 1);
	T_EQ(ev[n - 1].ev_seq, total);
	for (i = 1; i < n; i++) {
		if (!T_EQ(ev[i].ev_seq, ev[i - 1].ev_seq + 1))
			break;
		T_EQ(ev[i].ev_action, ev[i].ev_seq - 1);
	}
	/* Asking for a lost seq starts at the oldest kept. */
	n = cell_events(core, 5, ev, 3);
	T_EQ(n, 3);
	T_EQ(ev[0].ev_seq, total - CELL_AUDIT_RING + 1);
	/* Following from the newest + 1: nothing, then the new one. */
	T_EQ(cell_events(core, total + 1, ev, 3), 0);
	T_EQ(t_check_op(core, h, 0, CELL_OP_SYS_ADMIN, 0, 0, 0, 0), CELL_DENY);
	T_EQ(cell_events(core, total + 1, ev, 3), 1);
	T_EQ(ev[0].ev_seq, total + 1);
	free(ev);
	cell_core_destroy(core);
}

/* A slot being written (seq 0) or overwritten is skipped. */
static void
test_ring_torn(void)
{
	struct cell_core *core = t_core();
	struct cell_event ev[4];
	uint32_t id, h;

	T_EQ(t_create(core, "a", CELL_PROFILE_HIGH, &id, &h), 0);
	T_EQ(t_check_op(core, h, 0, CELL_OP_SYS_ADMIN, 0, 0, 1, 1), CELL_DENY);
	T_EQ(t_check_op(core, h, 0, CELL_OP_SYS_ADMIN, 0, 0, 2, 2), CELL_DENY);
	T_EQ(t_check_op(core, h, 0, CELL_OP_SYS_ADMIN, 0, 0, 3, 3), CELL_DENY);
	core->cc_audit[1].as_seq = 0;
	T_EQ(cell_events(core, 0, ev, 4), 2);
	T_EQ(ev[0].ev_seq, 1);
	T_EQ(ev[1].ev_seq, 3);
	core->cc_audit[1].as_seq = 2 + CELL_AUDIT_RING;
	T_EQ(cell_events(core, 0, ev, 4), 2);
	cell_core_destroy(core);
}

/* At most 5 deny log lines per scope and second; the rest counted. */
static void
test_ratecheck(void)
{
	struct cell_core *core = t_core();
	struct cell_stats st;
	int i, ok;

	for (ok = 0, i = 0; i < 20; i++)
		ok += cell_log_ratecheck(core, CELL_SCOPE_PROCESS, 100);
	T_EQ(ok, 5);
	/* Another scope has its own window. */
	for (ok = 0, i = 0; i < 7; i++)
		ok += cell_log_ratecheck(core, CELL_SCOPE_NETWORK, 100);
	T_EQ(ok, 5);
	/* The next second starts afresh. */
	for (ok = 0, i = 0; i < 6; i++)
		ok += cell_log_ratecheck(core, CELL_SCOPE_PROCESS, 101);
	T_EQ(ok, 5);
	/* Back in time counts as a new window too (clock step). */
	T_EQ(cell_log_ratecheck(core, CELL_SCOPE_PROCESS, 100), 1);
	/* Second 0 works, and a large clock value too. */
	T_EQ(cell_log_ratecheck(core, CELL_SCOPE_DEVICE, 0), 1);
	T_EQ(cell_log_ratecheck(core, CELL_SCOPE_MACHDEP, UINT64_MAX), 1);
	/* A scope out of range is never logged. */
	T_EQ(cell_log_ratecheck(core, CELL_SCOPE_MAX, 100), 0);
	cell_stats_get(core, &st, 100);
	T_EQ(st.st_log_suppressed, 15 + 2 + 1 + 1);
	cell_core_destroy(core);
}

void	test_audit(void);

void
test_audit(void)
{

	T_RUN(test_counters);
	T_RUN(test_event_fields);
	T_RUN(test_ring_wrap);
	T_RUN(test_ring_torn);
	T_RUN(test_ratecheck);
}
