/*	$NetBSD$	*/

/*
 * cell_impl.h -- private layout of the secmodel_cell core.
 *
 * Shared by the core's own sources (cell_*.c) and by the C tests, which
 * reach into a record to corrupt it on purpose.  Nothing outside the core
 * and its tests includes this header; the interface is cell_core.h.
 */

#ifndef _SECMODEL_CELL_IMPL_H_
#define _SECMODEL_CELL_IMPL_H_

#include "cell_core.h"

#define	CELL_NPORTS		65536	/* size of the port owner map */
#define	CELL_CPU_HIST		10	/* seconds in the CPU average */
#define	CELL_LOG_PER_SEC	5	/* deny log lines, per scope and s */

/*
 * One cell.  The first group is written before the record is published in
 * the table (store-release) and never changes afterwards, so the hot path
 * reads it without a lock.  Counters are atomic.  Everything else belongs
 * to the core mutex.
 */
struct cell_rec {
	/* Constant once published: read lock-free by cell_decide(). */
	uint32_t	c_id;
	uint32_t	c_profile;
	uint32_t	c_flags;
	uint32_t	c_naddrs;
	struct cell_addr c_addrs[CELL_ADDRS_MAX];

	/* Atomic. */
	uint32_t	c_refs;		/* credentials, zombies' included */
	uint32_t	c_pad;
	uint64_t	c_denies[CELL_SCOPE_MAX];

	/* Core mutex. */
	uint32_t	c_handle;
	uint32_t	c_state;
	uint32_t	c_namehash;
	uint32_t	c_nzombies;	/* last sample; not in c_nprocs */
	uint64_t	c_created;
	void		*c_priv;

	/* Telemetry: last sample, and the sample being taken. */
	uint32_t	c_nprocs;
	uint32_t	c_cpu_1s;
	uint32_t	c_cpu_10s;
	uint32_t	c_sampled;	/* c_cpu_prev is valid */
	uint64_t	c_vmsize;
	uint64_t	c_cpu_prev;
	uint64_t	c_sample_time;	/* now of the last sample */
	uint32_t	c_acc_nprocs;
	uint32_t	c_acc_nzombies;
	uint64_t	c_acc_vmsize;
	uint64_t	c_acc_cpu;
	uint32_t	c_hist[CELL_CPU_HIST];
	uint32_t	c_hist_next;
	uint32_t	c_hist_len;

	/* Sanitised copy of the request: name, root, ports, rlimits. */
	struct cell_create_req c_req;
};

struct cell_audit_slot {
	uint64_t	as_seq;		/* 0 while being written */
	struct cell_event as_ev;
};

struct cell_core {
	cell_mutex_t	cc_lock;
	uint32_t	cc_ncells;
	uint32_t	cc_nfree;
	uint64_t	cc_next_id;	/* > UINT32_MAX: ids exhausted */
	uint32_t	cc_sampling;

	/*
	 * Atomic deny counters for subjects without a record: the host, and
	 * handles naming no cell.  The totals are not kept here but summed
	 * when read (cell_stats_get()): these, every live record's, and
	 * cc_retired_denies, where destroy moves a record's counts.  That
	 * keeps a DENY at one counter increment.
	 */
	uint64_t	cc_host_denies[CELL_SCOPE_MAX];	/* handle 0 */
	uint64_t	cc_stray_denies[CELL_SCOPE_MAX]; /* no such cell */
	uint64_t	cc_retired_denies[CELL_SCOPE_MAX];	/* mutex */
	uint64_t	cc_log_window[CELL_SCOPE_MAX]; /* sec << 8 | lines */
	uint64_t	cc_log_suppressed;
	uint64_t	cc_audit_head;			/* newest seq */

	/* Written under the mutex, read lock-free. */
	struct cell_rec	*cc_table[CELL_MAX_CELLS];	/* by handle - 1 */
	uint32_t	cc_owner[CELL_NPORTS];		/* port -> cell id */

	/* Mutex only. */
	uint32_t	cc_byid[CELL_MAX_CELLS];	/* handles, id order */
	uint32_t	cc_free[CELL_MAX_CELLS];	/* free slots (stack) */

	struct cell_audit_slot cc_audit[CELL_AUDIT_RING];
};

/*
 * The record behind a handle, or NULL.  Lock-free; the caller guarantees
 * the record cannot be destroyed meanwhile (a credential refers to it).
 */
static inline struct cell_rec *
cell_rec_get(struct cell_core *core, uint32_t handle)
{

	if (handle == 0 || handle > CELL_MAX_CELLS)
		return NULL;
	return cell_load_ptr(&core->cc_table[handle - 1]);
}

/* cell_core.c: lookups under the mutex. */
struct cell_rec	*cell_rec_by_id(struct cell_core *, uint32_t);

/* cell_info.c */
void	cell_info_fill(const struct cell_rec *, struct cell_info *, uint64_t);

/* cell_audit.c */
struct cell_event *cell_audit_begin(struct cell_core *, uint64_t *);
void	cell_audit_commit(struct cell_core *, struct cell_event *, uint64_t);

#endif /* !_SECMODEL_CELL_IMPL_H_ */
