/*	$NetBSD$	*/

/*
 * fuzz_create.c -- fuzz target over payload validation and the create /
 * destroy path, for libFuzzer (LLVMFuzzerTestOneInput) or the standalone
 * driver (fuzz_driver.c).
 *
 * An input at least as long as the payload is the payload (its length
 * clamped).  A shorter input is either, when its first byte is odd, a
 * short payload (the length check), or a list of patches to a valid
 * template: (offset high, offset low, byte) triples.  Patches give a
 * coverage-guided fuzzer a way in from an empty corpus.  A few cells
 * created once own names and ports the payload may collide with.
 * Aborts when:
 *   - validation or create returns an errno they do not document;
 *   - create disagrees with validation about a malformed payload;
 *   - a created cell does not read back what was asked, cannot be
 *     destroyed, or leaves a port reserved after destroy.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cell_impl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Outcomes by errno, for the driver's summary (index 0 = success). */
unsigned long fuzz_outcomes[256];

static struct cell_core *fuzz_core;

static void
fuzz_setup(void)
{
	static const char *const names[] = { "web", "db", "a", "x-1" };
	static const uint16_t ports[] = { 80, 443, 1, 65535 };
	struct cell_create_req req;
	uint32_t id, h;
	unsigned i;

	if (cell_core_create(&fuzz_core) != 0)
		abort();
	for (i = 0; i < 4; i++) {
		memset(&req, 0, sizeof(req));
		req.cr_size = sizeof(req);
		req.cr_abi = CELL_ABI_VERSION;
		req.cr_profile = CELL_PROFILE_HIGH;
		strcpy(req.cr_name, names[i]);
		strcpy(req.cr_root, "/");
		req.cr_nports = 1;
		req.cr_ports[0] = ports[i];
		if (cell_create(fuzz_core, &req, sizeof(req), 1, NULL, &id,
		    &h) != 0)
			abort();
	}
}

/* A valid payload with one port, one address and one limit. */
static void
fuzz_template(struct cell_create_req *req)
{

	req->cr_size = sizeof(*req);
	req->cr_abi = CELL_ABI_VERSION;
	req->cr_profile = CELL_PROFILE_MEDIUM;
	strcpy(req->cr_name, "tmpl");
	strcpy(req->cr_root, "/cells/tmpl");
	req->cr_nports = 1;
	req->cr_ports[0] = 8000;
	req->cr_naddrs = 1;
	req->cr_addrs[0].ca_family = CELL_AF_INET;
	req->cr_addrs[0].ca_addr[0] = 10;
	req->cr_nrlimits = 1;
	req->cr_rlimits[0].crl_resource = CELL_RLIMIT_NOFILE;
	req->cr_rlimits[0].crl_soft = 64;
	req->cr_rlimits[0].crl_hard = 128;
}

static int
fuzz_validate_errno(int err)
{

	return err == 0 || err == EINVAL || err == EPROTO ||
	    err == ENAMETOOLONG;
}

static int
fuzz_create_errno(int err)
{

	return fuzz_validate_errno(err) || err == EEXIST ||
	    err == EADDRINUSE || err == ENOSPC || err == ENOMEM;
}

static void
fuzz_created(const struct cell_create_req *req, uint32_t id, uint32_t h)
{
	struct cell_subject s;
	struct cell_object o;
	struct cell_info ci;
	unsigned i, op;

	if (cell_info_get(fuzz_core, id, &ci, 2) != 0 ||
	    cell_handle_id(fuzz_core, h) != id ||
	    strncmp(ci.ci_name, req->cr_name, sizeof(ci.ci_name)) != 0 ||
	    strncmp(ci.ci_root, req->cr_root, sizeof(ci.ci_root)) != 0 ||
	    ci.ci_profile != req->cr_profile || ci.ci_flags != req->cr_flags ||
	    ci.ci_nports != req->cr_nports)
		abort();
	for (i = 0; i < req->cr_nports; i++)
		if (cell_port_owner(fuzz_core, req->cr_ports[i]) != id)
			abort();

	/* Decide a little with the new cell as subject. */
	memset(&o, 0, sizeof(o));
	s.cs_handle = h;
	s.cs_euid = 0;
	for (op = 0; op < CELL_OP_COUNT; op++) {
		o.co_port = req->cr_nports > 0 ? req->cr_ports[0] : 80;
		o.co_family = req->cr_naddrs > 0 ?
		    req->cr_addrs[0].ca_family : CELL_AF_INET;
		memcpy(o.co_addr, req->cr_addrs[0].ca_addr, 16);
		o.co_handle = op & 1 ? h : 0;
		(void)cell_check(fuzz_core, &s, op, &o, op, 0, 2);
	}

	if (cell_destroy(fuzz_core, id, NULL) != 0)
		abort();
	for (i = 0; i < req->cr_nports; i++)
		if (cell_port_owner(fuzz_core, req->cr_ports[i]) != 0)
			abort();
	if (cell_handle_id(fuzz_core, h) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cell_create_req req;
	size_t len, i, off;
	uint32_t id, h;
	int verr, cerr;

	if (fuzz_core == NULL)
		fuzz_setup();
	memset(&req, 0, sizeof(req));
	if (size >= sizeof(req)) {
		len = sizeof(req);
		memcpy(&req, data, len);
	} else if (size > 0 && (data[0] & 1) != 0) {
		len = size - 1;
		memcpy(&req, data + 1, len);
	} else {
		len = sizeof(req);
		fuzz_template(&req);
		for (i = 1; i + 3 <= size; i += 3) {
			off = ((size_t)data[i] << 8 | data[i + 1]) % sizeof(req);
			((uint8_t *)&req)[off] = data[i + 2];
		}
	}

	verr = cell_validate_create(&req, len);
	if (!fuzz_validate_errno(verr))
		abort();
	id = h = 0;
	cerr = cell_create(fuzz_core, &req, len, 1, NULL, &id, &h);
	if (!fuzz_create_errno(cerr) || (verr != 0 && cerr != verr))
		abort();
	fuzz_outcomes[cerr & 0xff]++;
	if (cerr == 0)
		fuzz_created(&req, id, h);
	else if (cell_core_count(fuzz_core) != 4)
		abort();
	return 0;
}
