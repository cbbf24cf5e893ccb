/*	$NetBSD$	*/

/*
 * bench_decide.c -- cost of a policy decision as a kauth listener sees it.
 *
 * Each case calls a listener-shaped function (credential, action, cookie,
 * arg0..arg3; noinline, through a function pointer) that takes the cell
 * handle from a fake credential, builds the core's question and calls
 * cell_check(); an empty listener with the same signature returning DEFER
 * is timed in the same run.  Tables of 1, 100 and 10,000 cells; cells get
 * 32 reserved ports while ports last (2,047 cells), none after that.
 *
 * In the 1-cell table there is no second cell, so the two "another cell"
 * cases use the host as the other party: a host process as the signal
 * target, and a host user binding the cell's reserved port.
 *
 * Prints ns/call (median of several repetitions), the ratio to the empty
 * listener, and the 10,000-cell / 1-cell ratio; exits 1 when a ratio is
 * above its target (8x the empty call; 1.3x between table sizes).  It
 * also prints the cost of one atomic increment, since every DENY pays two
 * (the cell's counter and the audit ring's head): that is the floor of
 * the deny cases on the machine at hand.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cell_core.h"

#define	B_REPS		9
#define	B_ITERS		2000000
#define	B_MAX_RATIO	8.0
#define	B_MAX_FLAT	1.3
#define	B_KEY		2	/* our slot in the fake credential */

/* Just enough of kauth to be shaped like it. */
struct b_cred {
	uint32_t	cr_uid;
	uint32_t	cr_euid;
	void		*cr_data[4];	/* kauth_cred_getdata() slots */
};

struct b_proc {
	struct b_cred	*p_cred;
};

struct b_sockaddr {
	uint8_t		sa_family;
	uint16_t	sa_port;
	uint8_t		sa_addr[16];
};

enum { B_ACT_SIGNAL = 1, B_ACT_BIND, B_ACT_SYSTEM };

typedef int (*b_listener_t)(struct b_cred *, unsigned long, void *, void *,
    void *, void *, void *);

static uint64_t b_now = 1000;

static uint32_t
b_handle(const struct b_cred *cred)
{

	return (uint32_t)(uintptr_t)cred->cr_data[B_KEY];
}

static int __attribute__((noinline))
b_empty_listener(struct b_cred *cred, unsigned long action, void *cookie,
    void *arg0, void *arg1, void *arg2, void *arg3)
{

	(void)cred; (void)action; (void)cookie;
	(void)arg0; (void)arg1; (void)arg2; (void)arg3;
	return CELL_DEFER;
}

/* process scope: arg0 is the target process. */
static int __attribute__((noinline))
b_process_listener(struct b_cred *cred, unsigned long action, void *cookie,
    void *arg0, void *arg1, void *arg2, void *arg3)
{
	struct cell_subject s;
	struct cell_object o;
	const struct b_proc *p = arg0;

	(void)arg1; (void)arg2; (void)arg3;
	s.cs_handle = b_handle(cred);
	s.cs_euid = cred->cr_euid;
	memset(&o, 0, sizeof(o));
	o.co_handle = b_handle(p->p_cred);
	return cell_check(cookie, &s, CELL_OP_PROC_SIGNAL, &o, action, 0,
	    b_now);
}

/* network scope: arg1 is the local address being bound. */
static int __attribute__((noinline))
b_network_listener(struct b_cred *cred, unsigned long action, void *cookie,
    void *arg0, void *arg1, void *arg2, void *arg3)
{
	struct cell_subject s;
	struct cell_object o;
	const struct b_sockaddr *sa = arg1;

	(void)arg0; (void)arg2; (void)arg3;
	s.cs_handle = b_handle(cred);
	s.cs_euid = cred->cr_euid;
	memset(&o, 0, sizeof(o));
	o.co_port = sa->sa_port;
	o.co_family = sa->sa_family;
	memcpy(o.co_addr, sa->sa_addr, sizeof(o.co_addr));
	return cell_check(cookie, &s, CELL_OP_NET_BIND, &o, action, 0, b_now);
}

/* system scope: the action alone decides. */
static int __attribute__((noinline))
b_system_listener(struct b_cred *cred, unsigned long action, void *cookie,
    void *arg0, void *arg1, void *arg2, void *arg3)
{
	struct cell_subject s;

	(void)arg0; (void)arg1; (void)arg2; (void)arg3;
	s.cs_handle = b_handle(cred);
	s.cs_euid = cred->cr_euid;
	return cell_check(cookie, &s, CELL_OP_SYS_ADMIN, NULL, action, 0,
	    b_now);
}

struct b_case {
	const char	*name;
	b_listener_t	fn;
	unsigned long	action;
	struct b_cred	*cred;
	void		*arg0;
	void		*arg1;
	int		want;
};

static double
b_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
b_time(b_listener_t volatile *fnp, const struct b_case *c, void *cookie)
{
	double t0;
	long i;
	int sink = 0;

	t0 = b_secs();
	for (i = 0; i < B_ITERS; i++)
		sink += (*fnp)(c->cred, c->action, cookie, c->arg0, c->arg1,
		    NULL, NULL);
	if (sink < 0)
		printf("unreachable\n");
	return (b_secs() - t0) * 1e9 / B_ITERS;
}

static int
b_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ns per atomic increment (what each DENY pays twice), median. */
static double
b_atomic(void)
{
	static uint64_t counter;
	double t[B_REPS], t0;
	long i;
	int r;

	for (r = 0; r < B_REPS; r++) {
		t0 = b_secs();
		for (i = 0; i < B_ITERS; i++)
			cell_atomic_inc_64(&counter);
		t[r] = (b_secs() - t0) * 1e9 / B_ITERS;
	}
	qsort(t, B_REPS, sizeof(t[0]), b_cmp);
	return t[B_REPS / 2];
}

/* Median ns/call of the case and of the empty listener, interleaved. */
static void
b_measure(const struct b_case *c, void *cookie, double *ns, double *empty)
{
	static b_listener_t volatile fn, efn;
	double t[B_REPS], e[B_REPS];
	int r;

	fn = c->fn;
	efn = b_empty_listener;
	for (r = 0; r < B_REPS; r++) {
		e[r] = b_time(&efn, c, cookie);
		t[r] = b_time(&fn, c, cookie);
	}
	qsort(t, B_REPS, sizeof(t[0]), b_cmp);
	qsort(e, B_REPS, sizeof(e[0]), b_cmp);
	*ns = t[B_REPS / 2];
	*empty = e[B_REPS / 2];
}

#define	B_NCASES	5
#define	B_NSIZES	3

static const unsigned b_sizes[B_NSIZES] = { 1, 100, 10000 };

/* Build a table of n cells; returns the core, fills handles. */
static struct cell_core *
b_table(unsigned n, uint32_t *first, uint32_t *last, unsigned *withports)
{
	struct cell_core *core;
	struct cell_create_req req;
	unsigned i, j, port = 1;
	uint32_t id, h;

	if (cell_core_create(&core) != 0)
		exit(2);
	*withports = 0;
	for (i = 0; i < n; i++) {
		memset(&req, 0, sizeof(req));
		req.cr_size = sizeof(req);
		req.cr_abi = CELL_ABI_VERSION;
		req.cr_profile = CELL_PROFILE_HIGH;
		snprintf(req.cr_name, sizeof(req.cr_name), "bench%u", i);
		snprintf(req.cr_root, sizeof(req.cr_root), "/cells/bench%u",
		    i);
		if (port + CELL_PORTS_MAX <= 65536) {
			req.cr_nports = CELL_PORTS_MAX;
			for (j = 0; j < CELL_PORTS_MAX; j++)
				req.cr_ports[j] = (uint16_t)port++;
			(*withports)++;
		}
		if (cell_create(core, &req, sizeof(req), 1, NULL, &id,
		    &h) != 0) {
			fprintf(stderr, "bench: cannot create cell %u\n", i);
			exit(2);
		}
		if (i == 0)
			*first = h;
		*last = h;
	}
	return core;
}

int
main(void)
{
	static const char *const names[B_NCASES] = {
		"cross-cell signal", "same-cell signal", "bind unreserved port",
		"bind another cell's port", "system.admin under high",
	};
	double ns[B_NSIZES][B_NCASES], ratio[B_NSIZES][B_NCASES], empty;
	struct b_cred subj, host_user, other, same;
	struct b_proc p_other, p_same;
	struct b_sockaddr sa_free, sa_owned;
	struct b_case c[B_NCASES];
	struct cell_core *core;
	uint32_t first, last;
	unsigned s, k, withports;
	double flat, atomic;
	int missed = 0, got;

	printf("decision cost through a listener-shaped call "
	    "(median of %d x %d calls)\n", B_REPS, B_ITERS);
	for (s = 0; s < B_NSIZES; s++) {
		core = b_table(b_sizes[s], &first, &last, &withports);
		printf("\n%u cells (%u with %d reserved ports, %u without)%s\n",
		    b_sizes[s], withports, CELL_PORTS_MAX,
		    b_sizes[s] - withports, b_sizes[s] == 1 ?
		    "; no second cell: the host is the other party" : "");

		memset(&subj, 0, sizeof(subj));
		subj.cr_data[B_KEY] = (void *)(uintptr_t)last;
		same = subj;
		memset(&other, 0, sizeof(other));
		other.cr_euid = 1000;
		if (b_sizes[s] > 1)
			other.cr_data[B_KEY] = (void *)(uintptr_t)first;
		host_user = other;
		host_user.cr_data[B_KEY] = NULL;
		p_other.p_cred = &other;
		p_same.p_cred = &same;
		memset(&sa_free, 0, sizeof(sa_free));
		sa_free.sa_family = CELL_AF_INET;
		sa_free.sa_port = 65535;	/* never reserved here */
		sa_owned = sa_free;
		sa_owned.sa_port = 5;		/* the first cell's */

		c[0] = (struct b_case){ names[0], b_process_listener,
		    B_ACT_SIGNAL, &subj, &p_other, NULL, CELL_DENY };
		c[1] = (struct b_case){ names[1], b_process_listener,
		    B_ACT_SIGNAL, &subj, &p_same, NULL, CELL_DEFER };
		c[2] = (struct b_case){ names[2], b_network_listener,
		    B_ACT_BIND, &subj, NULL, &sa_free, CELL_DEFER };
		c[3] = (struct b_case){ names[3], b_network_listener,
		    B_ACT_BIND, b_sizes[s] > 1 ? &subj : &host_user, NULL,
		    &sa_owned, CELL_DENY };
		c[4] = (struct b_case){ names[4], b_system_listener,
		    B_ACT_SYSTEM, &subj, NULL, NULL, CELL_DENY };

		for (k = 0; k < B_NCASES; k++) {
			got = c[k].fn(c[k].cred, c[k].action, core, c[k].arg0,
			    c[k].arg1, NULL, NULL);
			if (got != c[k].want) {
				fprintf(stderr, "bench: %s: verdict %d, "
				    "expected %d\n", c[k].name, got,
				    c[k].want);
				return 2;
			}
			b_measure(&c[k], core, &ns[s][k], &empty);
			ratio[s][k] = ns[s][k] / empty;
			printf("  %-26s %7.2f ns/call  empty %5.2f ns  "
			    "ratio %5.2fx%s\n", c[k].name, ns[s][k], empty,
			    ratio[s][k], ratio[s][k] > B_MAX_RATIO ?
			    "  > target" : "");
			if (ratio[s][k] > B_MAX_RATIO)
				missed = 1;
		}
		cell_core_destroy(core);
	}

	printf("\n10,000 cells / 1 cell (ratio to the empty call, same run):\n");
	for (k = 0; k < B_NCASES; k++) {
		flat = ratio[B_NSIZES - 1][k] / ratio[0][k];
		printf("  %-26s %5.2fx%s\n", names[k], flat,
		    flat > B_MAX_FLAT ? "  > target" : "");
		if (flat > B_MAX_FLAT)
			missed = 1;
	}
	atomic = b_atomic();
	printf("\none atomic increment: %.2f ns (%.2fx the last empty call); "
	    "a DENY does two\n(its cell's counter, the audit ring's head), "
	    "so the deny cases cannot go below\n%.2fx here\n", atomic,
	    atomic / empty, 2 * atomic / empty);
	printf("\ntargets: each case <= %.0fx the empty call, "
	    "10,000 cells within %.1fx of 1 cell: %s\n", B_MAX_RATIO,
	    B_MAX_FLAT, missed ? "MISSED" : "met");
	return missed;
}
