/*	$NetBSD$	*/

/*
 * cell_info.c -- reading the table (list, info, stats) and telemetry.
 *
 * The sampler (a 1 s callout in the kernel, a timer in the sim) calls
 * cell_sample_begin(), then cell_sample_proc() for each live process and
 * cell_sample_zombie() for each zombie, then cell_sample_end(); the core
 * mutex is held from begin to end, so a listing never sees half a sample.
 *
 * CPU: each process reports its lifetime ticks; a cell's ticks in the last
 * second are this sample's sum minus the previous one, clamped at 0 when
 * processes exited (their ticks leave the sum).  The first sample of a
 * cell only sets the baseline; a sampler that ran late (now advanced by
 * more than one second) divides the ticks by the seconds elapsed.
 * cpu_10s is the mean of the last (up to) CELL_CPU_HIST one-second values,
 * times 100.
 */

#include "cell_impl.h"

void
cell_info_fill(const struct cell_rec *rec, struct cell_info *ci,
    uint64_t now)
{
	const struct cell_create_req *req = &rec->c_req;
	unsigned i;

	cell_memset(ci, 0, sizeof(*ci));
	ci->ci_id = rec->c_id;
	ci->ci_profile = rec->c_profile;
	ci->ci_flags = rec->c_flags;
	ci->ci_state = rec->c_state;
	ci->ci_nports = req->cr_nports;
	ci->ci_naddrs = req->cr_naddrs;
	ci->ci_nrlimits = req->cr_nrlimits;
	ci->ci_nprocs = rec->c_nprocs;
	ci->ci_nrefs = rec->c_nprocs + rec->c_nzombies +
	    cell_load_32(&rec->c_refs);
	ci->ci_created = rec->c_created;
	ci->ci_age = now > rec->c_created ? now - rec->c_created : 0;
	ci->ci_vmsize = rec->c_vmsize;
	ci->ci_cpu_1s = rec->c_cpu_1s;
	ci->ci_cpu_10s = rec->c_cpu_10s;
	for (i = 0; i < CELL_SCOPE_MAX; i++)
		ci->ci_denies[i] = cell_load_64(&rec->c_denies[i]);
	cell_memcpy(ci->ci_name, req->cr_name, sizeof(ci->ci_name));
	cell_memcpy(ci->ci_root, req->cr_root, sizeof(ci->ci_root));
	cell_memcpy(ci->ci_ports, req->cr_ports, sizeof(ci->ci_ports));
	cell_memcpy(ci->ci_addrs, req->cr_addrs, sizeof(ci->ci_addrs));
	cell_memcpy(ci->ci_rlimits, req->cr_rlimits, sizeof(ci->ci_rlimits));
}

/*
 * Every cell in id order.  ENOMEM (the only error) when *countp is smaller
 * than the number of cells, which is then in *countp; buf NULL counts as
 * no room, so (NULL, 0) asks for the size.
 */
int
cell_list(struct cell_core *core, struct cell_info *buf, size_t *countp,
    uint64_t now)
{
	uint32_t i, n;

	cell_mutex_enter(&core->cc_lock);
	n = core->cc_ncells;
	if ((buf == NULL && n > 0) || *countp < n) {
		*countp = n;
		cell_mutex_exit(&core->cc_lock);
		return ENOMEM;
	}
	for (i = 0; i < n; i++)
		cell_info_fill(cell_rec_at(core, core->cc_byid[i]), &buf[i],
		    now);
	*countp = n;
	cell_mutex_exit(&core->cc_lock);
	return 0;
}

/* One cell by id; ENOENT (the only error) if there is none. */
int
cell_info_get(struct cell_core *core, uint32_t id, struct cell_info *ci,
    uint64_t now)
{
	struct cell_rec *rec;

	cell_mutex_enter(&core->cc_lock);
	rec = cell_rec_by_id(core, id);
	if (rec != NULL)
		cell_info_fill(rec, ci, now);
	cell_mutex_exit(&core->cc_lock);
	return rec != NULL ? 0 : ENOENT;
}

/*
 * st_next_id is the id the next create gets, 0 once ids are exhausted.
 * st_denies[] sums the host's, every cell's (live or destroyed) and those
 * of handles that named no cell.
 */
void
cell_stats_get(struct cell_core *core, struct cell_stats *st,
    uint32_t ticks_per_sec)
{
	const struct cell_rec *rec;
	uint64_t host;
	unsigned i, j;

	cell_memset(st, 0, sizeof(*st));
	st->st_size = sizeof(*st);
	st->st_abi = CELL_ABI_VERSION;
	st->st_max_cells = CELL_MAX_CELLS;
	st->st_hz = ticks_per_sec;
	st->st_audit_size = CELL_AUDIT_RING;
	cell_mutex_enter(&core->cc_lock);
	st->st_ncells = core->cc_ncells;
	st->st_next_id = core->cc_next_id > UINT32_MAX ? 0 :
	    (uint32_t)core->cc_next_id;
	for (i = 0; i < CELL_SCOPE_MAX; i++) {
		host = cell_load_64(&core->cc_host_denies[i]);
		st->st_host_denies[i] = host;
		st->st_denies[i] = host + core->cc_retired_denies[i] +
		    cell_load_64(&core->cc_stray_denies[i]);
	}
	for (j = 0; j < core->cc_ncells; j++) {
		rec = cell_rec_at(core, core->cc_byid[j]);
		for (i = 0; i < CELL_SCOPE_MAX; i++)
			st->st_denies[i] += cell_load_64(&rec->c_denies[i]);
	}
	cell_mutex_exit(&core->cc_lock);
	st->st_audit_head = cell_load_64(&core->cc_audit_head);
	st->st_log_suppressed = cell_load_64(&core->cc_log_suppressed);
}

/* Start a sample: takes the core mutex until cell_sample_end(). */
void
cell_sample_begin(struct cell_core *core)
{
	struct cell_rec *rec;
	uint32_t i;

	cell_mutex_enter(&core->cc_lock);
	core->cc_sampling = 1;
	for (i = 0; i < core->cc_ncells; i++) {
		rec = cell_rec_at(core, core->cc_byid[i]);
		rec->c_acc_nprocs = 0;
		rec->c_acc_nzombies = 0;
		rec->c_acc_vmsize = 0;
		rec->c_acc_cpu = 0;
	}
}

/* One live process of the cell behind handle; the host (0) is ignored. */
void
cell_sample_proc(struct cell_core *core, uint32_t handle, uint64_t cputicks,
    uint64_t vmsize)
{
	struct cell_rec *rec;

	if (!core->cc_sampling || (rec = cell_rec_get(core, handle)) == NULL)
		return;
	rec->c_acc_nprocs++;
	rec->c_acc_vmsize += vmsize;
	rec->c_acc_cpu += cputicks;
}

/* One zombie: it holds a reference but no CPU or memory. */
void
cell_sample_zombie(struct cell_core *core, uint32_t handle)
{
	struct cell_rec *rec;

	if (!core->cc_sampling || (rec = cell_rec_get(core, handle)) == NULL)
		return;
	rec->c_acc_nzombies++;
}

static void
cell_sample_rec(struct cell_rec *rec, uint64_t now)
{
	uint64_t sum, delta, elapsed;
	uint32_t i;

	rec->c_nprocs = rec->c_acc_nprocs;
	rec->c_nzombies = rec->c_acc_nzombies;
	rec->c_vmsize = rec->c_acc_vmsize;
	if (!rec->c_sampled) {
		rec->c_sampled = 1;
		rec->c_cpu_prev = rec->c_acc_cpu;
		rec->c_sample_time = now;
		return;
	}
	delta = rec->c_acc_cpu > rec->c_cpu_prev ?
	    rec->c_acc_cpu - rec->c_cpu_prev : 0;
	/* A late sampler spreads the ticks over the seconds it missed. */
	elapsed = now > rec->c_sample_time ? now - rec->c_sample_time : 1;
	if (elapsed > 1)
		delta /= elapsed;
	rec->c_cpu_prev = rec->c_acc_cpu;
	rec->c_sample_time = now;
	rec->c_cpu_1s = delta > UINT32_MAX ? UINT32_MAX : (uint32_t)delta;
	rec->c_hist[rec->c_hist_next] = rec->c_cpu_1s;
	rec->c_hist_next = (rec->c_hist_next + 1) % CELL_CPU_HIST;
	if (rec->c_hist_len < CELL_CPU_HIST)
		rec->c_hist_len++;
	for (sum = 0, i = 0; i < rec->c_hist_len; i++)
		sum += rec->c_hist[i];
	sum = sum * 100 / rec->c_hist_len;
	rec->c_cpu_10s = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

/* Finish a sample taken at now and release the core mutex. */
void
cell_sample_end(struct cell_core *core, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < core->cc_ncells; i++)
		cell_sample_rec(cell_rec_at(core, core->cc_byid[i]), now);
	core->cc_sampling = 0;
	cell_mutex_exit(&core->cc_lock);
}
