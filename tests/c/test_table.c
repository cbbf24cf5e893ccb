/*	$NetBSD$	*/

/*
 * test_table.c -- the cell table: ids, names, slots, references, port
 * owners, bind addresses, lookups.
 */

#include <stdio.h>
#include <string.h>

#include "cell_impl.h"
#include "harness.h"

/* Ids count up from 1 and are never handed out again. */
static void
test_ids_never_reused(void)
{
	struct cell_core *core = t_core();
	uint32_t id, h, id2, h2, i;

	T_EQ(cell_core_create(NULL), EINVAL);
	T_EQ(cell_core_count(core), 0);
	T_EQ(t_create(core, "a", 3, &id, &h), 0);
	T_EQ(id, 1);
	T_EQ(h, 1);
	T_EQ(cell_destroy(core, id, NULL), 0);
	for (i = 0; i < 5; i++) {
		T_EQ(t_create(core, "a", 3, &id2, &h2), 0);
		T_EQ(id2, id + 1 + i);
		/* The slot comes back, with its next generation. */
		T_EQ(h2 & CELL_SLOT_MASK, 1);
		T_EQ(h2, CELL_HANDLE(0, i + 1));
		T_EQ(cell_destroy(core, id2, NULL), 0);
		T_EQ(cell_destroy(core, id2, NULL), ENOENT);
	}
	T_EQ(cell_core_count(core), 0);
	cell_core_destroy(core);
}

/* Names are unique among live cells; a freed name can be used again. */
static void
test_name_unique(void)
{
	struct cell_core *core = t_core();
	uint32_t id, h, id2, h2;

	T_EQ(t_create(core, "web", 3, &id, &h), 0);
	T_EQ(t_create(core, "web", 1, &id2, &h2), EEXIST);
	T_EQ(t_create(core, "Web", 1, &id2, &h2), 0);
	T_EQ(t_create(core, "web2", 1, NULL, NULL), 0);
	T_EQ(cell_core_count(core), 3);
	T_EQ(cell_lookup_name(core, "web", &h2), 0);
	T_EQ(h2, h);
	T_EQ(cell_lookup_name(core, "we", &h2), ENOENT);
	T_EQ(cell_lookup_name(core, NULL, &h2), EINVAL);
	T_EQ(cell_destroy(core, id, NULL), 0);
	T_EQ(cell_lookup_name(core, "web", &h2), ENOENT);
	T_EQ(t_create(core, "web", 3, &id2, &h2), 0);
	T_CHECK(id2 > id);
	cell_core_destroy(core);
}

/* Slots: freed slots are reused, handles stay within the table. */
static void
test_slot_reuse(void)
{
	struct cell_core *core = t_core();
	uint32_t id[4], h[4], hx, idx;
	char name[16];
	int i;

	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		T_EQ(t_create(core, name, 3, &id[i], &h[i]), 0);
		T_EQ(h[i], (uint32_t)i + 1);
	}
	T_EQ(cell_destroy(core, id[1], NULL), 0);
	T_EQ(cell_handle_id(core, h[1]), 0);
	T_EQ(t_create(core, "x", 3, &idx, &hx), 0);
	T_EQ(hx & CELL_SLOT_MASK, h[1] & CELL_SLOT_MASK);
	T_CHECK(hx != h[1]);
	T_EQ(cell_handle_id(core, h[1]), 0);
	T_EQ(idx, id[3] + 1);
	T_EQ(cell_handle_id(core, hx), idx);
	T_EQ(cell_handle_id(core, h[0]), id[0]);
	T_EQ(cell_handle_id(core, 0), 0);
	T_EQ(cell_handle_id(core, CELL_MAX_CELLS + 1), 0);
	T_EQ(cell_handle_profile(core, hx), 3);
	T_EQ(cell_handle_profile(core, 0), 0);
	T_EQ(cell_lookup_id(core, idx, &h[2]), 0);
	T_EQ(h[2], hx);
	T_EQ(cell_lookup_id(core, id[1], &hx), ENOENT);
	T_EQ(cell_lookup_id(core, 0, &hx), ENOENT);
	cell_core_destroy(core);
}

/*
 * A handle left behind by a destroyed cell (a credential of a closed file
 * or socket) names no cell, never the next cell in its slot: it is
 * denied what any cell may do and is another cell to the new one.
 */
static void
test_stale_handle(void)
{
	struct cell_core *core = t_core();
	struct cell_subject subj;
	struct cell_object obj;
	struct cell_rec *rec;
	uint32_t ida, ha, idb, hb, idc, hc, reason;

	T_EQ(t_create(core, "a", CELL_PROFILE_LOW, &ida, &ha), 0);
	T_EQ(cell_destroy(core, ida, NULL), 0);
	T_EQ(t_create(core, "b", CELL_PROFILE_LOW, &idb, &hb), 0);
	T_EQ(hb & CELL_SLOT_MASK, ha & CELL_SLOT_MASK);
	T_EQ(cell_handle_id(core, ha), 0);
	T_EQ(cell_handle_profile(core, ha), 0);

	memset(&subj, 0, sizeof(subj));
	memset(&obj, 0, sizeof(obj));
	subj.cs_handle = ha;
	obj.co_handle = hb;
	T_EQ(cell_decide(core, &subj, CELL_OP_PROC_SIGNAL, &obj, &reason),
	    CELL_DENY);
	T_EQ(reason, CELL_R_BAD_HANDLE);
	T_EQ(cell_decide(core, &subj, CELL_OP_SYS_ADMIN, NULL, &reason),
	    CELL_DENY);
	T_EQ(reason, CELL_R_BAD_HANDLE);
	/* The new cell sees the leftover as another cell. */
	subj.cs_handle = hb;
	obj.co_handle = ha;
	T_EQ(cell_decide(core, &subj, CELL_OP_PROC_SIGNAL, &obj, &reason),
	    CELL_DENY);
	T_EQ(reason, CELL_R_CROSS_CELL);
	/* And host non-root sees it as a cell. */
	subj.cs_handle = 0;
	subj.cs_euid = 1000;
	T_EQ(cell_decide(core, &subj, CELL_OP_PROC_SIGNAL, &obj, &reason),
	    CELL_DENY);

	/* A slot out of generations is retired, not wrapped. */
	rec = core->cc_table[CELL_HANDLE_SLOT(hb)];
	rec->c_gen = CELL_GEN_MAX;
	T_EQ(cell_destroy(core, idb, NULL), 0);
	T_EQ(t_create(core, "c", CELL_PROFILE_LOW, &idc, &hc), 0);
	T_CHECK((hc & CELL_SLOT_MASK) != (hb & CELL_SLOT_MASK));
	T_EQ(core->cc_retired, 1);
	T_EQ(core->cc_nfree, CELL_MAX_CELLS - 2);
	cell_core_destroy(core);
}

/* References: destroy waits for zero, enter is refused after destroy. */
static void
test_refs_and_enter(void)
{
	struct cell_core *core = t_core();
	struct cell_create_req req;
	struct cell_info ci;
	uint32_t id, h, he;
	void *priv = NULL;
	int cookie = 7;

	t_req(&req, "svc");
	T_EQ(cell_create(core, &req, sizeof(req), 5, &cookie, &id, &h), 0);
	T_EQ(cell_enter(core, id, &he, &priv), 0);
	T_EQ(he, h);
	T_CHECK(priv == &cookie);
	T_EQ(cell_destroy(core, id, NULL), EBUSY);
	cell_ref(core, h);		/* fork: child shares, copy: +1 */
	cell_ref(core, h);
	T_EQ(cell_info_get(core, id, &ci, 10), 0);
	T_EQ(ci.ci_nrefs, 3);
	cell_unref(core, h);
	cell_unref(core, h);
	T_EQ(cell_destroy(core, id, NULL), EBUSY);
	cell_unref(core, h);
	T_EQ(cell_info_get(core, id, &ci, 10), 0);
	T_EQ(ci.ci_nrefs, 0);
	/* Host handle and stale handles are ignored. */
	cell_ref(core, 0);
	cell_unref(core, 0);
	cell_ref(core, 999);
	priv = NULL;
	T_EQ(cell_destroy(core, id, &priv), 0);
	T_CHECK(priv == &cookie);
	T_EQ(cell_enter(core, id, &he, &priv), ENOENT);
	T_EQ(cell_enter(core, 12345, &he, &priv), ENOENT);
	T_EQ(cell_destroy(core, 0, NULL), ENOENT);
	cell_core_destroy(core);
}

/* Ids run out at UINT32_MAX: ENOSPC, never a wrap to 0 or 1. */
static void
test_id_exhaustion(void)
{
	struct cell_core *core = t_core();
	struct cell_stats st;
	uint32_t id, h;

	cell_core_set_next_id(core, UINT32_MAX - 1);
	T_EQ(t_create(core, "a", 3, &id, &h), 0);
	T_EQ(id, UINT32_MAX - 1);
	T_EQ(t_create(core, "b", 3, &id, &h), 0);
	T_EQ(id, UINT32_MAX);
	T_EQ(t_create(core, "c", 3, &id, &h), ENOSPC);
	cell_stats_get(core, &st, 100);
	T_EQ(st.st_next_id, 0);
	T_EQ(st.st_ncells, 2);
	T_EQ(cell_destroy(core, UINT32_MAX, NULL), 0);
	T_EQ(t_create(core, "c", 3, &id, &h), ENOSPC);
	/* Moving the next id backwards is ignored. */
	cell_core_set_next_id(core, 5);
	T_EQ(t_create(core, "c", 3, &id, &h), ENOSPC);
	cell_core_destroy(core);

	core = t_core();
	T_EQ(t_create(core, "a", 3, &id, &h), 0);
	cell_core_set_next_id(core, 1);
	T_EQ(t_create(core, "b", 3, &id, &h), 0);
	T_EQ(id, 2);
	cell_core_destroy(core);
}

/* The table holds CELL_MAX_CELLS cells; one more is ENOSPC. */
static void
test_table_full(void)
{
	struct cell_core *core = t_core();
	struct cell_stats st;
	uint32_t i, id, h;
	char name[16];
	int err = 0;

	for (i = 0; i < CELL_MAX_CELLS && err == 0; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		err = t_create(core, name, 2, &id, &h);
	}
	T_EQ(err, 0);
	T_EQ(cell_core_count(core), CELL_MAX_CELLS);
	T_EQ(t_create(core, "onemore", 2, &id, &h), ENOSPC);
	T_EQ(t_create(core, "n5", 2, &id, &h), EEXIST);
	T_EQ(cell_destroy(core, 77, NULL), 0);
	T_EQ(t_create(core, "onemore", 2, &id, &h), 0);
	T_EQ(h, CELL_HANDLE(76, 1));
	T_EQ(id, CELL_MAX_CELLS + 1);
	cell_stats_get(core, &st, 100);
	T_EQ(st.st_ncells, CELL_MAX_CELLS);
	T_EQ(st.st_max_cells, CELL_MAX_CELLS);
	T_EQ(st.st_next_id, CELL_MAX_CELLS + 2);
	cell_core_destroy(core);
}

/* Port owners: reserve at create, conflict, release on destroy. */
static void
test_port_owners(void)
{
	struct cell_core *core = t_core();
	struct cell_create_req req;
	struct cell_subject s;
	struct cell_object o;
	uint32_t ida, ha, idb, hb, reason;

	t_req(&req, "a");
	req.cr_nports = 3;
	req.cr_ports[0] = 80;
	req.cr_ports[1] = 443;
	req.cr_ports[2] = 65535;
	T_EQ(cell_create(core, &req, sizeof(req), 1, NULL, &ida, &ha), 0);
	T_EQ(cell_port_owner(core, 80), ida);
	T_EQ(cell_port_owner(core, 443), ida);
	T_EQ(cell_port_owner(core, 65535), ida);
	T_EQ(cell_port_owner(core, 81), 0);
	T_EQ(cell_port_owner(core, 0), 0);

	/* One port in conflict refuses the whole create, leaves nothing. */
	t_req(&req, "b");
	req.cr_nports = 2;
	req.cr_ports[0] = 8080;
	req.cr_ports[1] = 443;
	T_EQ(cell_create(core, &req, sizeof(req), 1, NULL, &idb, &hb),
	    EADDRINUSE);
	T_EQ(cell_port_owner(core, 8080), 0);
	T_EQ(cell_core_count(core), 1);
	T_EQ(cell_lookup_name(core, "b", &hb), ENOENT);

	/* EEXIST wins over EADDRINUSE (name checked first). */
	t_req(&req, "a");
	req.cr_nports = 1;
	req.cr_ports[0] = 80;
	T_EQ(cell_create(core, &req, sizeof(req), 1, NULL, &idb, &hb), EEXIST);

	t_req(&req, "b");
	req.cr_nports = 1;
	req.cr_ports[0] = 8080;
	T_EQ(cell_create(core, &req, sizeof(req), 1, NULL, &idb, &hb), 0);

	/* IPv4 and IPv6 binds alike: the port is what is reserved. */
	memset(&o, 0, sizeof(o));
	s.cs_handle = hb;
	s.cs_euid = 0;
	o.co_port = 443;
	o.co_family = CELL_AF_INET6;
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DENY);
	T_EQ(reason, CELL_R_PORT_OWNED);
	o.co_family = CELL_AF_INET;
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DENY);
	o.co_port = 8080;
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DEFER);
	T_EQ(reason, CELL_R_PORT_FREE);

	/* Released on destroy, and can be taken by another cell. */
	T_EQ(cell_destroy(core, ida, NULL), 0);
	T_EQ(cell_port_owner(core, 80), 0);
	T_EQ(cell_port_owner(core, 443), 0);
	T_EQ(cell_port_owner(core, 65535), 0);
	o.co_port = 443;
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DEFER);
	t_req(&req, "c");
	req.cr_nports = 1;
	req.cr_ports[0] = 443;
	T_EQ(cell_create(core, &req, sizeof(req), 1, NULL, &ida, &ha), 0);
	T_EQ(cell_port_owner(core, 443), ida);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DENY);
	cell_core_destroy(core);
}

static void
t_bind_obj(struct cell_object *o, uint8_t fam, const uint8_t *addr,
    size_t len, uint16_t port)
{

	memset(o, 0, sizeof(*o));
	o->co_family = fam;
	o->co_port = port;
	if (addr != NULL)
		memcpy(o->co_addr, addr, len);
}

/* Allowed bind addresses, IPv4 and IPv6. */
static void
test_bind_addrs(void)
{
	static const uint8_t v4a[4] = { 192, 0, 2, 10 };
	static const uint8_t v4b[4] = { 192, 0, 2, 11 };
	static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 2 };
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff, 192, 0, 2, 10 };
	struct cell_core *core = t_core();
	struct cell_create_req req;
	struct cell_subject s;
	struct cell_object o;
	uint32_t id, h, hfree, reason;

	t_req(&req, "addr");
	req.cr_naddrs = 2;
	req.cr_addrs[0].ca_family = CELL_AF_INET;
	memcpy(req.cr_addrs[0].ca_addr, v4a, 4);
	req.cr_addrs[1].ca_family = CELL_AF_INET6;
	memcpy(req.cr_addrs[1].ca_addr, v6a, 16);
	T_EQ(cell_create(core, &req, sizeof(req), 1, NULL, &id, &h), 0);
	T_EQ(t_create(core, "free", 3, NULL, &hfree), 0);
	s.cs_handle = h;
	s.cs_euid = 0;

	t_bind_obj(&o, CELL_AF_INET, v4a, 4, 80);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DEFER);
	T_EQ(reason, CELL_R_PORT_FREE);
	/* Garbage past the IPv4 bytes of the object does not matter. */
	o.co_addr[7] = 0x55;
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DEFER);
	t_bind_obj(&o, CELL_AF_INET, v4b, 4, 80);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DENY);
	T_EQ(reason, CELL_R_BIND_ADDR);
	t_bind_obj(&o, CELL_AF_INET6, v6a, 16, 0);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DEFER);
	t_bind_obj(&o, CELL_AF_INET6, v6b, 16, 0);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DENY);
	T_EQ(reason, CELL_R_BIND_ADDR);
	/* Same bytes, wrong family. */
	t_bind_obj(&o, CELL_AF_INET6, v4a, 4, 0);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DENY);
	t_bind_obj(&o, CELL_AF_INET6, mapped, 16, 0);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DENY);
	/* Wildcards and unknown families. */
	t_bind_obj(&o, CELL_AF_INET, NULL, 0, 80);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DENY);
	T_EQ(reason, CELL_R_BIND_ADDR);
	t_bind_obj(&o, CELL_AF_INET6, NULL, 0, 80);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DENY);
	/* The wildcard with port 0 is connect(2)'s implicit bind. */
	t_bind_obj(&o, CELL_AF_INET, NULL, 0, 0);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DEFER);
	T_EQ(reason, CELL_R_PORT_FREE);
	t_bind_obj(&o, CELL_AF_INET6, NULL, 0, 0);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DEFER);
	t_bind_obj(&o, 0, NULL, 0, 0);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DENY);
	t_bind_obj(&o, 0, v4a, 4, 80);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DENY);
	t_bind_obj(&o, 5, v4a, 4, 80);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DENY);

	/* A cell without a list may bind anything, wildcard included. */
	s.cs_handle = hfree;
	t_bind_obj(&o, CELL_AF_INET, v4b, 4, 80);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DEFER);
	t_bind_obj(&o, 0, NULL, 0, 80);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DEFER);
	/* The host is not restricted by a cell's list. */
	s.cs_handle = 0;
	s.cs_euid = 1000;
	t_bind_obj(&o, CELL_AF_INET, v4a, 4, 80);
	T_EQ(cell_decide(core, &s, CELL_OP_NET_BIND, &o, &reason), CELL_DEFER);
	T_EQ(reason, CELL_R_HOST);
	cell_core_destroy(core);
}

/* Restore: a given id and creation time; the next id moves past it. */
static void
test_restore(void)
{
	struct cell_core *core = t_core();
	struct cell_create_req req;
	struct cell_info ci;
	uint32_t h, id;

	t_req(&req, "old");
	T_EQ(cell_restore(core, &req, sizeof(req), 40, 12345, &h), 0);
	T_EQ(cell_info_get(core, 40, &ci, 12350), 0);
	T_EQ(ci.ci_created, 12345);
	T_EQ(ci.ci_age, 5);
	t_req(&req, "older");
	T_EQ(cell_restore(core, &req, sizeof(req), 7, 100, &h), 0);
	t_req(&req, "dup");
	T_EQ(cell_restore(core, &req, sizeof(req), 40, 100, &h), EEXIST);
	T_EQ(cell_restore(core, &req, sizeof(req), 0, 100, &h), EINVAL);
	req.cr_abi = 99;
	T_EQ(cell_restore(core, &req, sizeof(req), 41, 100, &h), EPROTO);
	T_EQ(t_create(core, "new", 3, &id, &h), 0);
	T_EQ(id, 41);
	cell_core_destroy(core);
}

void	test_table(void);

void
test_table(void)
{

	T_RUN(test_ids_never_reused);
	T_RUN(test_name_unique);
	T_RUN(test_slot_reuse);
	T_RUN(test_refs_and_enter);
	T_RUN(test_id_exhaustion);
	T_RUN(test_table_full);
	T_RUN(test_stale_handle);
	T_RUN(test_port_owners);
	T_RUN(test_bind_addrs);
	T_RUN(test_restore);
}
