/*	$NetBSD$	*/

/*
 * test_abi.c -- the layout of every ABI structure, field by field.
 *
 * The kernel, these tests and the Python binding share cell_abi.h; a field
 * that moves breaks userland silently, so each offset and size is written
 * out here as the ABI documents it.  Any change bumps CELL_ABI_VERSION.
 */

#include <stddef.h>

#include "harness.h"

void	test_abi(void);

#define	T_OFF(type, field, off)	T_EQ(offsetof(struct type, field), (off))

static void
test_abi_version(void)
{

	T_EQ(CELL_ABI_VERSION, 1);
	T_EQ(CELL_NAME_MAX, 64);
	T_EQ(CELL_PATH_MAX, 1024);
	T_EQ(CELL_PORTS_MAX, 32);
	T_EQ(CELL_ADDRS_MAX, 8);
	T_EQ(CELL_RLIMITS_MAX, 4);
	T_EQ(CELL_SCOPE_MAX, 8);
	T_CHECK(CELL_SCOPE_COUNT <= CELL_SCOPE_MAX);
	T_EQ(CELL_AUDIT_RING & (CELL_AUDIT_RING - 1), 0);
}

static void
test_abi_small(void)
{

	T_EQ(sizeof(struct cell_addr), 20);
	T_OFF(cell_addr, ca_family, 0);
	T_OFF(cell_addr, ca_pad, 1);
	T_OFF(cell_addr, ca_addr, 4);
	T_EQ(sizeof(struct cell_rlimit), 24);
	T_OFF(cell_rlimit, crl_resource, 0);
	T_OFF(cell_rlimit, crl_pad, 4);
	T_OFF(cell_rlimit, crl_soft, 8);
	T_OFF(cell_rlimit, crl_hard, 16);
}

static void
test_abi_create_req(void)
{

	T_EQ(sizeof(struct cell_create_req), 1440);
	T_OFF(cell_create_req, cr_size, 0);
	T_OFF(cell_create_req, cr_abi, 4);
	T_OFF(cell_create_req, cr_flags, 8);
	T_OFF(cell_create_req, cr_profile, 12);
	T_OFF(cell_create_req, cr_id, 16);
	T_OFF(cell_create_req, cr_nports, 20);
	T_OFF(cell_create_req, cr_naddrs, 22);
	T_OFF(cell_create_req, cr_nrlimits, 24);
	T_OFF(cell_create_req, cr_pad0, 26);
	T_OFF(cell_create_req, cr_pad1, 28);
	T_OFF(cell_create_req, cr_name, 32);
	T_OFF(cell_create_req, cr_root, 96);
	T_OFF(cell_create_req, cr_ports, 1120);
	T_OFF(cell_create_req, cr_addrs, 1184);
	T_OFF(cell_create_req, cr_rlimits, 1344);
}

static void
test_abi_info(void)
{

	T_EQ(sizeof(struct cell_info), 1544);
	T_OFF(cell_info, ci_id, 0);
	T_OFF(cell_info, ci_profile, 4);
	T_OFF(cell_info, ci_flags, 8);
	T_OFF(cell_info, ci_state, 12);
	T_OFF(cell_info, ci_nports, 16);
	T_OFF(cell_info, ci_naddrs, 18);
	T_OFF(cell_info, ci_nrlimits, 20);
	T_OFF(cell_info, ci_pad0, 22);
	T_OFF(cell_info, ci_nprocs, 24);
	T_OFF(cell_info, ci_nrefs, 28);
	T_OFF(cell_info, ci_created, 32);
	T_OFF(cell_info, ci_age, 40);
	T_OFF(cell_info, ci_vmsize, 48);
	T_OFF(cell_info, ci_cpu_1s, 56);
	T_OFF(cell_info, ci_cpu_10s, 60);
	T_OFF(cell_info, ci_pad1, 64);
	T_OFF(cell_info, ci_pad2, 68);
	T_OFF(cell_info, ci_denies, 72);
	T_OFF(cell_info, ci_name, 136);
	T_OFF(cell_info, ci_root, 200);
	T_OFF(cell_info, ci_ports, 1224);
	T_OFF(cell_info, ci_addrs, 1288);
	T_OFF(cell_info, ci_rlimits, 1448);
}

static void
test_abi_event_stats(void)
{

	T_EQ(sizeof(struct cell_event), 56);
	T_OFF(cell_event, ev_seq, 0);
	T_OFF(cell_event, ev_time, 8);
	T_OFF(cell_event, ev_cell, 16);
	T_OFF(cell_event, ev_target, 20);
	T_OFF(cell_event, ev_euid, 24);
	T_OFF(cell_event, ev_scope, 28);
	T_OFF(cell_event, ev_op, 30);
	T_OFF(cell_event, ev_reason, 32);
	T_OFF(cell_event, ev_pad, 36);
	T_OFF(cell_event, ev_action, 40);
	T_OFF(cell_event, ev_request, 48);

	T_EQ(sizeof(struct cell_stats), 176);
	T_OFF(cell_stats, st_size, 0);
	T_OFF(cell_stats, st_abi, 4);
	T_OFF(cell_stats, st_ncells, 8);
	T_OFF(cell_stats, st_max_cells, 12);
	T_OFF(cell_stats, st_next_id, 16);
	T_OFF(cell_stats, st_hz, 20);
	T_OFF(cell_stats, st_audit_head, 24);
	T_OFF(cell_stats, st_audit_size, 32);
	T_OFF(cell_stats, st_pad0, 36);
	T_OFF(cell_stats, st_log_suppressed, 40);
	T_OFF(cell_stats, st_denies, 48);
	T_OFF(cell_stats, st_host_denies, 112);
}

void
test_abi(void)
{

	T_RUN(test_abi_version);
	T_RUN(test_abi_small);
	T_RUN(test_abi_create_req);
	T_RUN(test_abi_info);
	T_RUN(test_abi_event_stats);
}
