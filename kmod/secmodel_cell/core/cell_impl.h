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

/*
 * A handle is a slot index + 1 in the low bits and the slot's generation
 * above them.  A slot's generation moves on every time its cell is
 * destroyed, so a handle left in a credential that outlived its cell
 * (files and sockets keep theirs) never names the slot's next cell; a
 * slot whose generations are used up is retired, never wrapped.
 */
#define	CELL_SLOT_BITS		15
#define	CELL_SLOT_MASK		((1u << CELL_SLOT_BITS) - 1)
#define	CELL_GEN_MAX		((1u << (32 - CELL_SLOT_BITS)) - 1)
#define	CELL_HANDLE(slot, gen)	((uint32_t)(gen) << CELL_SLOT_BITS | \
				    ((uint32_t)(slot) + 1))
#define	CELL_HANDLE_SLOT(h)	(((h) & CELL_SLOT_MASK) - 1)
#define	CELL_CPU_HIST		10	/* seconds in the CPU average */
#define	CELL_LOG_PER_SEC	5	/* deny log lines, per scope and s */

/*
 * One cell.  Records are type-stable: a slot's record is allocated the
 * first time the slot is used and freed only with the core, so a reader
 * holding a stale handle never touches freed memory.  c_live is the
 * handle the record currently answers to (0 while the slot is free); it
 * is stored with release semantics after everything else is written, and
 * a lock-free reader checks it before and after reading (cell_rec_get(),
 * cell_rec_still()), so it either sees a whole record or none.  The first
 * group never changes while a handle is live.  Counters are atomic.
 * Everything else belongs to the core mutex.
 */
struct cell_rec {
	uint32_t	c_live;		/* atomic: the live handle, 0 if free */
	uint32_t	c_gen;		/* mutex: the slot's generation */

	/* Constant while live: read lock-free by cell_decide(). */
	uint32_t	c_id;
	uint32_t	c_profile;
	uint32_t	c_flags;
	uint32_t	c_naddrs;
	struct cell_addr c_addrs[CELL_ADDRS_MAX];

	/*
	 * Atomic.  Holds keep a cell from being destroyed: the kernel
	 * takes one for an enter in progress, the sim for each member it
	 * tracks.  Members in the kernel are processes, found by the glue.
	 */
	uint32_t	c_refs;
	uint32_t	c_pad;
	uint64_t	c_denies[CELL_SCOPE_MAX];

	/* Core mutex. */
	uint32_t	c_state;
	uint32_t	c_pad1;
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

	/* Written under the mutex, read lock-free; set once per slot. */
	struct cell_rec	*cc_table[CELL_MAX_CELLS];	/* by slot */
	uint32_t	cc_owner[CELL_NPORTS];		/* port -> cell id */

	/* Mutex only. */
	uint32_t	cc_byid[CELL_MAX_CELLS];	/* handles, id order */
	uint32_t	cc_free[CELL_MAX_CELLS];	/* free slots (stack) */
	uint32_t	cc_retired;			/* slots out of gens */

	struct cell_audit_slot cc_audit[CELL_AUDIT_RING];
};

/*
 * The record a live handle names, or NULL.  Lock-free.  What the caller
 * then reads of the record's constant fields is only known to belong to
 * this handle once cell_rec_still() says the handle is still live.
 */
static inline struct cell_rec *
cell_rec_get(struct cell_core *core, uint32_t handle)
{
	struct cell_rec *rec;
	uint32_t slot;

	if ((handle & CELL_SLOT_MASK) == 0)
		return NULL;
	slot = CELL_HANDLE_SLOT(handle);
	if (slot >= CELL_MAX_CELLS)
		return NULL;
	rec = cell_load_ptr(&core->cc_table[slot]);
	if (rec == NULL || cell_load_acquire_32(&rec->c_live) != handle)
		return NULL;
	return rec;
}

/* Whether rec still answers to handle, after reading its fields. */
static inline int
cell_rec_still(const struct cell_rec *rec, uint32_t handle)
{

	cell_membar_consumer();
	return cell_load_32(&rec->c_live) == handle;
}

/* The record of a live handle, under the core mutex. */
static inline struct cell_rec *
cell_rec_at(struct cell_core *core, uint32_t handle)
{

	return core->cc_table[CELL_HANDLE_SLOT(handle)];
}

/* cell_core.c: lookups under the mutex. */
struct cell_rec	*cell_rec_by_id(struct cell_core *, uint32_t);

/* cell_info.c */
void	cell_info_fill(const struct cell_rec *, struct cell_info *, uint64_t);

/* cell_audit.c */
struct cell_event *cell_audit_begin(struct cell_core *, uint64_t *);
void	cell_audit_commit(struct cell_core *, struct cell_event *, uint64_t);

#endif /* !_SECMODEL_CELL_IMPL_H_ */
