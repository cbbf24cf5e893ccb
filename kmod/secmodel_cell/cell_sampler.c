/*	$NetBSD$	*/

/*
 * cell_sampler.c -- the 1 s telemetry sampler of secmodel_cell.
 *
 * A callout fires once a second and queues one work item; the work runs
 * in a workqueue thread, walks allproc and zombproc under proc_lock and
 * feeds the core one record per process: live processes with their CPU
 * ticks (statclock hits, user + system + interrupt) and virtual memory
 * size, zombies and dying processes as references only.  The core turns that
 * into per-cell process counts, memory, CPU in the last second and a
 * 10 s average (cell_sample_*() in core/cell_info.c).
 *
 * The walk is not done in the callout itself: it holds proc_lock for as
 * long as the process list is long, which does not belong in the
 * softclock interrupt.  Lock order: proc_lock, then the core mutex
 * (cell_sample_begin() to cell_sample_end()), then each p_lock, briefly,
 * to read p_stat, p_sflag, p_cred and p_vmspace consistently, and inside
 * it the p_stmutex spin lock that guards the tick counters (as calcru()
 * does).  Nothing on this path sleeps.
 *
 * INIT only initialises the callout: a module the boot loader preloads
 * is initialised in main() before the scheduler, kthreads and workqueues
 * exist (init_main.c), so creating the workqueue there hangs the boot.
 * The workqueue is created and the callout first scheduled when the
 * first cell is created (cell_sampler_activate(), from the sysctl
 * handler: thread context, sysctl tree lock held); with no cell there is
 * nothing to sample anyway.  Started and stopped by secmodel_cell.c.
 */

#include <sys/cdefs.h>
__KERNEL_RCSID(0, "$NetBSD$");

#include <sys/param.h>
#include <sys/types.h>
#include <sys/atomic.h>
#include <sys/callout.h>
#include <sys/errno.h>
#include <sys/intr.h>
#include <sys/kauth.h>
#include <sys/kernel.h>
#include <sys/mutex.h>
#include <sys/proc.h>
#include <sys/systm.h>
#include <sys/time.h>
#include <sys/timevar.h>
#include <sys/workqueue.h>

#include <uvm/uvm_extern.h>

#include "cell_core.h"
#include "cell_glue.h"

static callout_t		cell_sampler_ch;
static struct workqueue		*cell_sampler_wq;
static struct work		cell_sampler_wk;
static unsigned int		cell_sampler_queued;

static void	cell_sampler_tick(void *);
static void	cell_sampler_work(struct work *, void *);

/* Softclock: queue the walk unless the previous one is still pending. */
static void
cell_sampler_tick(void *arg)
{

	if (atomic_cas_uint(&cell_sampler_queued, 0, 1) == 0)
		workqueue_enqueue(cell_sampler_wq, &cell_sampler_wk, NULL);
	callout_schedule(&cell_sampler_ch, hz);
}

/* Workqueue thread: one pass over every process. */
static void
cell_sampler_work(struct work *wk, void *arg)
{
	struct cell_core *core;
	struct proc *p;
	uint64_t ticks, vmsize;
	uint32_t handle;
	bool live;

	core = secmodel_cell_core;
	mutex_enter(&proc_lock);
	cell_sample_begin(core);
	PROCLIST_FOREACH(p, &allproc) {
		if (p->p_stat == SIDL || (p->p_flag & PK_SYSTEM) != 0)
			continue;

		mutex_enter(p->p_lock);
		/*
		 * exit1() sets PS_WEXIT and then SDYING under p_lock and
		 * swaps the vmspace out (uvm_proc_exit()) only after
		 * dropping it: a process seen live here still has its
		 * own address space.
		 */
		live = (p->p_stat == SACTIVE || p->p_stat == SSTOP) &&
		    (p->p_sflag & PS_WEXIT) == 0;
		handle = cell_cred_handle(p->p_cred);
		ticks = vmsize = 0;
		if (handle != 0 && live) {
			mutex_spin_enter(&p->p_stmutex);
			ticks = p->p_uticks + p->p_sticks + p->p_iticks;
			mutex_spin_exit(&p->p_stmutex);
			vmsize = p->p_vmspace->vm_map.size;
		}
		mutex_exit(p->p_lock);

		if (handle == 0)
			continue;
		if (live)
			cell_sample_proc(core, handle, ticks, vmsize);
		else
			cell_sample_zombie(core, handle);
	}
	/* Zombies wait on their own list until they are reaped. */
	PROCLIST_FOREACH(p, &zombproc) {
		mutex_enter(p->p_lock);
		handle = cell_cred_handle(p->p_cred);
		mutex_exit(p->p_lock);
		if (handle != 0)
			cell_sample_zombie(core, handle);
	}
	cell_sample_end(core, (uint64_t)time_second);
	mutex_exit(&proc_lock);

	atomic_store_release(&cell_sampler_queued, 0);
}

int
cell_sampler_start(void)
{

	cell_sampler_queued = 0;
	cell_sampler_wq = NULL;
	callout_init(&cell_sampler_ch, CALLOUT_MPSAFE);
	callout_setfunc(&cell_sampler_ch, cell_sampler_tick, NULL);
	return 0;
}

/*
 * Start sampling, once: the first create.  Serialised with itself and
 * with FINI by the sysctl tree lock (create is a sysctl write, and FINI
 * closes the door to creates under the same lock).
 */
int
cell_sampler_activate(void)
{
	int error;

	if (cell_sampler_wq != NULL)
		return 0;
	error = workqueue_create(&cell_sampler_wq, "cellsamp",
	    cell_sampler_work, NULL, PRI_NONE, IPL_SOFTCLOCK, WQ_MPSAFE);
	if (error != 0) {
		printf("secmodel_cell: workqueue_create: error %d\n", error);
		cell_sampler_wq = NULL;
		return error;
	}
	callout_schedule(&cell_sampler_ch, hz);
	return 0;
}

/*
 * The callout reschedules itself; callout_halt() stops that and waits
 * for a running tick.  After it no work can be queued, so waiting for
 * the one work item leaves the queue idle and safe to destroy.
 */
void
cell_sampler_stop(void)
{

	callout_halt(&cell_sampler_ch, NULL);
	callout_destroy(&cell_sampler_ch);
	if (cell_sampler_wq != NULL) {
		workqueue_wait(cell_sampler_wq, &cell_sampler_wk);
		workqueue_destroy(cell_sampler_wq);
		cell_sampler_wq = NULL;
	}
}
