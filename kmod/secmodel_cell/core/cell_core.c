/*	$NetBSD$	*/

/*
 * cell_core.c -- the cell table: lifecycle, membership and lookups.
 *
 * Control paths (create, restore, destroy, enter, lookups) serialise on
 * the core mutex and allocate or free only outside it.  The hot path reads
 * cc_table[] and cc_owner[] without the lock.  A slot's record, once
 * allocated, stays until the core goes (cell_impl.h): destroy only clears
 * the record's live handle and moves the slot's generation on, and a
 * later create in the slot rewrites the record in place before it
 * publishes the new handle.  So a credential that outlives its cell reads
 * as a handle that names no cell (fail closed), never as a freed record
 * or as the slot's next cell.  cc_byid[] keeps the live handles in id
 * order, so lookups by id are a binary search and listings come out
 * sorted.
 *
 * Errors (every value these functions return besides 0):
 *	cell_core_create	EINVAL (NULL), ENOMEM
 *	cell_create		cell_validate_create()'s, then EEXIST (name in
 *				use), EADDRINUSE (a port owned by another
 *				cell), ENOSPC (no free slot, ids exhausted),
 *				ENOMEM
 *	cell_restore		as cell_create, EINVAL for id 0, EEXIST for an
 *				id in use
 *	cell_destroy		ENOENT (no such cell), EBUSY (holds)
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
	/* Slots are records forever: see the top of this file. */
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
		if (cell_rec_at(core, core->cc_byid[mid])->c_id < id)
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
	rec = cell_rec_at(core, core->cc_byid[pos]);
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
		rec = cell_rec_at(core, core->cc_byid[i]);
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
 * Commit a validated record under the lock.  want 0 means "the next id".
 * A slot used before keeps its record: the new one is copied into it and
 * *recp is left for the caller to free; a new slot takes *recp.  The live
 * handle is published last, once everything else is in place.
 */
static int
cell_commit(struct cell_core *core, struct cell_rec **recp, uint32_t want,
    uint32_t *idp, uint32_t *handlep)
{
	struct cell_rec *rec = *recp, *slotrec;
	const struct cell_create_req *req = &rec->c_req;
	uint32_t id, slot, pos, i, gen, handle;
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
	slotrec = core->cc_table[slot];
	gen = slotrec != NULL ? slotrec->c_gen : 0;
	handle = CELL_HANDLE(slot, gen);
	rec->c_id = id;
	rec->c_gen = gen;
	rec->c_live = 0;
	if (slotrec != NULL) {
		/* Readers of the old handle see c_live != theirs: stale. */
		cell_memcpy(slotrec, rec, sizeof(*slotrec));
		rec = slotrec;
	} else {
		/* Publish the record; it answers to nothing yet. */
		cell_store_ptr(&core->cc_table[slot], rec);
		*recp = NULL;
	}
	if ((uint64_t)id >= core->cc_next_id)
		core->cc_next_id = (uint64_t)id + 1;
	for (i = 0; i < req->cr_nports; i++) {
		port = req->cr_ports[i];
		cell_store_32(&core->cc_owner[port], id);
	}
	pos = cell_byid_pos(core, id);
	for (i = core->cc_ncells; i > pos; i--)
		core->cc_byid[i] = core->cc_byid[i - 1];
	core->cc_byid[pos] = handle;
	core->cc_ncells++;
	/* Last: the record is complete before anyone can use the handle. */
	cell_store_release_32(&rec->c_live, handle);
	*idp = id;
	*handlep = handle;
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
	/* Once the lock is dropped the cell may be destroyed at once. */
	error = cell_commit(core, &rec, want, &id, &handle);
	cell_mutex_exit(&core->cc_lock);

	if (rec != NULL)
		cell_free(rec, sizeof(*rec));
	if (error != 0)
		return error;
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

/*
 * Remove a cell nothing holds.  The record stays with its slot (see the
 * top of this file); the slot goes back to the free stack with its next
 * generation, or is retired when it has none left.
 */
int
cell_destroy(struct cell_core *core, uint32_t id, void **privp)
{
	struct cell_rec *rec;
	uint32_t pos, i, slot, handle;
	void *priv;

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
	handle = rec->c_live;
	slot = CELL_HANDLE_SLOT(handle);
	pos = cell_byid_pos(core, id);
	/* Unpublish first: from here on the handle names no cell. */
	cell_store_release_32(&rec->c_live, 0);
	/* No member is left: its counters are final. */
	for (i = 0; i < CELL_SCOPE_MAX; i++)
		core->cc_retired_denies[i] += cell_load_64(&rec->c_denies[i]);
	rec->c_state = CELL_STATE_DYING;
	for (i = 0; i < rec->c_req.cr_nports; i++)
		cell_store_32(&core->cc_owner[rec->c_req.cr_ports[i]], 0);
	for (i = pos; i + 1 < core->cc_ncells; i++)
		core->cc_byid[i] = core->cc_byid[i + 1];
	core->cc_ncells--;
	if (rec->c_gen < CELL_GEN_MAX) {
		rec->c_gen++;
		core->cc_free[core->cc_nfree++] = slot;
	} else
		core->cc_retired++;
	priv = rec->c_priv;
	rec->c_priv = NULL;
	cell_mutex_exit(&core->cc_lock);

	if (privp != NULL)
		*privp = priv;
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
		*handlep = rec->c_live;
	if (privp != NULL)
		*privp = rec->c_priv;
	cell_mutex_exit(&core->cc_lock);
	return 0;
}

/* Take a hold on a live cell (the sim: a member); lock-free. */
void
cell_ref(struct cell_core *core, uint32_t handle)
{
	struct cell_rec *rec;

	if ((rec = cell_rec_get(core, handle)) != NULL)
		(void)cell_atomic_inc_32_nv(&rec->c_refs);
}

/* Drop a hold taken by cell_enter() or cell_ref(); lock-free. */
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
		*handlep = rec->c_live;
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
		*handlep = rec->c_live;
	cell_mutex_exit(&core->cc_lock);
	return rec != NULL ? 0 : ENOENT;
}

/* The id behind a handle (0 for the host or no cell); lock-free. */
uint32_t
cell_handle_id(struct cell_core *core, uint32_t handle)
{
	const struct cell_rec *rec;
	uint32_t id;

	if ((rec = cell_rec_get(core, handle)) == NULL)
		return 0;
	id = rec->c_id;
	return cell_rec_still(rec, handle) ? id : 0;
}

/* The profile behind a handle (0 for the host or no cell); lock-free. */
uint32_t
cell_handle_profile(struct cell_core *core, uint32_t handle)
{
	const struct cell_rec *rec;
	uint32_t profile;

	if ((rec = cell_rec_get(core, handle)) == NULL)
		return 0;
	profile = rec->c_profile;
	return cell_rec_still(rec, handle) ? profile : 0;
}

/* The id of the cell that reserved port (0: nobody); lock-free. */
uint32_t
cell_port_owner(struct cell_core *core, uint16_t port)
{

	return cell_load_32(&core->cc_owner[port]);
}
