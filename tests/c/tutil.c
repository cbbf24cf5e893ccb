/*	$NetBSD$	*/

/*
 * tutil.c -- building blocks for the C tests: a valid create request,
 * a core that must come up, a create that reports its errno.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* A minimal valid request: name, root /cells/<name>, profile high. */
void
t_req(struct cell_create_req *req, const char *name)
{

	memset(req, 0, sizeof(*req));
	req->cr_size = sizeof(*req);
	req->cr_abi = CELL_ABI_VERSION;
	req->cr_profile = CELL_PROFILE_HIGH;
	snprintf(req->cr_name, sizeof(req->cr_name), "%s", name);
	snprintf(req->cr_root, sizeof(req->cr_root), "/cells/%s", name);
}

/* Create a cell with a profile and no ports; the errno. */
int
t_create(struct cell_core *core, const char *name, uint32_t profile,
    uint32_t *idp, uint32_t *handlep)
{
	struct cell_create_req req;

	t_req(&req, name);
	req.cr_profile = profile;
	return cell_create(core, &req, sizeof(req), 1000, NULL, idp, handlep);
}

struct cell_core *
t_core(void)
{
	struct cell_core *core = NULL;

	if (cell_core_create(&core) != 0 || core == NULL) {
		printf("cell_core_create failed\n");
		exit(2);
	}
	return core;
}
