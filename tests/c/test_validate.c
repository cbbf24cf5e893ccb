/*	$NetBSD$	*/

/*
 * test_validate.c -- every errno cell_validate_create() documents, and
 * that cell_create() refuses the same payloads without side effects.
 */

#include <stdio.h>
#include <string.h>

#include "cell_impl.h"
#include "harness.h"

typedef void (*t_mut_t)(struct cell_create_req *);

struct t_case {
	const char	*what;
	t_mut_t		mut;
	int		err;
};

/* Mutations of a valid request, one per case below. */

static void
m_none(struct cell_create_req *r)
{

	(void)r;
}

static void
m_size(struct cell_create_req *r)
{

	r->cr_size--;
}

static void
m_size0(struct cell_create_req *r)
{

	r->cr_size = 0;
}

static void
m_abi(struct cell_create_req *r)
{

	r->cr_abi = 2;
}

static void
m_abi0(struct cell_create_req *r)
{

	r->cr_abi = 0;
}

static void
m_flag(struct cell_create_req *r)
{

	r->cr_flags = 4;
}

static void
m_flaghi(struct cell_create_req *r)
{

	r->cr_flags = 0x80000001u;
}

static void
m_flagok(struct cell_create_req *r)
{

	r->cr_flags = CELL_F_ALL;
}

static void
m_id(struct cell_create_req *r)
{

	r->cr_id = 3;
}

static void
m_pad0(struct cell_create_req *r)
{

	r->cr_pad0 = 1;
}

static void
m_pad1(struct cell_create_req *r)
{

	r->cr_pad1 = 1;
}

static void
m_prof0(struct cell_create_req *r)
{

	r->cr_profile = 0;
}

static void
m_prof4(struct cell_create_req *r)
{

	r->cr_profile = 4;
}

static void
m_proflow(struct cell_create_req *r)
{

	r->cr_profile = 1;
}

static void
m_nameunterm(struct cell_create_req *r)
{

	memset(r->cr_name, 'a', sizeof(r->cr_name));
}

static void
m_name63(struct cell_create_req *r)
{

	memset(r->cr_name, 'a', 63);
	r->cr_name[63] = '\0';
}

static void
m_nameempty(struct cell_create_req *r)
{

	r->cr_name[0] = '\0';
}

static void
m_namedash(struct cell_create_req *r)
{

	strcpy(r->cr_name, "-x");
}

static void
m_namedot(struct cell_create_req *r)
{

	strcpy(r->cr_name, ".x");
}

static void
m_namedotdot(struct cell_create_req *r)
{

	strcpy(r->cr_name, "..");
}

static void
m_namedigits(struct cell_create_req *r)
{

	/* Read back as an id by every tool: never a name. */
	strcpy(r->cr_name, "4");
}

static void
m_namedigit(struct cell_create_req *r)
{

	strcpy(r->cr_name, "4web");
}

static void
m_nameunder(struct cell_create_req *r)
{

	strcpy(r->cr_name, "_x");
}

static void
m_nameslash(struct cell_create_req *r)
{

	strcpy(r->cr_name, "a/b");
}

static void
m_namespace(struct cell_create_req *r)
{

	strcpy(r->cr_name, "a b");
}

static void
m_name8bit(struct cell_create_req *r)
{

	strcpy(r->cr_name, "caf\xc3\xa9");
}

static void
m_namegood(struct cell_create_req *r)
{

	strcpy(r->cr_name, "A-z_0.9-");
}

static void
m_nametail(struct cell_create_req *r)
{

	/* After the NUL: ignored. */
	r->cr_name[40] = 'x';
}

static void
m_rootunterm(struct cell_create_req *r)
{

	memset(r->cr_root, '/', sizeof(r->cr_root));
}

static void
m_rootlong(struct cell_create_req *r)
{

	memset(r->cr_root, '/', sizeof(r->cr_root) - 1);
	r->cr_root[sizeof(r->cr_root) - 1] = '\0';
}

static void
m_rootrel(struct cell_create_req *r)
{

	strcpy(r->cr_root, "cells/x");
}

static void
m_rootempty(struct cell_create_req *r)
{

	r->cr_root[0] = '\0';
}

static void
m_nports(struct cell_create_req *r)
{

	r->cr_nports = 33;
}

static void
m_port0(struct cell_create_req *r)
{

	r->cr_nports = 2;
	r->cr_ports[0] = 80;
	r->cr_ports[1] = 0;
}

static void
m_portdup(struct cell_create_req *r)
{

	r->cr_nports = 3;
	r->cr_ports[0] = 80;
	r->cr_ports[1] = 81;
	r->cr_ports[2] = 80;
}

static void
m_porttail(struct cell_create_req *r)
{

	r->cr_nports = 1;
	r->cr_ports[0] = 80;
	r->cr_ports[31] = 81;
}

static void
m_portsfull(struct cell_create_req *r)
{
	int i;

	r->cr_nports = 32;
	for (i = 0; i < 32; i++)
		r->cr_ports[i] = (uint16_t)(1000 + i);
}

static void
m_naddrs(struct cell_create_req *r)
{

	r->cr_naddrs = 9;
}

static void
m_fam(struct cell_create_req *r)
{

	r->cr_naddrs = 1;
	r->cr_addrs[0].ca_family = 5;
}

static void
m_fam0(struct cell_create_req *r)
{

	r->cr_naddrs = 1;
}

static void
m_capad(struct cell_create_req *r)
{

	r->cr_naddrs = 1;
	r->cr_addrs[0].ca_family = CELL_AF_INET6;
	r->cr_addrs[0].ca_pad[2] = 1;
}

static void
m_v4tail(struct cell_create_req *r)
{

	r->cr_naddrs = 1;
	r->cr_addrs[0].ca_family = CELL_AF_INET;
	r->cr_addrs[0].ca_addr[0] = 10;
	r->cr_addrs[0].ca_addr[15] = 1;
}

static void
m_v6full(struct cell_create_req *r)
{

	r->cr_naddrs = 1;
	r->cr_addrs[0].ca_family = CELL_AF_INET6;
	memset(r->cr_addrs[0].ca_addr, 0xfe, 16);
}

static void
m_addrdup(struct cell_create_req *r)
{

	r->cr_naddrs = 2;
	r->cr_addrs[0].ca_family = CELL_AF_INET;
	r->cr_addrs[0].ca_addr[0] = 10;
	r->cr_addrs[1] = r->cr_addrs[0];
}

static void
m_addrsamebytes(struct cell_create_req *r)
{

	m_addrdup(r);
	r->cr_addrs[1].ca_family = CELL_AF_INET6;
}

static void
m_addrtail(struct cell_create_req *r)
{

	r->cr_naddrs = 0;
	r->cr_addrs[3].ca_addr[9] = 1;
}

static void
m_addrtailfam(struct cell_create_req *r)
{

	r->cr_addrs[7].ca_family = CELL_AF_INET;
}

static void
m_nrl(struct cell_create_req *r)
{

	r->cr_nrlimits = 5;
}

static void
m_rlres0(struct cell_create_req *r)
{

	r->cr_nrlimits = 1;
}

static void
m_rlres5(struct cell_create_req *r)
{

	r->cr_nrlimits = 1;
	r->cr_rlimits[0].crl_resource = 5;
}

static void
m_rldup(struct cell_create_req *r)
{

	r->cr_nrlimits = 2;
	r->cr_rlimits[0].crl_resource = CELL_RLIMIT_AS;
	r->cr_rlimits[1].crl_resource = CELL_RLIMIT_AS;
}

static void
m_rlsoft(struct cell_create_req *r)
{

	r->cr_nrlimits = 1;
	r->cr_rlimits[0].crl_resource = CELL_RLIMIT_NOFILE;
	r->cr_rlimits[0].crl_soft = 11;
	r->cr_rlimits[0].crl_hard = 10;
}

static void
m_rlpad(struct cell_create_req *r)
{

	r->cr_nrlimits = 1;
	r->cr_rlimits[0].crl_resource = CELL_RLIMIT_CORE;
	r->cr_rlimits[0].crl_pad = 1;
}

static void
m_rltail(struct cell_create_req *r)
{

	r->cr_rlimits[2].crl_hard = 1;
}

static void
m_rlfull(struct cell_create_req *r)
{
	int i;

	r->cr_nrlimits = 4;
	for (i = 0; i < 4; i++) {
		r->cr_rlimits[i].crl_resource = (uint32_t)i + 1;
		r->cr_rlimits[i].crl_soft = 10;
		r->cr_rlimits[i].crl_hard = 10;
	}
}

static const struct t_case t_cases[] = {
	{ "valid", m_none, 0 },
	{ "cr_size short", m_size, EINVAL },
	{ "cr_size 0", m_size0, EINVAL },
	{ "abi 2", m_abi, EPROTO },
	{ "abi 0", m_abi0, EPROTO },
	{ "unknown flag", m_flag, EINVAL },
	{ "high flag", m_flaghi, EINVAL },
	{ "all flags", m_flagok, 0 },
	{ "cr_id set", m_id, EINVAL },
	{ "cr_pad0", m_pad0, EINVAL },
	{ "cr_pad1", m_pad1, EINVAL },
	{ "profile 0", m_prof0, EINVAL },
	{ "profile 4", m_prof4, EINVAL },
	{ "profile low", m_proflow, 0 },
	{ "name unterminated", m_nameunterm, ENAMETOOLONG },
	{ "name 63 bytes", m_name63, 0 },
	{ "name empty", m_nameempty, EINVAL },
	{ "name -x", m_namedash, EINVAL },
	{ "name .x", m_namedot, EINVAL },
	{ "name ..", m_namedotdot, EINVAL },
	{ "name 4 (all digits)", m_namedigits, EINVAL },
	{ "name 4web", m_namedigit, EINVAL },
	{ "name _x", m_nameunder, EINVAL },
	{ "name a/b", m_nameslash, EINVAL },
	{ "name a b", m_namespace, EINVAL },
	{ "name 8 bit", m_name8bit, EINVAL },
	{ "name full charset", m_namegood, 0 },
	{ "name bytes after NUL", m_nametail, 0 },
	{ "root unterminated", m_rootunterm, ENAMETOOLONG },
	{ "root 1023 bytes", m_rootlong, 0 },
	{ "root relative", m_rootrel, EINVAL },
	{ "root empty", m_rootempty, EINVAL },
	{ "nports 33", m_nports, EINVAL },
	{ "port 0", m_port0, EINVAL },
	{ "port duplicate", m_portdup, EINVAL },
	{ "port past nports", m_porttail, EINVAL },
	{ "32 ports", m_portsfull, 0 },
	{ "naddrs 9", m_naddrs, EINVAL },
	{ "family 5", m_fam, EINVAL },
	{ "family 0", m_fam0, EINVAL },
	{ "ca_pad", m_capad, EINVAL },
	{ "ipv4 tail bytes", m_v4tail, EINVAL },
	{ "ipv6 address", m_v6full, 0 },
	{ "address duplicate", m_addrdup, EINVAL },
	{ "same bytes, two families", m_addrsamebytes, 0 },
	{ "address past naddrs", m_addrtail, EINVAL },
	{ "family past naddrs", m_addrtailfam, EINVAL },
	{ "nrlimits 5", m_nrl, EINVAL },
	{ "rlimit resource 0", m_rlres0, EINVAL },
	{ "rlimit resource 5", m_rlres5, EINVAL },
	{ "rlimit duplicate", m_rldup, EINVAL },
	{ "rlimit soft > hard", m_rlsoft, EINVAL },
	{ "rlimit pad", m_rlpad, EINVAL },
	{ "rlimit past nrlimits", m_rltail, EINVAL },
	{ "4 rlimits", m_rlfull, 0 },
};

static void
test_validate_cases(void)
{
	struct cell_core *core;
	struct cell_create_req req;
	size_t i;
	uint32_t id, h;
	int err;

	for (i = 0; i < sizeof(t_cases) / sizeof(t_cases[0]); i++) {
		core = t_core();
		t_req(&req, "cell");
		t_cases[i].mut(&req);
		err = cell_validate_create(&req, sizeof(req));
		if (!T_EQ(err, t_cases[i].err))
			printf("  case: %s\n", t_cases[i].what);
		/* Create refuses the same way and leaves nothing behind. */
		id = h = 0;
		err = cell_create(core, &req, sizeof(req), 1, NULL, &id, &h);
		if (!T_EQ(err, t_cases[i].err))
			printf("  case (create): %s\n", t_cases[i].what);
		T_EQ(cell_core_count(core), err == 0 ? 1 : 0);
		if (err != 0) {
			T_EQ(id, 0);
			T_EQ(cell_port_owner(core, 80), 0);
			T_EQ(cell_port_owner(core, 1000), 0);
		}
		cell_core_destroy(core);
	}
}

static void
test_validate_len(void)
{
	struct cell_create_req req[2];

	t_req(&req[0], "x");
	T_EQ(cell_validate_create(&req[0], sizeof(req[0])), 0);
	T_EQ(cell_validate_create(&req[0], sizeof(req[0]) - 1), EINVAL);
	T_EQ(cell_validate_create(&req[0], sizeof(req[0]) + 1), EINVAL);
	T_EQ(cell_validate_create(&req[0], 0), EINVAL);
	T_EQ(cell_validate_create(NULL, sizeof(req[0])), EINVAL);
	/* The size check comes before the ABI check. */
	req[0].cr_abi = 9;
	T_EQ(cell_validate_create(&req[0], 2 * sizeof(req[0])), EINVAL);
	T_EQ(cell_validate_create(&req[0], sizeof(req[0])), EPROTO);
}

/* The record keeps a clean copy: nothing after the NULs survives. */
static void
test_info_roundtrip(void)
{
	struct cell_core *core = t_core();
	struct cell_create_req req;
	struct cell_info ci;
	uint32_t id, h;

	t_req(&req, "round");
	req.cr_name[50] = 'Z';
	req.cr_root[900] = 'Z';
	req.cr_profile = CELL_PROFILE_MEDIUM;
	req.cr_flags = CELL_F_ALLOW_RAWSOCK;
	m_portsfull(&req);
	m_v6full(&req);
	m_rlfull(&req);
	T_EQ(cell_create(core, &req, sizeof(req), 1000, NULL, &id, &h), 0);
	T_EQ(cell_info_get(core, id, &ci, 1010), 0);
	T_EQ(ci.ci_id, id);
	T_STR(ci.ci_name, "round");
	T_STR(ci.ci_root, "/cells/round");
	T_EQ(ci.ci_name[50], 0);
	T_EQ(ci.ci_root[900], 0);
	T_EQ(ci.ci_profile, CELL_PROFILE_MEDIUM);
	T_EQ(ci.ci_flags, CELL_F_ALLOW_RAWSOCK);
	T_EQ(ci.ci_state, CELL_STATE_ACTIVE);
	T_EQ(ci.ci_nports, 32);
	T_EQ(ci.ci_ports[31], 1031);
	T_EQ(ci.ci_naddrs, 1);
	T_EQ(ci.ci_addrs[0].ca_family, CELL_AF_INET6);
	T_EQ(ci.ci_addrs[0].ca_addr[15], 0xfe);
	T_EQ(ci.ci_nrlimits, 4);
	T_EQ(ci.ci_rlimits[3].crl_resource, 4);
	T_EQ(ci.ci_rlimits[3].crl_hard, 10);
	T_EQ(ci.ci_created, 1000);
	T_EQ(ci.ci_age, 10);
	T_EQ(ci.ci_pad0 | ci.ci_pad1 | ci.ci_pad2, 0);
	T_EQ(cell_info_get(core, id, &ci, 900), 0);
	T_EQ(ci.ci_age, 0);	/* clock went back: never negative */
	T_EQ(cell_info_get(core, id + 1, &ci, 900), ENOENT);
	cell_core_destroy(core);
}

void	test_validate(void);

void
test_validate(void)
{

	T_RUN(test_validate_cases);
	T_RUN(test_validate_len);
	T_RUN(test_info_roundtrip);
}
