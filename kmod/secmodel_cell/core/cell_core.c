/*	$NetBSD$	*/

/*
 * cell_core.c -- the cell table: lifecycle, membership and lookups.
 *
 * Control paths (create, restore, destroy, enter, lookups) serialise on
 * the core mutex and allocate or free only outside it.  The hot path reads
 * cc_table[] and cc_owner[] without the lock: a record is published with a
 * store-release once complete, and unpublished only when no credential
 * refers to it.  cc_byid[] keeps the live handles in id order, so lookups
 * by id are a binary search and listings come out sorted.
 *
 * Errors (every value these functions return besides 0):
 *	cell_core_create	EINVAL (NULL), ENOMEM
 *	cell_create		cell_validate_create()'s, then EEXIST (name in
 *				use), EADDRINUSE (a port owned by another
 *				cell), ENOSPC (no free slot, ids exhausted),
 *				ENOMEM
 *	cell_restore		as cell_create, EINVAL for id 0, EEXIST for an
 *				id in use
 *	cell_destroy		ENOENT (no such cell), EBUSY (references)
 *	cell_enter		ENOENT (no such cell, or not active)
 *	cell_lookup_id/_name	EINVAL (NULL name), ENOENT
 */

#include "cell_impl.h"

int
cell_core_create(struct cell_core **corep)
{
	struct cell_core *core;
	uint32_t i;

	if (corep == NULL)
		return EINVAL;
	core = cell_zalloc(sizeof(*core));
	if (core == NULL)
		return ENOMEM;
	cell_mutex_init(&core->cc_lock);
	core->cc_next_id = 1;
	/* Free slots as a stack, slot 0 on top. */
	for (i = 0; i < CELL_MAX_CELLS; i++)
		core->cc_free[i] = CELL_MAX_CELLS - 1 - i;
	core->cc_nfree = CELL_MAX_CELLS;
	*corep = core;
	return 0;
}

/*
 * Tear the core down.  The kernel refuses to unload while cells exist; a
 * host user of the core may drop remaining cells here (their priv
 * pointers are forgotten).
 */
void
cell_core_destroy(struct cell_core *core)
{
	uint32_t i;

	if (core == NULL)
		return;
	for (i = 0; i < CELL_MAX_CELLS; i++)
		if (core->cc_table[i] != NULL)
			cell_free(core->cc_table[i], sizeof(struct cell_rec));
	cell_mutex_destroy(&core->cc_lock);
	cell_free(core, sizeof(*core));
}

uint32_t
cell_core_count(struct cell_core *core)
{
	uint32_t n;

	cell_mutex_enter(&core->cc_lock);
	n = core->cc_ncells;
	cell_mutex_exit(&core->cc_lock);
	return n;
}

/*
 * Ids only move forward: a value at or below the next id is ignored, so
 * an id can never be handed out twice.
 */
void
cell_core_set_next_id(struct cell_core *core, uint32_t id)
{

	cell_mutex_enter(&core->cc_lock);
	if (id > core->cc_next_id)
		core->cc_next_id = id;
	cell_mutex_exit(&core->cc_lock);
}

static uint32_t
cell_name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name != '\0')
		h = (h ^ (uint8_t)*name++) * 16777619u;
	return h;
}

/* Index in cc_byid[] of the first handle whose id is >= id. */
static uint32_t
cell_byid_pos(struct cell_core *core, uint32_t id)
{
	uint32_t lo = 0, hi = core->cc_ncells, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (core->cc_table[core->cc_byid[mid] - 1]->c_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct cell_rec *
cell_rec_by_id(struct cell_core *core, uint32_t id)
{
	struct cell_rec *rec;
	uint32_t pos;

	pos = cell_byid_pos(core, id);
	if (pos == core->cc_ncells)
		return NULL;
	rec = core->cc_table[core->cc_byid[pos] - 1];
	return rec->c_id == id ? rec : NULL;
}

static struct cell_rec *
cell_rec_by_name(struct cell_core *core, const char *name, uint32_t hash)
{
	struct cell_rec *rec;
	size_t len;
	uint32_t i;

	len = cell_strnlen(name, CELL_NAME_MAX);
	for (i = 0; i < core->cc_ncells; i++) {
		rec = core->cc_table[core->cc_byid[i] - 1];
		if (rec->c_namehash == hash &&
		    cell_strnlen(rec->c_req.cr_name, CELL_NAME_MAX) == len &&
		    cell_memcmp(rec->c_req.cr_name, name, len) == 0)
			return rec;
	}
	return NULL;
}

/* Fill a new record from a validated request; no lock needed. */
static void
cell_rec_init(struct cell_rec *rec, const struct cell_create_req *req,
    uint64_t created, void *priv)
{
	struct cell_create_req *copy = &rec->c_req;

	rec->c_profile = req->cr_profile;
	rec->c_flags = req->cr_flags;
	rec->c_naddrs = req->cr_naddrs;
	cell_memcpy(rec->c_addrs, req->cr_addrs, sizeof(rec->c_addrs));
	rec->c_state = CELL_STATE_ACTIVE;
	rec->c_created = created;
	rec->c_priv = priv;

	/* Copy only up to the NULs: bytes past them are not ours to keep. */
	copy->cr_size = req->cr_size;
	copy->cr_abi = req->cr_abi;
	copy->cr_flags = req->cr_flags;
	copy->cr_profile = req->cr_profile;
	copy->cr_nports = req->cr_nports;
	copy->cr_naddrs = req->cr_naddrs;
	copy->cr_nrlimits = req->cr_nrlimits;
	cell_memcpy(copy->cr_name, req->cr_name,
	    cell_strnlen(req->cr_name, CELL_NAME_MAX));
	cell_memcpy(copy->cr_root, req->cr_root,
	    cell_strnlen(req->cr_root, CELL_PATH_MAX));
	cell_memcpy(copy->cr_ports, req->cr_ports, sizeof(copy->cr_ports));
	cell_memcpy(copy->cr_addrs, req->cr_addrs, sizeof(copy->cr_addrs));
	cell_memcpy(copy->cr_rlimits, req->cr_rlimits,
	    sizeof(copy->cr_rlimits));
	rec->c_namehash = cell_name_hash(copy->cr_name);
}

/*
 * Commit a validated record under the lock.  id 0 means "the next id".
 */
static int
cell_commit(struct cell_core *core, struct cell_rec *rec, uint32_t want)
{
	const struct cell_create_req *req = &rec->c_req;
	uint32_t id, slot, pos, i;
	uint16_t port;

	if (cell_rec_by_name(core, req->cr_name, rec->c_namehash) != NULL)
		return EEXIST;
	if (want != 0 && cell_rec_by_id(core, want) != NULL)
		return EEXIST;
	for (i = 0; i < req->cr_nports; i++)
		if (core->cc_owner[req->cr_ports[i]] != 0)
			return EADDRINUSE;
	if (core->cc_nfree == 0)
		return ENOSPC;
	if (want != 0)
		id = want;
	else if (core->cc_next_id > UINT32_MAX)
		return ENOSPC;
	else
		id = (uint32_t)core->cc_next_id;

	slot = core->cc_free[--core->cc_nfree];
	rec->c_id = id;
	rec->c_handle = slot + 1;
	if ((uint64_t)id >= core->cc_next_id)
		core->cc_next_id = (uint64_t)id + 1;
	for (i = 0; i < req->cr_nports; i++) {
		port = req->cr_ports[i];
		cell_store_32(&core->cc_owner[port], id);
	}
	pos = cell_byid_pos(core, id);
	for (i = core->cc_ncells; i > pos; i--)
		core->cc_byid[i] = core->cc_byid[i - 1];
	core->cc_byid[pos] = rec->c_handle;
	core->cc_ncells++;
	/* Publish last: the record is complete before anyone can see it. */
	cell_store_ptr(&core->cc_table[slot], rec);
	return 0;
}

static int
cell_add(struct cell_core *core, const struct cell_create_req *req,
    size_t len, uint32_t want, uint64_t created, void *priv,
    uint32_t *idp, uint32_t *handlep)
{
	struct cell_rec *rec;
	uint32_t id, handle;
	int error;

	if ((error = cell_validate_create(req, len)) != 0)
		return error;
	rec = cell_zalloc(sizeof(*rec));
	if (rec == NULL)
		return ENOMEM;
	cell_rec_init(rec, req, created, priv);

	cell_mutex_enter(&core->cc_lock);
	error = cell_commit(core, rec, want);
	/* Once the lock is dropped the cell may be destroyed at once. */
	id = rec->c_id;
	handle = rec->c_handle;
	cell_mutex_exit(&core->cc_lock);

	if (error != 0) {
		cell_free(rec, sizeof(*rec));
		return error;
	}
	if (idp != NULL)
		*idp = id;
	if (handlep != NULL)
		*handlep = handle;
	return 0;
}

int
cell_create(struct cell_core *core, const struct cell_create_req *req,
    size_t len, uint64_t now, void *priv, uint32_t *idp, uint32_t *handlep)
{

	return cell_add(core, req, len, 0, now, priv, idp, handlep);
}

int
cell_restore(struct cell_core *core, const struct cell_create_req *req,
    size_t len, uint32_t id, uint64_t created, uint32_t *handlep)
{

	if (id == 0)
		return EINVAL;
	return cell_add(core, req, len, id, created, NULL, NULL, handlep);
}

int
cell_destroy(struct cell_core *core, uint32_t id, void **privp)
{
	struct cell_rec *rec;
	uint32_t pos, i, slot;

	cell_mutex_enter(&core->cc_lock);
	rec = cell_rec_by_id(core, id);
	if (rec == NULL) {
		cell_mutex_exit(&core->cc_lock);
		return ENOENT;
	}
	if (cell_load_32(&rec->c_refs) != 0) {
		cell_mutex_exit(&core->cc_lock);
		return EBUSY;
	}
	slot = rec->c_handle - 1;
	pos = cell_byid_pos(core, id);
	/* No credential refers to the cell: its counters are final. */
	for (i = 0; i < CELL_SCOPE_MAX; i++)
		core->cc_retired_denies[i] += cell_load_64(&rec->c_denies[i]);
	rec->c_state = CELL_STATE_DYING;
	cell_store_ptr(&core->cc_table[slot], NULL);
	for (i = 0; i < rec->c_req.cr_nports; i++)
		cell_store_32(&core->cc_owner[rec->c_req.cr_ports[i]], 0);
	for (i = pos; i + 1 < core->cc_ncells; i++)
		core->cc_byid[i] = core->cc_byid[i + 1];
	core->cc_ncells--;
	core->cc_free[core->cc_nfree++] = slot;
	cell_mutex_exit(&core->cc_lock);

	if (privp != NULL)
		*privp = rec->c_priv;
	cell_free(rec, sizeof(*rec));
	return 0;
}

int
cell_enter(struct cell_core *core, uint32_t id, uint32_t *handlep,
    void **privp)
{
	struct cell_rec *rec;

	cell_mutex_enter(&core->cc_lock);
	rec = cell_rec_by_id(core, id);
	if (rec == NULL || rec->c_state != CELL_STATE_ACTIVE) {
		cell_mutex_exit(&core->cc_lock);
		return ENOENT;
	}
	(void)cell_atomic_inc_32_nv(&rec->c_refs);
	if (handlep != NULL)
		*handlep = rec->c_handle;
	if (privp != NULL)
		*privp = rec->c_priv;
	cell_mutex_exit(&core->cc_lock);
	return 0;
}

/* A credential tagged with handle was made (cred COPY/FORK); lock-free. */
void
cell_ref(struct cell_core *core, uint32_t handle)
{
	struct cell_rec *rec;

	if ((rec = cell_rec_get(core, handle)) != NULL)
		(void)cell_atomic_inc_32_nv(&rec->c_refs);
}

/* A credential tagged with handle was freed; lock-free. */
void
cell_unref(struct cell_core *core, uint32_t handle)
{
	struct cell_rec *rec;

	if ((rec = cell_rec_get(core, handle)) != NULL)
		(void)cell_atomic_dec_32_nv(&rec->c_refs);
}

int
cell_lookup_id(struct cell_core *core, uint32_t id, uint32_t *handlep)
{
	struct cell_rec *rec;

	cell_mutex_enter(&core->cc_lock);
	rec = cell_rec_by_id(core, id);
	if (rec != NULL && handlep != NULL)
		*handlep = rec->c_handle;
	cell_mutex_exit(&core->cc_lock);
	return rec != NULL ? 0 : ENOENT;
}

int
cell_lookup_name(struct cell_core *core, const char *name, uint32_t *handlep)
{
	struct cell_rec *rec;

	if (name == NULL)
		return EINVAL;
	if (cell_strnlen(name, CELL_NAME_MAX) == CELL_NAME_MAX)
		return ENOENT;
	cell_mutex_enter(&core->cc_lock);
	rec = cell_rec_by_name(core, name, cell_name_hash(name));
	if (rec != NULL && handlep != NULL)
		*handlep = rec->c_handle;
	cell_mutex_exit(&core->cc_lock);
	return rec != NULL ? 0 : ENOENT;
}

/* The id behind a handle (0 for the host or no cell); lock-free. */
uint32_t
cell_handle_id(struct cell_core *core, uint32_t handle)
{
	const struct cell_rec *rec;

	rec = cell_rec_get(core, handle);
	return rec != NULL ? rec->c_id : 0;
}

/* The profile behind a handle (0 for the host or no cell); lock-free. */
uint32_t
cell_handle_profile(struct cell_core *core, uint32_t handle)
{
	const struct cell_rec *rec;

	rec = cell_rec_get(core, handle);
	return rec != NULL ? rec->c_profile : 0;
}

/* The id of the cell that reserved port (0: nobody); lock-free. */
uint32_t
cell_port_owner(struct cell_core *core, uint16_t port)
{

	return cell_load_32(&core->cc_owner[port]);
}
