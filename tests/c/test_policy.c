/*	$NetBSD$	*/

/*
 * test_policy.c -- every row of the policy table, under every profile,
 * for every kind of subject.
 *
 * The expected matrix below is written out by hand, independently of
 * cell_policy.def: a row changed in the table without changing it here
 * fails.  The same checks are also driven from the table's own columns,
 * so cell_decide() is held to what the table says.
 */

#include <stdio.h>
#include <string.h>

#include "cell_impl.h"
#include "harness.h"

#define	F	CELL_DEFER
#define	X	CELL_DENY
#define	A	CELL_ALLOW
#define	PROC	CELL_SCOPE_PROCESS
#define	SYS	CELL_SCOPE_SYSTEM
#define	NET	CELL_SCOPE_NETWORK
#define	DEV	CELL_SCOPE_DEVICE
#define	MD	CELL_SCOPE_MACHDEP
#define	CRED	CELL_SCOPE_CRED
#define	CROSS	CELL_CLASS_CROSS
#define	PROF	CELL_CLASS_PROFILE
#define	BIND	CELL_CLASS_BIND
#define	ALLOW	CELL_CLASS_ALLOW

struct t_row {
	const char	*name;
	int		scope;
	int		cls;
	int		col[3];		/* low, medium, high */
	uint32_t	relax;
};

static const struct t_row t_rows[] = {
	{ "process.cansee", PROC, CROSS, { X, X, X }, 0 },
	{ "process.signal", PROC, CROSS, { X, X, X }, 0 },
	{ "process.ptrace", PROC, CROSS, { X, X, X }, 0 },
	{ "process.ktrace", PROC, CROSS, { X, X, X }, 0 },
	{ "process.procfs", PROC, CROSS, { X, X, X }, 0 },
	{ "process.nice", PROC, CROSS, { X, X, X }, 0 },
	{ "process.scheduler", PROC, CROSS, { X, X, X }, 0 },
	{ "process.setid", PROC, CROSS, { X, X, X }, 0 },
	{ "process.rlimit", PROC, CROSS, { X, X, X }, 0 },
	{ "process.corename", PROC, CROSS, { X, X, X }, 0 },
	{ "process.kevent_filter", PROC, CROSS, { X, X, X }, 0 },
	{ "process.stopflag", PROC, CROSS, { X, X, X }, 0 },
	{ "process.fork", PROC, CROSS, { X, X, X }, 0 },
	{ "process.unknown", PROC, PROF, { X, X, X }, 0 },
	{ "system.admin", SYS, PROF, { F, X, X }, 0 },
	{ "system.mount", SYS, PROF, { F, X, X }, 0 },
	{ "system.mount_get", SYS, PROF, { F, F, F }, 0 },
	{ "system.sysctl_write", SYS, PROF, { F, X, X }, 0 },
	{ "system.sysctl_private", SYS, PROF, { X, X, X }, 0 },
	{ "system.sysctl_desc", SYS, PROF, { F, F, F }, 0 },
	{ "system.sysvipc", SYS, PROF, { F, F, X }, CELL_F_ALLOW_SYSVIPC },
	{ "system.quota_get", SYS, PROF, { F, F, F }, 0 },
	{ "system.unknown", SYS, PROF, { X, X, X }, 0 },
	{ "network.bind", NET, BIND, { F, F, F }, 0 },
	{ "network.socket", NET, PROF, { F, F, F }, 0 },
	{ "network.rawsock", NET, PROF, { F, X, X }, CELL_F_ALLOW_RAWSOCK },
	{ "network.routesock", NET, PROF, { F, X, X }, 0 },
	{ "network.socket_cansee", NET, CROSS, { X, X, X }, 0 },
	{ "network.socket_priv", NET, PROF, { F, X, X }, 0 },
	{ "network.admin", NET, PROF, { F, X, X }, 0 },
	{ "network.unknown", NET, PROF, { X, X, X }, 0 },
	{ "device.any", DEV, PROF, { F, X, X }, 0 },
	{ "device.tty_open", DEV, PROF, { F, F, F }, 0 },
	{ "machdep.any", MD, PROF, { F, X, X }, 0 },
	{ "cred.any", CRED, ALLOW, { A, A, A }, 0 },
};
#define	T_NROWS	(sizeof(t_rows) / sizeof(t_rows[0]))

/*
 * A core with, per profile, a plain cell "p<profile>" and a relaxed one
 * "r<profile>" (CELL_F_ALL), plus a cell "other" that owns port 8080.
 */
struct t_world {
	struct cell_core *core;
	uint32_t	plain[4];	/* handles by profile */
	uint32_t	relaxed[4];
	uint32_t	other;
	uint32_t	other_id;
};

static void
t_world_init(struct t_world *w)
{
	struct cell_create_req req;
	char name[16];
	uint32_t p, id;

	memset(w, 0, sizeof(*w));
	w->core = t_core();
	for (p = CELL_PROFILE_LOW; p <= CELL_PROFILE_HIGH; p++) {
		snprintf(name, sizeof(name), "p%u", p);
		T_EQ(t_create(w->core, name, p, &id, &w->plain[p]), 0);
		t_req(&req, "r");
		snprintf(req.cr_name, sizeof(req.cr_name), "r%u", p);
		req.cr_profile = p;
		req.cr_flags = CELL_F_ALL;
		T_EQ(cell_create(w->core, &req, sizeof(req), 1, NULL, &id,
		    &w->relaxed[p]), 0);
	}
	t_req(&req, "other");
	req.cr_nports = 1;
	req.cr_ports[0] = 8080;
	T_EQ(cell_create(w->core, &req, sizeof(req), 1, NULL, &w->other_id,
	    &w->other), 0);
}

static int
t_decide(struct cell_core *core, uint32_t handle, uint32_t euid, unsigned op,
    uint32_t ohandle, uint16_t port, uint32_t *reason)
{
	struct cell_subject s = { handle, euid };
	struct cell_object o;

	memset(&o, 0, sizeof(o));
	o.co_handle = ohandle;
	o.co_port = port;
	return cell_decide(core, &s, op, &o, reason);
}

static const struct t_row *
t_row_of(const char *name)
{
	size_t i;

	for (i = 0; i < T_NROWS; i++)
		if (strcmp(t_rows[i].name, name) == 0)
			return &t_rows[i];
	return NULL;
}

/* The table has exactly the rows written out above, with their columns. */
static void
test_table_matches_expected(void)
{
	const struct t_row *row;
	unsigned op, p;

	T_EQ(cell_op_count(), T_NROWS);
	T_EQ(CELL_OP_COUNT, T_NROWS);
	for (op = 0; op < cell_op_count(); op++) {
		row = t_row_of(cell_op_name(op));
		if (!T_CHECK(row != NULL)) {
			printf("  row %s not in the expected matrix\n",
			    cell_op_name(op));
			continue;
		}
		T_EQ(cell_op_lookup(row->name), op);
		T_EQ(cell_op_scope(op), row->scope);
		T_EQ(cell_op_class(op), row->cls);
		T_EQ(cell_op_relax(op), row->relax);
		T_CHECK(strlen(cell_op_doc(op)) > 0);
		for (p = CELL_PROFILE_LOW; p <= CELL_PROFILE_HIGH; p++)
			T_EQ(cell_op_default(op, p), row->col[p - 1]);
	}
	T_EQ(cell_op_default(0, 0), CELL_DENY);
	T_EQ(cell_op_default(0, 4), CELL_DENY);
	T_EQ(cell_op_default(CELL_OP_COUNT, CELL_PROFILE_LOW), CELL_DENY);
	T_EQ(cell_op_scope(CELL_OP_COUNT), -1);
	T_EQ(cell_op_class(CELL_OP_COUNT), -1);
	T_EQ(cell_op_relax(CELL_OP_COUNT), 0);
	T_STR(cell_op_name(CELL_OP_COUNT), "unknown");
	T_EQ(cell_op_lookup("process.nosuch"), -1);
	T_EQ(cell_op_lookup(""), -1);
	T_EQ(cell_op_lookup("process.signa"), -1);
	T_EQ(cell_op_lookup("process.signal "), -1);
	T_EQ(cell_op_lookup(NULL), -1);
	T_EQ(cell_op_lookup("process.signal"), CELL_OP_PROC_SIGNAL);
}

static void
test_names(void)
{
	static const char *const reasons[CELL_R_COUNT] = {
		"host_root", "host", "same_cell", "cross_cell", "into_cell",
		"profile_defer", "profile_deny", "override", "port_free",
		"port_owned", "bind_addr", "unknown_op", "bad_profile",
		"bad_handle", "cred",
	};
	static const char *const scopes[CELL_SCOPE_COUNT] = {
		"process", "system", "network", "device", "machdep", "cred",
	};
	unsigned i;

	for (i = 0; i < CELL_R_COUNT; i++)
		T_STR(cell_reason_name(i), reasons[i]);
	for (i = 0; i < CELL_SCOPE_COUNT; i++)
		T_STR(cell_scope_name(i), scopes[i]);
	T_STR(cell_reason_name(CELL_R_COUNT), "unknown");
	T_STR(cell_reason_name(~0u), "unknown");
	T_STR(cell_scope_name(CELL_SCOPE_COUNT), "unknown");
}

/*
 * The verdict and reason a celled subject must get, from a row's class
 * and column: the same rule whether the row comes from the expected
 * matrix or from the table.
 */
static int
t_expect_celled(int cls, int col, uint32_t relax, uint32_t flags, int same,
    uint32_t *reason)
{

	switch (cls) {
	case CELL_CLASS_CROSS:
		*reason = same ? CELL_R_SAME_CELL : CELL_R_CROSS_CELL;
		return same ? CELL_DEFER : CELL_DENY;
	case CELL_CLASS_PROFILE:
		if (col == CELL_DENY && relax != 0 && (flags & relax) != 0) {
			*reason = CELL_R_OVERRIDE;
			return CELL_DEFER;
		}
		*reason = col == CELL_DENY ? CELL_R_PROFILE_DENY :
		    CELL_R_PROFILE_DEFER;
		return col == CELL_DENY ? CELL_DENY : CELL_DEFER;
	case CELL_CLASS_BIND:
		/* Port 8080 is "other"'s: denied unless we are "other". */
		*reason = same ? CELL_R_PORT_FREE : CELL_R_PORT_OWNED;
		return same ? CELL_DEFER : CELL_DENY;
	case CELL_CLASS_ALLOW:
		*reason = CELL_R_CRED;
		return CELL_ALLOW;
	}
	*reason = CELL_R_COUNT;
	return -1;
}

/* Check every row for celled subjects: same cell and across cells. */
static void
t_check_celled(struct t_world *w, int from_table)
{
	const struct t_row *row;
	uint32_t handle, flags, reason, want_reason, relax, r;
	unsigned op, p;
	int cls, col, want, got, same;

	for (op = 0; op < cell_op_count(); op++) {
		row = t_row_of(cell_op_name(op));
		if (!from_table && row == NULL)
			continue;
		cls = from_table ? cell_op_class(op) : row->cls;
		relax = from_table ? cell_op_relax(op) : row->relax;
		for (p = CELL_PROFILE_LOW; p <= CELL_PROFILE_HIGH; p++) {
			col = from_table ? cell_op_default(op, p) :
			    row->col[p - 1];
			for (r = 0; r < 2; r++) {
				handle = r ? w->relaxed[p] : w->plain[p];
				flags = r ? CELL_F_ALL : 0;
				for (same = 0; same < 2; same++) {
					/*
					 * Same cell: the object is ours (and
					 * for BIND, port 0 which nobody owns).
					 * Across: the object is "other"'s.
					 */
					want = t_expect_celled(cls, col, relax,
					    flags, same, &want_reason);
					got = t_decide(w->core, handle, 0, op,
					    same ? handle : w->other,
					    same ? 0 : 8080, &reason);
					if (!T_EQ(got, want) ||
					    !T_EQ(reason, want_reason))
						printf("  %s profile %u%s %s\n",
						    cell_op_name(op), p,
						    r ? " relaxed" : "",
						    same ? "same cell" :
						    "cross cell");
					/* Euid does not matter in a cell. */
					got = t_decide(w->core, handle, 1000,
					    op, same ? handle : w->other,
					    same ? 0 : 8080, NULL);
					T_EQ(got, want);
				}
				/* Celled subject on a host object. */
				if (cls == CELL_CLASS_CROSS) {
					got = t_decide(w->core, handle, 0, op,
					    0, 0, &reason);
					T_EQ(got, CELL_DENY);
					T_EQ(reason, CELL_R_CROSS_CELL);
				}
			}
		}
	}
}

static void
test_celled_expected_matrix(void)
{
	struct t_world w;

	t_world_init(&w);
	t_check_celled(&w, 0);
	cell_core_destroy(w.core);
}

static void
test_celled_from_table(void)
{
	struct t_world w;

	t_world_init(&w);
	t_check_celled(&w, 1);
	cell_core_destroy(w.core);
}

/* The "other" cell binding its own reserved port. */
static void
test_bind_own_port(void)
{
	struct t_world w;
	uint32_t reason;

	t_world_init(&w);
	T_EQ(t_decide(w.core, w.other, 0, CELL_OP_NET_BIND, 0, 8080,
	    &reason), CELL_DEFER);
	T_EQ(reason, CELL_R_PORT_FREE);
	T_EQ(t_decide(w.core, w.plain[1], 0, CELL_OP_NET_BIND, 0, 8081,
	    &reason), CELL_DEFER);
	T_EQ(reason, CELL_R_PORT_FREE);
	cell_core_destroy(w.core);
}

/* Host root: DEFER everywhere except credential rows (ALLOW). */
static void
test_host_root(void)
{
	struct t_world w;
	const struct t_row *row;
	uint32_t reason, objh[3];
	uint16_t ports[3] = { 0, 8080, 9 };
	unsigned op, i;
	int got;

	t_world_init(&w);
	objh[0] = 0;
	objh[1] = w.other;
	objh[2] = w.plain[CELL_PROFILE_HIGH];
	for (op = 0; op < cell_op_count(); op++) {
		row = t_row_of(cell_op_name(op));
		if (!T_CHECK(row != NULL))
			continue;
		for (i = 0; i < 3; i++) {
			got = t_decide(w.core, 0, 0, op, objh[i], ports[i],
			    &reason);
			if (row->cls == CELL_CLASS_ALLOW) {
				T_EQ(got, CELL_ALLOW);
				T_EQ(reason, CELL_R_CRED);
			} else {
				T_EQ(got, CELL_DEFER);
				T_EQ(reason, CELL_R_HOST_ROOT);
			}
		}
	}
	cell_core_destroy(w.core);
}

/*
 * Host non-root: denied CROSS operations on celled objects and binds of
 * reserved ports; DEFER otherwise, ALLOW for credential rows.
 */
static void
test_host_nonroot(void)
{
	struct t_world w;
	const struct t_row *row;
	uint32_t reason;
	unsigned op;
	int got;

	t_world_init(&w);
	for (op = 0; op < cell_op_count(); op++) {
		row = t_row_of(cell_op_name(op));
		if (!T_CHECK(row != NULL))
			continue;
		/* On a celled object / a reserved port. */
		got = t_decide(w.core, 0, 1000, op, w.other, 8080, &reason);
		switch (row->cls) {
		case CELL_CLASS_CROSS:
			T_EQ(got, CELL_DENY);
			T_EQ(reason, CELL_R_INTO_CELL);
			break;
		case CELL_CLASS_BIND:
			T_EQ(got, CELL_DENY);
			T_EQ(reason, CELL_R_PORT_OWNED);
			break;
		case CELL_CLASS_ALLOW:
			T_EQ(got, CELL_ALLOW);
			T_EQ(reason, CELL_R_CRED);
			break;
		default:
			T_EQ(got, CELL_DEFER);
			T_EQ(reason, CELL_R_HOST);
		}
		/* On a host object / a free port. */
		got = t_decide(w.core, 0, 1000, op, 0, 8081, &reason);
		T_EQ(got, row->cls == CELL_CLASS_ALLOW ? CELL_ALLOW :
		    CELL_DEFER);
		T_EQ(reason, row->cls == CELL_CLASS_ALLOW ? CELL_R_CRED :
		    CELL_R_HOST);
	}
	cell_core_destroy(w.core);
}

/* Fail closed: unknown op, stale handle, corrupted profile. */
static void
test_fail_closed(void)
{
	struct t_world w;
	struct cell_rec *rec;
	uint32_t reason, p;
	unsigned op;

	t_world_init(&w);
	T_EQ(t_decide(w.core, 0, 0, CELL_OP_COUNT, 0, 0, &reason), CELL_DENY);
	T_EQ(reason, CELL_R_UNKNOWN_OP);
	T_EQ(t_decide(w.core, w.other, 0, ~0u, 0, 0, &reason), CELL_DENY);
	T_EQ(reason, CELL_R_UNKNOWN_OP);

	/* Handles naming no cell: an empty slot, past the table. */
	for (op = 0; op < CELL_OP_COUNT; op++) {
		T_EQ(t_decide(w.core, 500, 0, op, 500, 0, &reason), CELL_DENY);
		T_EQ(reason, CELL_R_BAD_HANDLE);
		T_EQ(t_decide(w.core, CELL_MAX_CELLS + 1, 0, op, 0, 0,
		    &reason), CELL_DENY);
		T_EQ(reason, CELL_R_BAD_HANDLE);
		T_EQ(t_decide(w.core, ~0u, 0, op, 0, 0, &reason), CELL_DENY);
	}
	/* Even credential bookkeeping: a bad handle is never a subject. */
	T_EQ(t_decide(w.core, 500, 0, CELL_OP_CRED_ANY, 0, 0, &reason),
	    CELL_DENY);
	T_EQ(reason, CELL_R_BAD_HANDLE);

	/* A corrupted profile denies every PROFILE row. */
	rec = w.core->cc_table[w.plain[CELL_PROFILE_LOW] - 1];
	for (p = 0; p < 3; p++) {
		rec->c_profile = p == 0 ? 0 : p == 1 ? 4 : 0xdeadbeef;
		T_EQ(t_decide(w.core, w.plain[CELL_PROFILE_LOW], 0,
		    CELL_OP_SYS_MOUNT_GET, 0, 0, &reason), CELL_DENY);
		T_EQ(reason, CELL_R_BAD_PROFILE);
		T_EQ(t_decide(w.core, w.plain[CELL_PROFILE_LOW], 0,
		    CELL_OP_NET_SOCKET, 0, 0, &reason), CELL_DENY);
	}
	rec->c_profile = CELL_PROFILE_LOW;
	T_EQ(t_decide(w.core, w.plain[CELL_PROFILE_LOW], 0,
	    CELL_OP_SYS_MOUNT_GET, 0, 0, &reason), CELL_DEFER);

	/* A destroyed cell's handle is stale. */
	T_EQ(cell_destroy(w.core, w.other_id, NULL), 0);
	T_EQ(t_decide(w.core, w.other, 0, CELL_OP_PROC_SIGNAL, w.other, 0,
	    &reason), CELL_DENY);
	T_EQ(reason, CELL_R_BAD_HANDLE);
	cell_core_destroy(w.core);
}

/* A NULL object is the host's: port 0, no address. */
static void
test_null_object(void)
{
	struct t_world w;
	struct cell_subject s;
	uint32_t reason;

	t_world_init(&w);
	s.cs_handle = w.plain[CELL_PROFILE_HIGH];
	s.cs_euid = 0;
	T_EQ(cell_decide(w.core, &s, CELL_OP_PROC_SIGNAL, NULL, &reason),
	    CELL_DENY);
	T_EQ(reason, CELL_R_CROSS_CELL);
	T_EQ(cell_decide(w.core, &s, CELL_OP_NET_BIND, NULL, &reason),
	    CELL_DEFER);
	T_EQ(cell_decide(w.core, &s, CELL_OP_SYS_ADMIN, NULL, NULL),
	    CELL_DENY);
	cell_core_destroy(w.core);
}

void	test_policy(void);

void
test_policy(void)
{

	T_RUN(test_table_matches_expected);
	T_RUN(test_names);
	T_RUN(test_celled_expected_matrix);
	T_RUN(test_celled_from_table);
	T_RUN(test_bind_own_port);
	T_RUN(test_host_root);
	T_RUN(test_host_nonroot);
	T_RUN(test_fail_closed);
	T_RUN(test_null_object);
}
