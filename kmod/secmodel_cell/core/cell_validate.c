/*	$NetBSD$	*/

/*
 * cell_validate.c -- validation of a create payload.
 *
 * Called by the sysctl create handler (through cell_create()), by the sim
 * backend and by the fuzzer.  It touches no state; conflicts with existing
 * cells (name, ports, table space) are cell_create()'s business.
 *
 * Return values, checked in this order; nothing else is ever returned:
 *
 *	0		the payload is well formed
 *	EINVAL		req is NULL or len != sizeof(struct cell_create_req)
 *	EINVAL		cr_size != sizeof(struct cell_create_req)
 *	EPROTO		cr_abi != CELL_ABI_VERSION
 *	EINVAL		unknown bits in cr_flags, cr_id != 0, cr_pad0 or
 *			cr_pad1 non-zero
 *	EINVAL		cr_profile not CELL_PROFILE_LOW..CELL_PROFILE_HIGH
 *	ENAMETOOLONG	cr_name has no NUL within CELL_NAME_MAX bytes
 *	EINVAL		cr_name empty, not starting with a letter, or with
 *			a byte outside [A-Za-z0-9._-] (so a name is never
 *			all digits and cannot be mistaken for an id)
 *	ENAMETOOLONG	cr_root has no NUL within CELL_PATH_MAX bytes
 *	EINVAL		cr_root not starting with '/'
 *	EINVAL		cr_nports > CELL_PORTS_MAX, a listed port 0, a port
 *			listed twice, a non-zero entry past cr_nports
 *	EINVAL		cr_naddrs > CELL_ADDRS_MAX, a family other than
 *			CELL_AF_INET/CELL_AF_INET6, non-zero ca_pad, an IPv4
 *			address with non-zero bytes 4..15, an address listed
 *			twice, a non-zero entry past cr_naddrs
 *	EINVAL		cr_nrlimits > CELL_RLIMITS_MAX, a resource outside
 *			CELL_RLIMIT_NOFILE..CELL_RLIMIT_NPROC, a resource
 *			listed twice, soft > hard, non-zero crl_pad, a
 *			non-zero entry past cr_nrlimits
 */

#include "cell_impl.h"

static int
cell_allzero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static int
cell_name_letter(char c)
{

	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
cell_name_char(char c)
{

	return cell_name_letter(c) || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '-';
}

static int
cell_validate_name(const char *name)
{
	size_t len, i;

	len = cell_strnlen(name, CELL_NAME_MAX);
	if (len == CELL_NAME_MAX)
		return ENAMETOOLONG;
	/* A leading letter: userland reads a decimal string as an id. */
	if (len == 0 || !cell_name_letter(name[0]))
		return EINVAL;
	for (i = 0; i < len; i++)
		if (!cell_name_char(name[i]))
			return EINVAL;
	return 0;
}

static int
cell_validate_ports(const struct cell_create_req *req)
{
	unsigned i, j;

	if (req->cr_nports > CELL_PORTS_MAX)
		return EINVAL;
	for (i = 0; i < CELL_PORTS_MAX; i++) {
		if (i >= req->cr_nports) {
			if (req->cr_ports[i] != 0)
				return EINVAL;
			continue;
		}
		if (req->cr_ports[i] == 0)
			return EINVAL;
		for (j = 0; j < i; j++)
			if (req->cr_ports[j] == req->cr_ports[i])
				return EINVAL;
	}
	return 0;
}

static int
cell_validate_addrs(const struct cell_create_req *req)
{
	const struct cell_addr *a, *b;
	unsigned i, j;

	if (req->cr_naddrs > CELL_ADDRS_MAX)
		return EINVAL;
	for (i = 0; i < CELL_ADDRS_MAX; i++) {
		a = &req->cr_addrs[i];
		if (i >= req->cr_naddrs) {
			if (!cell_allzero(a, sizeof(*a)))
				return EINVAL;
			continue;
		}
		if (a->ca_family != CELL_AF_INET &&
		    a->ca_family != CELL_AF_INET6)
			return EINVAL;
		if (!cell_allzero(a->ca_pad, sizeof(a->ca_pad)))
			return EINVAL;
		if (a->ca_family == CELL_AF_INET &&
		    !cell_allzero(&a->ca_addr[4], sizeof(a->ca_addr) - 4))
			return EINVAL;
		for (j = 0; j < i; j++) {
			b = &req->cr_addrs[j];
			if (b->ca_family == a->ca_family &&
			    cell_memcmp(b->ca_addr, a->ca_addr,
			    sizeof(a->ca_addr)) == 0)
				return EINVAL;
		}
	}
	return 0;
}

static int
cell_validate_rlimits(const struct cell_create_req *req)
{
	const struct cell_rlimit *r;
	unsigned i, j;

	if (req->cr_nrlimits > CELL_RLIMITS_MAX)
		return EINVAL;
	for (i = 0; i < CELL_RLIMITS_MAX; i++) {
		r = &req->cr_rlimits[i];
		if (i >= req->cr_nrlimits) {
			if (!cell_allzero(r, sizeof(*r)))
				return EINVAL;
			continue;
		}
		if (r->crl_resource < CELL_RLIMIT_NOFILE ||
		    r->crl_resource > CELL_RLIMIT_NPROC ||
		    r->crl_pad != 0 || r->crl_soft > r->crl_hard)
			return EINVAL;
		for (j = 0; j < i; j++)
			if (req->cr_rlimits[j].crl_resource == r->crl_resource)
				return EINVAL;
	}
	return 0;
}

int
cell_validate_create(const struct cell_create_req *req, size_t len)
{
	size_t rlen;
	int error;

	if (req == NULL || len != sizeof(*req))
		return EINVAL;
	if (req->cr_size != sizeof(*req))
		return EINVAL;
	if (req->cr_abi != CELL_ABI_VERSION)
		return EPROTO;
	if ((req->cr_flags & ~(uint32_t)CELL_F_ALL) != 0 || req->cr_id != 0 ||
	    req->cr_pad0 != 0 || req->cr_pad1 != 0)
		return EINVAL;
	if (req->cr_profile < CELL_PROFILE_LOW ||
	    req->cr_profile > CELL_PROFILE_HIGH)
		return EINVAL;
	if ((error = cell_validate_name(req->cr_name)) != 0)
		return error;
	rlen = cell_strnlen(req->cr_root, CELL_PATH_MAX);
	if (rlen == CELL_PATH_MAX)
		return ENAMETOOLONG;
	if (req->cr_root[0] != '/')
		return EINVAL;
	if ((error = cell_validate_ports(req)) != 0)
		return error;
	if ((error = cell_validate_addrs(req)) != 0)
		return error;
	return cell_validate_rlimits(req);
}
