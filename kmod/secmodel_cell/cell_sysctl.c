/*	$NetBSD$	*/

/*
 * cell_sysctl.c -- the security.models.cell sysctl tree, the control
 * channel of secmodel_cell (layouts in core/cell_abi.h).
 *
 *	name		string "cell"				read-only
 *	abi_version	int CELL_ABI_VERSION			read-only
 *	create		struct cell_create_req in, same back with cr_id
 *							host root
 *	destroy		uint32_t id in (reads 0)		host root
 *	id		uint32_t: read the caller's cell;
 *			write to enter a cell			host root
 *	list		struct cell_info[]			host only
 *	stats		struct cell_stats			host only
 *	events		uint64_t first seq in, struct cell_event[] out
 *							host only
 *
 * These handlers do their own copyin/copyout, so sysctl_lookup()'s
 * permission checks never run for them: each one authorises its caller.
 * "Host root" is euid 0 outside any cell, "host" any credential outside
 * a cell; everything else gets EPERM.  Every write runs under the
 * exclusive sysctl tree lock (sysctl_lock(true) in sys___sysctl()), which
 * serialises create, destroy and enter with each other and with module
 * unload.  Set up and torn down by secmodel_cell.c with our own sysctllog.
 */

#include <sys/cdefs.h>
__KERNEL_RCSID(0, "$NetBSD$");

#include <sys/param.h>
#include <sys/types.h>
#include <sys/errno.h>
#include <sys/filedesc.h>
#include <sys/kauth.h>
#include <sys/kernel.h>
#include <sys/kmem.h>
#include <sys/lwp.h>
#include <sys/namei.h>
#include <sys/proc.h>
#include <sys/resource.h>
#include <sys/resourcevar.h>
#include <sys/rwlock.h>
#include <sys/sysctl.h>
#include <sys/systm.h>
#include <sys/time.h>
#include <sys/timevar.h>
#include <sys/vnode.h>

#include "cell_core.h"
#include "cell_glue.h"

static struct sysctllog *cell_sysctl_log;

static int	cell_sysctl_create(SYSCTLFN_PROTO);
static int	cell_sysctl_destroy(SYSCTLFN_PROTO);
static int	cell_sysctl_id(SYSCTLFN_PROTO);
static int	cell_sysctl_list(SYSCTLFN_PROTO);
static int	cell_sysctl_stats(SYSCTLFN_PROTO);
static int	cell_sysctl_events(SYSCTLFN_PROTO);

/*
 * Callers.  A NULL lwp is the kernel itself (sysctl from kernel code),
 * which is host root; it has no process to move into a cell.
 */
static int
cell_need_host_root(struct lwp *l)
{

	if (l != NULL && !cell_cred_is_host_root(l->l_cred))
		return EPERM;
	return 0;
}

static int
cell_need_host(struct lwp *l)
{

	if (l != NULL && !cell_cred_is_host(l->l_cred))
		return EPERM;
	return 0;
}

/*
 * Copy a fixed-size result out: a NULL buffer asks for the size, a short
 * one gets ENOMEM and the size.
 */
static int
cell_copyout_fixed(struct lwp *l, const void *data, size_t len, void *oldp,
    size_t *oldlenp)
{
	int error;

	error = 0;
	if (oldp != NULL) {
		if (*oldlenp < len)
			error = ENOMEM;
		else
			error = sysctl_copyout(l, data, oldp, len);
	}
	*oldlenp = len;
	return error;
}

/*
 * The root of a new cell: an existing directory.  The referenced vnode
 * is kept by the core as the cell's private pointer until destroy.
 */
static int
cell_lookup_root(const char *path, struct vnode **vpp)
{
	struct vnode *vp;
	int error;

	error = namei_simple_kernel(path, NSM_FOLLOW_NOEMULROOT, &vp);
	if (error != 0)
		return error;
	if (vp->v_type != VDIR) {
		vrele(vp);
		return ENOTDIR;
	}
	*vpp = vp;
	return 0;
}

/*
 * create: validate everything, resolve the root, commit, and hand the
 * request back with its id.  A cell whose id cannot be copied back is
 * destroyed again: nobody would know it exists.  The size of the answer
 * is checked before anything is committed.
 */
static int
cell_sysctl_create(SYSCTLFN_ARGS)
{
	struct cell_create_req *req;
	struct vnode *vp;
	uint32_t id, handle;
	void *priv;
	int error;

	if (namelen != 0)
		return EINVAL;
	if ((error = cell_need_host_root(l)) != 0)
		return error;
	if (newp == NULL) {
		if (oldp != NULL)
			return EINVAL;
		*oldlenp = sizeof(*req);
		return 0;
	}
	if (newlen != sizeof(*req))
		return EINVAL;
	if (oldp != NULL && *oldlenp < sizeof(*req)) {
		*oldlenp = sizeof(*req);
		return ENOMEM;
	}
	if (secmodel_cell_closing)
		return EBUSY;
	if ((error = cell_sampler_activate()) != 0)
		return error;

	req = kmem_alloc(sizeof(*req), KM_SLEEP);
	error = sysctl_copyin(l, newp, req, sizeof(*req));
	if (error != 0)
		goto out;
	error = cell_validate_create(req, sizeof(*req));
	if (error != 0)
		goto out;
	error = cell_lookup_root(req->cr_root, &vp);
	if (error != 0)
		goto out;
	error = cell_create(secmodel_cell_core, req, sizeof(*req),
	    (uint64_t)time_second, vp, &id, &handle);
	if (error != 0) {
		vrele(vp);
		goto out;
	}

	req->cr_id = id;
	if (oldp != NULL) {
		error = sysctl_copyout(l, req, oldp, sizeof(*req));
		if (error != 0) {
			/* No member can exist yet: enter is serialised. */
			if (cell_destroy(secmodel_cell_core, id, &priv) == 0)
				vrele(priv);
			goto out;
		}
	}
	*oldlenp = sizeof(*req);
out:
	kmem_free(req, sizeof(*req));
	return error;
}

/*
 * Whether any process is in the cell behind handle: live, dying, being
 * forked (SIDL: its parent shares the credential) on allproc, or a
 * zombie not yet reaped on zombproc (exit1() moves it there under
 * proc_lock; proc_free() takes it off before the credential goes).  Members are processes; credentials are not counted,
 * because closed files and sockets keep theirs in the kernel's caches
 * long after the process is gone.  p_cred is read under p_lock, which
 * keeps it from being replaced and freed meanwhile.  Called with the
 * sysctl tree lock held, which keeps enter out; holding proc_lock keeps
 * fork and exit from changing the list while it is walked.  Kernel
 * threads are never in a cell.
 */
static bool
cell_list_has_members(struct proclist *list, uint32_t handle)
{
	struct proc *p;
	bool found;

	found = false;
	PROCLIST_FOREACH(p, list) {
		if ((p->p_flag & PK_SYSTEM) != 0)
			continue;
		mutex_enter(p->p_lock);
		found = cell_cred_handle(p->p_cred) == handle;
		mutex_exit(p->p_lock);
		if (found)
			break;
	}
	return found;
}

static bool
cell_has_members(uint32_t handle)
{
	bool found;

	mutex_enter(&proc_lock);
	found = cell_list_has_members(&allproc, handle) ||
	    cell_list_has_members(&zombproc, handle);
	mutex_exit(&proc_lock);
	return found;
}

/*
 * destroy: write a cell id; refused (EBUSY) while the cell has members,
 * then the root vnode is released.  Reading returns 0, so that sysctl -a
 * and sysctl -w show and take it like any integer node.
 */
static int
cell_sysctl_destroy(SYSCTLFN_ARGS)
{
	uint32_t id, handle;
	void *priv;
	int error;

	if (namelen != 0)
		return EINVAL;
	id = 0;
	error = cell_copyout_fixed(l, &id, sizeof(id), oldp, oldlenp);
	if (error != 0 || newp == NULL)
		return error;

	if ((error = cell_need_host_root(l)) != 0)
		return error;
	if (newlen != sizeof(id))
		return EINVAL;
	error = sysctl_copyin(l, newp, &id, sizeof(id));
	if (error != 0)
		return error;

	error = cell_lookup_id(secmodel_cell_core, id, &handle);
	if (error != 0)
		return error;
	if (cell_has_members(handle))
		return EBUSY;
	priv = NULL;
	error = cell_destroy(secmodel_cell_core, id, &priv);
	if (error != 0)
		return error;
	if (priv != NULL)
		vrele(priv);
	return 0;
}

/*
 * The cell's resource limits, applied to the entering process.
 */
static int
cell_apply_rlimits(struct lwp *l, const struct cell_info *ci)
{
	const struct cell_rlimit *crl;
	struct rlimit rl;
	unsigned i;
	int which, error;

	for (i = 0; i < ci->ci_nrlimits && i < CELL_RLIMITS_MAX; i++) {
		crl = &ci->ci_rlimits[i];
		switch (crl->crl_resource) {
		case CELL_RLIMIT_NOFILE:
			which = RLIMIT_NOFILE;
			break;
		case CELL_RLIMIT_AS:
			which = RLIMIT_AS;
			break;
		case CELL_RLIMIT_CORE:
			which = RLIMIT_CORE;
			break;
		case CELL_RLIMIT_NPROC:
			which = RLIMIT_NPROC;
			break;
		default:
			return EINVAL;
		}
		rl.rlim_cur = MIN(crl->crl_soft, RLIM_INFINITY);
		rl.rlim_max = MIN(crl->crl_hard, RLIM_INFINITY);
		error = dosetrlimit(l, l->l_proc, which, &rl);
		if (error != 0)
			return error;
	}
	return 0;
}

/*
 * Enter: move the calling process (host root, already chrooted to the
 * cell's root) into cell id.  cell_enter() takes a hold that keeps the
 * cell from being destroyed until the process is a member (enter and
 * destroy are also serialised by the sysctl tree lock); it is dropped
 * on every path.  The limits are applied before the credential changes, so an
 * error leaves the caller outside the cell (with the limits set so far).
 * Only this process changes; its later children inherit the credential.
 */
static int
cell_enter_cell(struct lwp *l, uint32_t id)
{
	struct proc *p;
	struct cwdinfo *cwdi;
	struct cell_info *ci;
	struct vnode *rdir;
	kauth_cred_t cred, ncred;
	uint32_t handle;
	void *priv;
	int error;

	if (l == NULL || !cell_cred_is_host_root(l->l_cred))
		return EPERM;
	if (id == 0)
		return EINVAL;

	error = cell_enter(secmodel_cell_core, id, &handle, &priv);
	if (error != 0)
		return error;

	p = l->l_proc;
	cwdi = p->p_cwdi;
	rw_enter(&cwdi->cwdi_lock, RW_READER);
	rdir = cwdi->cwdi_rdir;
	rw_exit(&cwdi->cwdi_lock);
	if (rdir == NULL || rdir != (struct vnode *)priv) {
		error = EPERM;
		goto fail;
	}

	ci = kmem_alloc(sizeof(*ci), KM_SLEEP);
	error = cell_info_get(secmodel_cell_core, id, ci,
	    (uint64_t)time_second);
	if (error == 0)
		error = cell_apply_rlimits(l, ci);
	kmem_free(ci, sizeof(*ci));
	if (error != 0)
		goto fail;

	/*
	 * Set the key once on the new credential before taking p_lock, so
	 * that the container behind it is allocated here and the store
	 * under the lock below cannot sleep.
	 */
	ncred = kauth_cred_alloc();
	kauth_cred_setdata(ncred, secmodel_cell_key, NULL);

	proc_crmod_enter();
	cred = p->p_cred;
	if (!cell_cred_is_host_root(cred)) {
		/* Another LWP changed the credential meanwhile. */
		proc_crmod_leave(cred, ncred, false);
		error = EPERM;
		goto fail;
	}
	kauth_cred_clone(cred, ncred);
	kauth_cred_setdata(ncred, secmodel_cell_key,
	    (void *)(uintptr_t)handle);
	proc_crmod_leave(ncred, cred, false);
	error = 0;

fail:
	cell_unref(secmodel_cell_core, handle);
	return error;
}

/*
 * id: read the caller's cell id (0 = host); write a cell id to enter it.
 */
static int
cell_sysctl_id(SYSCTLFN_ARGS)
{
	uint32_t cur, id;
	int error;

	if (namelen != 0)
		return EINVAL;
	cur = 0;
	if (l != NULL)
		cur = cell_handle_id(secmodel_cell_core,
		    cell_cred_handle(l->l_cred));
	error = cell_copyout_fixed(l, &cur, sizeof(cur), oldp, oldlenp);
	if (error != 0 || newp == NULL)
		return error;

	if (newlen != sizeof(id))
		return EINVAL;
	error = sysctl_copyin(l, newp, &id, sizeof(id));
	if (error != 0)
		return error;
	return cell_enter_cell(l, id);
}

/*
 * list: one struct cell_info per cell, in id order.  A NULL buffer asks
 * for the size; a short one gets ENOMEM and the size needed now.
 */
static int
cell_sysctl_list(SYSCTLFN_ARGS)
{
	struct cell_info *buf;
	size_t n, got, len;
	uint64_t now;
	int error;

	if (namelen != 0)
		return EINVAL;
	if ((error = cell_need_host(l)) != 0)
		return error;
	if (newp != NULL)
		return EPERM;

	now = (uint64_t)time_second;
	n = 0;
	(void)cell_list(secmodel_cell_core, NULL, &n, now);
	if (oldp == NULL || n == 0) {
		*oldlenp = n * sizeof(*buf);
		return 0;
	}
	if (*oldlenp / sizeof(*buf) < n) {
		*oldlenp = n * sizeof(*buf);
		return ENOMEM;
	}

	len = n * sizeof(*buf);
	buf = kmem_alloc(len, KM_SLEEP);
	got = n;
	error = cell_list(secmodel_cell_core, buf, &got, now);
	if (error == 0)
		error = sysctl_copyout(l, buf, oldp, got * sizeof(*buf));
	*oldlenp = got * sizeof(*buf);
	kmem_free(buf, len);
	return error;
}

/* stats: the module's counters. */
static int
cell_sysctl_stats(SYSCTLFN_ARGS)
{
	struct cell_stats st;
	int error;

	if (namelen != 0)
		return EINVAL;
	if ((error = cell_need_host(l)) != 0)
		return error;
	if (newp != NULL)
		return EPERM;

	cell_stats_get(secmodel_cell_core, &st,
	    (uint32_t)(stathz != 0 ? stathz : hz));
	return cell_copyout_fixed(l, &st, sizeof(st), oldp, oldlenp);
}

/*
 * events: write the first sequence number wanted (default: everything
 * still in the ring) and read up to as many events as fit, oldest first.
 * Follow with the last seq read + 1.  A NULL buffer asks for the size;
 * a buffer too small for even one pending event gets ENOMEM.
 */
static int
cell_sysctl_events(SYSCTLFN_ARGS)
{
	struct cell_event *buf;
	uint64_t since;
	size_t n, cap, len;
	int error;

	if (namelen != 0)
		return EINVAL;
	if ((error = cell_need_host(l)) != 0)
		return error;
	since = 0;
	if (newp != NULL) {
		if (newlen != sizeof(since))
			return EINVAL;
		error = sysctl_copyin(l, newp, &since, sizeof(since));
		if (error != 0)
			return error;
	}

	len = CELL_AUDIT_RING * sizeof(*buf);
	buf = kmem_alloc(len, KM_SLEEP);
	n = cell_events(secmodel_cell_core, since, buf, CELL_AUDIT_RING);
	if (oldp == NULL) {
		*oldlenp = n * sizeof(*buf);
		goto out;
	}
	cap = *oldlenp / sizeof(*buf);
	if (cap == 0 && n > 0) {
		*oldlenp = n * sizeof(*buf);
		error = ENOMEM;
		goto out;
	}
	if (n > cap)
		n = cap;
	error = sysctl_copyout(l, buf, oldp, n * sizeof(*buf));
	*oldlenp = n * sizeof(*buf);
out:
	kmem_free(buf, len);
	return error;
}

/*
 * Build security.models.cell.  "models" may already exist (another
 * model made it, possibly permanent): sysctl_createv() then returns the
 * existing node, and its description, if we set one, is copied
 * (CTLFLAG_OWNDESC) because it may outlive this module.
 */
int
cell_sysctl_start(void)
{
	const struct sysctlnode *models, *cell;
	struct sysctllog **clog;
	int error;

	clog = &cell_sysctl_log;
	error = sysctl_createv(clog, 0, NULL, &models,
	    CTLFLAG_OWNDESC, CTLTYPE_NODE, "models",
	    SYSCTL_DESCR("Security models"),
	    NULL, 0, NULL, 0, CTL_SECURITY, CTL_CREATE, CTL_EOL);
	if (error != 0)
		goto fail;
	error = sysctl_createv(clog, 0, &models, &cell,
	    0, CTLTYPE_NODE, "cell",
	    SYSCTL_DESCR("Cells: kauth policy domains"),
	    NULL, 0, NULL, 0, CTL_CREATE, CTL_EOL);
	if (error != 0)
		goto fail;
	error = sysctl_createv(clog, 0, &cell, NULL,
	    CTLFLAG_READONLY, CTLTYPE_STRING, "name",
	    SYSCTL_DESCR("Name of this security model"),
	    NULL, 0, __UNCONST("cell"), 0, CTL_CREATE, CTL_EOL);
	if (error != 0)
		goto fail;
	error = sysctl_createv(clog, 0, &cell, NULL,
	    CTLFLAG_READONLY | CTLFLAG_IMMEDIATE, CTLTYPE_INT, "abi_version",
	    SYSCTL_DESCR("Version of the user/kernel interface"),
	    NULL, CELL_ABI_VERSION, NULL, 0, CTL_CREATE, CTL_EOL);
	if (error != 0)
		goto fail;
	error = sysctl_createv(clog, 0, &cell, NULL,
	    CTLFLAG_READWRITE, CTLTYPE_STRUCT, "create",
	    SYSCTL_DESCR("Create a cell: write struct cell_create_req, "
		"read it back with its id (host root)"),
	    cell_sysctl_create, 0, NULL, sizeof(struct cell_create_req),
	    CTL_CREATE, CTL_EOL);
	if (error != 0)
		goto fail;
	error = sysctl_createv(clog, 0, &cell, NULL,
	    CTLFLAG_READWRITE, CTLTYPE_INT, "destroy",
	    SYSCTL_DESCR("Destroy the cell whose uint32_t id is written "
		"(host root); reads 0"),
	    cell_sysctl_destroy, 0, NULL, 0, CTL_CREATE, CTL_EOL);
	if (error != 0)
		goto fail;
	error = sysctl_createv(clog, 0, &cell, NULL,
	    CTLFLAG_READWRITE, CTLTYPE_INT, "id",
	    SYSCTL_DESCR("The caller's cell id (0: host); write an id to "
		"enter that cell (host root, chrooted to its root)"),
	    cell_sysctl_id, 0, NULL, 0, CTL_CREATE, CTL_EOL);
	if (error != 0)
		goto fail;
	error = sysctl_createv(clog, 0, &cell, NULL,
	    CTLFLAG_READONLY, CTLTYPE_STRUCT, "list",
	    SYSCTL_DESCR("Every cell as struct cell_info (host only)"),
	    cell_sysctl_list, 0, NULL, 0, CTL_CREATE, CTL_EOL);
	if (error != 0)
		goto fail;
	error = sysctl_createv(clog, 0, &cell, NULL,
	    CTLFLAG_READONLY, CTLTYPE_STRUCT, "stats",
	    SYSCTL_DESCR("Module counters as struct cell_stats (host only)"),
	    cell_sysctl_stats, 0, NULL, sizeof(struct cell_stats),
	    CTL_CREATE, CTL_EOL);
	if (error != 0)
		goto fail;
	error = sysctl_createv(clog, 0, &cell, NULL,
	    CTLFLAG_READWRITE | CTLFLAG_ANYWRITE, CTLTYPE_STRUCT, "events",
	    SYSCTL_DESCR("Denial audit ring: write the first uint64_t "
		"sequence number, read struct cell_event[] (host only)"),
	    cell_sysctl_events, 0, NULL, 0, CTL_CREATE, CTL_EOL);
	if (error != 0)
		goto fail;
	return 0;

fail:
	printf("secmodel_cell: sysctl_createv: error %d\n", error);
	sysctl_teardown(clog);
	return error;
}

void
cell_sysctl_stop(void)
{

	sysctl_teardown(&cell_sysctl_log);
}
