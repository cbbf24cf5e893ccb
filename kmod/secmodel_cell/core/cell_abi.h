/*	$NetBSD$	*/

/*
 * cell_abi.h -- the user/kernel ABI of secmodel_cell.
 *
 * This one header is shared by the kernel module, the portable core, the
 * C tests and the Python binding (cffi reads the part between the
 * "cffi:begin" and "cffi:end" markers, so that part holds only integer
 * #defines and struct declarations).
 *
 * Every structure is fixed-width and explicitly padded; padding must be
 * zero on input.  Any change to a layout bumps CELL_ABI_VERSION.  The
 * sysctl tree is security.models.cell.*:
 *
 *	name		string, read-only: "cell"
 *	abi_version	int, read-only: CELL_ABI_VERSION
 *	create		write struct cell_create_req; read it back with cr_id
 *	destroy		write uint32_t cell id
 *	id		read uint32_t: the caller's cell (0 = host);
 *			write uint32_t: enter that cell
 *	list		read array of struct cell_info (host only)
 *	stats		read struct cell_stats (host only)
 *	events		write uint64_t first sequence number wanted, read
 *			array of struct cell_event (host only)
 */

#ifndef _SECMODEL_CELL_ABI_H_
#define _SECMODEL_CELL_ABI_H_

#if defined(_KERNEL) || defined(_STANDALONE)
#include <sys/types.h>
#else
#include <stdint.h>
#endif

/* cffi:begin */
#define CELL_ABI_VERSION	1

#define CELL_NAME_MAX		64	/* bytes with NUL; names are 1..63 */
#define CELL_PATH_MAX		1024	/* bytes with NUL */
#define CELL_PORTS_MAX		32
#define CELL_ADDRS_MAX		8
#define CELL_RLIMITS_MAX	4
#define CELL_SCOPE_MAX		8	/* counter slots; CELL_SCOPE_COUNT used */
#define CELL_AUDIT_RING		1024	/* events kept; a power of two */
#define CELL_MAX_CELLS		16384	/* live cells at once */

/* Hardening profiles, fixed at create. */
#define CELL_PROFILE_LOW	1
#define CELL_PROFILE_MEDIUM	2
#define CELL_PROFILE_HIGH	3

/* Create flags: per-cell overrides that relax one policy row each. */
#define CELL_F_ALLOW_RAWSOCK	1	/* raw sockets under medium/high */
#define CELL_F_ALLOW_SYSVIPC	2	/* SYSVIPC under high */
#define CELL_F_ALL		3

/* Address families in struct cell_addr. */
#define CELL_AF_INET		4
#define CELL_AF_INET6		6

/* Resource limits a cell applies to processes that enter it. */
#define CELL_RLIMIT_NOFILE	1
#define CELL_RLIMIT_AS		2
#define CELL_RLIMIT_CORE	3
#define CELL_RLIMIT_NPROC	4

/* kauth scopes, as counter indices. */
#define CELL_SCOPE_PROCESS	0
#define CELL_SCOPE_SYSTEM	1
#define CELL_SCOPE_NETWORK	2
#define CELL_SCOPE_DEVICE	3
#define CELL_SCOPE_MACHDEP	4
#define CELL_SCOPE_CRED		5
#define CELL_SCOPE_COUNT	6

/* Cell states. */
#define CELL_STATE_ACTIVE	1
#define CELL_STATE_DYING	2

struct cell_addr {
	uint8_t		ca_family;	/* CELL_AF_INET or CELL_AF_INET6 */
	uint8_t		ca_pad[3];
	uint8_t		ca_addr[16];	/* network order; IPv4 in the first 4 */
};					/* 20 bytes */

struct cell_rlimit {
	uint32_t	crl_resource;	/* CELL_RLIMIT_* */
	uint32_t	crl_pad;
	uint64_t	crl_soft;
	uint64_t	crl_hard;	/* soft <= hard */
};					/* 24 bytes */

struct cell_create_req {
	uint32_t	cr_size;	/* sizeof(struct cell_create_req) */
	uint32_t	cr_abi;		/* CELL_ABI_VERSION */
	uint32_t	cr_flags;	/* CELL_F_* */
	uint32_t	cr_profile;	/* CELL_PROFILE_* */
	uint32_t	cr_id;		/* out: the new cell's id; 0 in */
	uint16_t	cr_nports;
	uint16_t	cr_naddrs;	/* 0: may bind any address */
	uint16_t	cr_nrlimits;
	uint16_t	cr_pad0;
	uint32_t	cr_pad1;
	char		cr_name[CELL_NAME_MAX];
	char		cr_root[CELL_PATH_MAX];
	uint16_t	cr_ports[CELL_PORTS_MAX];
	struct cell_addr cr_addrs[CELL_ADDRS_MAX];
	struct cell_rlimit cr_rlimits[CELL_RLIMITS_MAX];
};					/* 1440 bytes */

struct cell_info {
	uint32_t	ci_id;
	uint32_t	ci_profile;
	uint32_t	ci_flags;
	uint32_t	ci_state;	/* CELL_STATE_* */
	uint16_t	ci_nports;
	uint16_t	ci_naddrs;
	uint16_t	ci_nrlimits;
	uint16_t	ci_pad0;
	uint32_t	ci_nprocs;	/* live processes, last sample */
	uint32_t	ci_nrefs;	/* members incl. zombies, last sample */
	uint64_t	ci_created;	/* seconds since the epoch */
	uint64_t	ci_age;		/* seconds */
	uint64_t	ci_vmsize;	/* bytes of virtual memory, last sample */
	uint32_t	ci_cpu_1s;	/* CPU ticks in the last second */
	uint32_t	ci_cpu_10s;	/* ticks per second, 10 s average, x100 */
	uint32_t	ci_pad1;
	uint32_t	ci_pad2;
	uint64_t	ci_denies[CELL_SCOPE_MAX];
	char		ci_name[CELL_NAME_MAX];
	char		ci_root[CELL_PATH_MAX];
	uint16_t	ci_ports[CELL_PORTS_MAX];
	struct cell_addr ci_addrs[CELL_ADDRS_MAX];
	struct cell_rlimit ci_rlimits[CELL_RLIMITS_MAX];
};					/* 1544 bytes */

struct cell_event {
	uint64_t	ev_seq;		/* 1, 2, ...; never reused */
	uint64_t	ev_time;	/* seconds since the epoch */
	uint32_t	ev_cell;	/* subject's cell id (0 = host) */
	uint32_t	ev_target;	/* object's cell id, or port owner */
	uint32_t	ev_euid;
	uint16_t	ev_scope;	/* CELL_SCOPE_* */
	uint16_t	ev_op;		/* core operation (cell_op_name()) */
	uint32_t	ev_reason;	/* core reason (cell_reason_name()) */
	uint32_t	ev_pad;
	uint64_t	ev_action;	/* kauth action */
	uint64_t	ev_request;	/* kauth request */
};					/* 56 bytes */

struct cell_stats {
	uint32_t	st_size;	/* sizeof(struct cell_stats) */
	uint32_t	st_abi;
	uint32_t	st_ncells;
	uint32_t	st_max_cells;
	uint32_t	st_next_id;
	uint32_t	st_hz;		/* clock ticks per second */
	uint64_t	st_audit_head;	/* newest event's seq, 0 if none */
	uint32_t	st_audit_size;	/* CELL_AUDIT_RING */
	uint32_t	st_pad0;
	uint64_t	st_log_suppressed; /* deny log lines rate-limited */
	uint64_t	st_denies[CELL_SCOPE_MAX];	/* all subjects */
	uint64_t	st_host_denies[CELL_SCOPE_MAX];	/* host subjects */
};					/* 176 bytes */
/* cffi:end */

#if !defined(__cplusplus) && defined(__STDC_VERSION__) && \
    __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct cell_addr) == 20, "cell_addr");
_Static_assert(sizeof(struct cell_rlimit) == 24, "cell_rlimit");
_Static_assert(sizeof(struct cell_create_req) == 1440, "cell_create_req");
_Static_assert(sizeof(struct cell_info) == 1544, "cell_info");
_Static_assert(sizeof(struct cell_event) == 56, "cell_event");
_Static_assert(sizeof(struct cell_stats) == 176, "cell_stats");
#endif

#endif /* !_SECMODEL_CELL_ABI_H_ */
