/*	$NetBSD$	*/

/*
 * cell_core.h -- the portable core of secmodel_cell.
 *
 * Everything that decides or validates lives behind this interface and is
 * compiled unchanged into the kernel module, the host test binaries and the
 * Python extension (sim backend).  The core includes only cell_abi.h and
 * cell_port.h.
 *
 * Handles.  A cell lives in a slot of a fixed table; its handle is the slot
 * index + 1 (0 = the host).  The kernel stores the handle in each
 * credential, so the hot path reaches a cell's record with one array index
 * and no lock.  A record cannot go away while a credential refers to it:
 * destroy is refused while the cell's reference count is non-zero.  Ids are
 * what userland sees: 32-bit, from 1, never reused while the core lives.
 *
 * Locking.  Control operations (create, destroy, enter, list, sampling)
 * serialise on one core mutex and allocate only outside it.
 * cell_decide()/cell_check()/cell_ref()/cell_unref() take no lock, never
 * allocate or sleep, and cost the same with 1 or CELL_MAX_CELLS cells.
 *
 * Errors are errno values: EINVAL (malformed payload), EEXIST (name in
 * use), EADDRINUSE (port reserved by another cell), ENOENT (no such cell),
 * EBUSY (cell has members), ENOSPC (table full or ids exhausted), ENOMEM,
 * EPROTO (ABI version mismatch), ENAMETOOLONG (name or path unterminated).
 */

#ifndef _SECMODEL_CELL_CORE_H_
#define _SECMODEL_CELL_CORE_H_

#include "cell_abi.h"
#include "cell_port.h"

/* The operations of cell_policy.def as CELL_OP_<ENUM>. */
enum cell_op {
#define	CELL_OP(e, s, n, c, l, m, h, r, d)	CELL_OP_##e,
#include "cell_policy.def"
#undef	CELL_OP
	CELL_OP_COUNT
};

/* cffi:begin */
/* Verdicts, as kauth(9) has them. */
#define CELL_DEFER	0
#define CELL_DENY	1
#define CELL_ALLOW	2

/* Why a verdict was reached (cell_reason_name()). */
#define CELL_R_HOST_ROOT	0	/* host root: never restricted */
#define CELL_R_HOST		1	/* host subject, nothing reserved */
#define CELL_R_SAME_CELL	2	/* object in the subject's cell */
#define CELL_R_CROSS_CELL	3	/* object in another cell */
#define CELL_R_INTO_CELL	4	/* host non-root on a celled object */
#define CELL_R_PROFILE_DEFER	5	/* profile column says DEFER */
#define CELL_R_PROFILE_DENY	6	/* profile column says DENY */
#define CELL_R_OVERRIDE		7	/* relaxed by a create flag */
#define CELL_R_PORT_FREE	8	/* port unreserved, own, or 0 */
#define CELL_R_PORT_OWNED	9	/* port reserved by another cell */
#define CELL_R_BIND_ADDR	10	/* address not in the allowed list */
#define CELL_R_UNKNOWN_OP	11	/* operation outside the table */
#define CELL_R_BAD_PROFILE	12	/* corrupted profile: fail closed */
#define CELL_R_BAD_HANDLE	13	/* handle names no cell: fail closed */
#define CELL_R_CRED		14	/* credential bookkeeping */
#define CELL_R_COUNT		15

/* Policy classes of cell_policy.def rows. */
#define CELL_CLASS_CROSS	0
#define CELL_CLASS_PROFILE	1
#define CELL_CLASS_BIND		2
#define CELL_CLASS_ALLOW	3

struct cell_core;

struct cell_subject {
	uint32_t	cs_handle;	/* 0 = host */
	uint32_t	cs_euid;
};

struct cell_object {
	uint32_t	co_handle;	/* CROSS: the object's cell handle */
	uint16_t	co_port;	/* BIND: host order; 0 = any */
	uint8_t		co_family;	/* BIND: 0, CELL_AF_INET, CELL_AF_INET6 */
	uint8_t		co_pad;
	uint8_t		co_addr[16];	/* BIND: local address, network order */
};

/* Lifecycle of the core itself. */
int	cell_core_create(struct cell_core **);
void	cell_core_destroy(struct cell_core *);
uint32_t cell_core_count(struct cell_core *);

/* Validation of a create payload; no state touched. */
int	cell_validate_create(const struct cell_create_req *, size_t);

/*
 * Create a cell: validate, allocate, then commit under the lock (name
 * unique, ports free, slot and id available).  priv is kept for the glue
 * (the kernel's root vnode) and handed back by destroy.  On success *idp
 * and *handlep are set and the reference count is 0.
 */
int	cell_create(struct cell_core *, const struct cell_create_req *, size_t,
	    uint64_t, void *, uint32_t *, uint32_t *);
/* Sim only: re-create a cell with a given id and creation time. */
int	cell_restore(struct cell_core *, const struct cell_create_req *,
	    size_t, uint32_t, uint64_t, uint32_t *);
void	cell_core_set_next_id(struct cell_core *, uint32_t);
/* Remove a cell with no references; *privp gets the glue's pointer. */
int	cell_destroy(struct cell_core *, uint32_t, void **);

/*
 * Enter: take a reference on an active cell by id (atomic with respect to
 * destroy); *handlep for the credential, *privp for the glue's checks.
 * The glue drops it with cell_unref() if it cannot complete.
 */
int	cell_enter(struct cell_core *, uint32_t, uint32_t *, void **);
void	cell_ref(struct cell_core *, uint32_t);
void	cell_unref(struct cell_core *, uint32_t);

/* Lookups. */
int	cell_lookup_id(struct cell_core *, uint32_t, uint32_t *);
int	cell_lookup_name(struct cell_core *, const char *, uint32_t *);
uint32_t cell_handle_id(struct cell_core *, uint32_t);
uint32_t cell_handle_profile(struct cell_core *, uint32_t);
uint32_t cell_port_owner(struct cell_core *, uint16_t);

/*
 * Decisions.  cell_decide() is pure: the verdict and, if reasonp is not
 * NULL, the reason.  cell_check() is the listeners' entry: it decides and,
 * on DENY, counts the denial per cell and scope and appends an audit
 * event (action/request are kauth's, recorded verbatim).
 */
int	cell_decide(struct cell_core *, const struct cell_subject *, unsigned,
	    const struct cell_object *, uint32_t *);
int	cell_check(struct cell_core *, const struct cell_subject *, unsigned,
	    const struct cell_object *, uint64_t, uint64_t, uint64_t);

/* Deny logging: non-zero if a log line for this scope may be printed now. */
int	cell_log_ratecheck(struct cell_core *, unsigned, uint64_t);

/* Telemetry: begin, one call per live process, end (under the lock). */
void	cell_sample_begin(struct cell_core *);
void	cell_sample_proc(struct cell_core *, uint32_t, uint64_t, uint64_t);
void	cell_sample_zombie(struct cell_core *, uint32_t);
void	cell_sample_end(struct cell_core *, uint64_t);

/*
 * Reading.  cell_list() fills up to *countp records and sets *countp to the
 * number of cells (ENOMEM if buf was too small; buf may be NULL with 0).
 * cell_events() copies events with seq >= since, oldest first, and returns
 * how many.
 */
int	cell_list(struct cell_core *, struct cell_info *, size_t *, uint64_t);
int	cell_info_get(struct cell_core *, uint32_t, struct cell_info *,
	    uint64_t);
void	cell_stats_get(struct cell_core *, struct cell_stats *, uint32_t);
size_t	cell_events(struct cell_core *, uint64_t, struct cell_event *, size_t);

/* The policy table, for explain, docs and tests. */
unsigned	cell_op_count(void);
const char	*cell_op_name(unsigned);
const char	*cell_op_doc(unsigned);
int		cell_op_scope(unsigned);
int		cell_op_class(unsigned);
int		cell_op_default(unsigned, unsigned);
uint32_t	cell_op_relax(unsigned);
int		cell_op_lookup(const char *);
const char	*cell_reason_name(unsigned);
const char	*cell_scope_name(unsigned);
/* cffi:end */

#endif /* !_SECMODEL_CELL_CORE_H_ */
