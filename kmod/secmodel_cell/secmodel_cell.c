/*	$NetBSD$	*/

/*
 * secmodel_cell -- kauth(9) policy domains ("cells") as a loadable
 * security model.
 *
 * This file owns the module life cycle.  INIT registers, in order, the
 * secmodel, the credential key, the portable core, the kauth listeners,
 * the sysctl tree and the telemetry sampler; any failure unwinds what was
 * done and fails the load.  FINI refuses with EBUSY while any cell exists
 * and otherwise undoes INIT in the reverse order, except that the
 * secmodel (whose eval callback reads the key and the core) is
 * deregistered before the core and the key.  Automatic unloading is
 * refused.  The module answers questions from other security models
 * through secmodel_eval(9):
 *
 *	"is-celled"	arg kauth_cred_t, ret bool *: the credential is in
 *			a cell
 *	"cell-id"	arg kauth_cred_t, ret uint32_t *: its cell id, 0 for
 *			the host
 *
 * Both answer EBUSY outside the span in which the key and the core
 * exist (before INIT has finished, and from the start of FINI on).
 */

#include <sys/cdefs.h>
__KERNEL_RCSID(0, "$NetBSD$");

#include <sys/param.h>
#include <sys/types.h>
#include <sys/atomic.h>
#include <sys/errno.h>
#include <sys/kauth.h>
#include <sys/module.h>
#include <sys/sysctl.h>
#include <sys/systm.h>

#include <secmodel/secmodel.h>

#include "cell_core.h"
#include "cell_glue.h"

MODULE(MODULE_CLASS_SECMODEL, secmodel_cell, NULL);

struct cell_core	*secmodel_cell_core;
kauth_key_t		secmodel_cell_key;
secmodel_t		secmodel_cell_sm;
bool			secmodel_cell_closing;
static bool		secmodel_cell_ready;

static int	secmodel_cell_eval(const char *, void *, void *);
static int	secmodel_cell_init(void);
static int	secmodel_cell_fini(void);

/*
 * Answer other security models.  The credential is theirs to keep alive
 * for the duration of the call.  secmodel_eval(9) calls this with
 * secmodels_lock held as reader, and it is registered before the key
 * and the core exist: secmodel_cell_ready tells whether they do, and
 * FINI deregisters the model (which waits for the lock) before it
 * destroys them.
 */
static int
secmodel_cell_eval(const char *what, void *arg, void *ret)
{
	kauth_cred_t cred;
	int error;

	cred = arg;
	error = 0;
	if (!atomic_load_acquire(&secmodel_cell_ready))
		error = EBUSY;
	else if (cred == NULL)
		error = EINVAL;
	else if (strcasecmp(what, "is-celled") == 0)
		*(bool *)ret = cell_cred_handle(cred) != 0;
	else if (strcasecmp(what, "cell-id") == 0)
		*(uint32_t *)ret = cell_handle_id(secmodel_cell_core,
		    cell_cred_handle(cred));
	else
		error = ENOENT;

	return error;
}

static int
secmodel_cell_init(void)
{
	int error;

	secmodel_cell_closing = false;
	secmodel_cell_ready = false;

	error = secmodel_register(&secmodel_cell_sm, SECMODEL_CELL_ID,
	    SECMODEL_CELL_NAME, NULL, secmodel_cell_eval, NULL);
	if (error != 0) {
		printf("secmodel_cell: secmodel_register: error %d\n", error);
		goto fail0;
	}

	error = kauth_register_key(secmodel_cell_sm, &secmodel_cell_key);
	if (error != 0) {
		printf("secmodel_cell: kauth_register_key: error %d\n", error);
		goto fail1;
	}

	error = cell_core_create(&secmodel_cell_core);
	if (error != 0) {
		printf("secmodel_cell: cell_core_create: error %d\n", error);
		goto fail2;
	}

	error = cell_kauth_selfcheck();
	if (error != 0)
		goto fail3;

	error = cell_kauth_start();
	if (error != 0)
		goto fail3;

	error = cell_sysctl_start();
	if (error != 0)
		goto fail4;

	error = cell_sampler_start();
	if (error != 0)
		goto fail5;

	atomic_store_release(&secmodel_cell_ready, true);
	return 0;

fail5:	cell_sysctl_stop();
fail4:	cell_kauth_stop();
fail3:	cell_core_destroy(secmodel_cell_core);
	secmodel_cell_core = NULL;
fail2:	(void)kauth_deregister_key(secmodel_cell_key);
	secmodel_cell_key = NULL;
fail1:	(void)secmodel_deregister(secmodel_cell_sm);
	secmodel_cell_sm = NULL;
fail0:	return error;
}

/*
 * Creating a cell is a sysctl write, and sysctl writes run under the
 * exclusive tree lock.  Taking that lock here to count the cells and
 * close the door makes the check atomic with respect to a concurrent
 * create; entering needs an existing cell, so no credential can be
 * tagged once the count is zero.
 *
 * kauth_unlisten_scope() does not wait for callbacks already running on
 * other CPUs (kauth_authorize_action() does not take kauth_lock yet), a
 * limit this model shares with every unloadable secmodel.
 *
 * The secmodel is deregistered before the core and the key go: that
 * takes secmodels_lock as writer, so no secmodel_cell_eval() can still
 * be running on them.
 */
static int
secmodel_cell_fini(void)
{
	uint32_t ncells;
	int error;

	sysctl_lock(true);
	ncells = cell_core_count(secmodel_cell_core);
	if (ncells == 0)
		secmodel_cell_closing = true;
	sysctl_unlock();
	if (ncells != 0)
		return EBUSY;

	atomic_store_relaxed(&secmodel_cell_ready, false);
	cell_sampler_stop();
	cell_sysctl_stop();
	cell_kauth_stop();
	error = secmodel_deregister(secmodel_cell_sm);
	if (error != 0)
		printf("secmodel_cell: secmodel_deregister: error %d\n",
		    error);
	secmodel_cell_sm = NULL;
	cell_core_destroy(secmodel_cell_core);
	secmodel_cell_core = NULL;
	(void)kauth_deregister_key(secmodel_cell_key);
	secmodel_cell_key = NULL;

	return 0;
}

static int
secmodel_cell_modcmd(modcmd_t cmd, void *arg)
{
	int error;

	switch (cmd) {
	case MODULE_CMD_INIT:
		error = secmodel_cell_init();
		break;

	case MODULE_CMD_FINI:
		error = secmodel_cell_fini();
		break;

	case MODULE_CMD_AUTOUNLOAD:
		error = EPERM;
		break;

	default:
		error = ENOTTY;
		break;
	}

	return error;
}
