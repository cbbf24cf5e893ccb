/*	$NetBSD$	*/

/*
 * cell_glue.h -- private interface between the NetBSD glue files of
 * secmodel_cell.
 *
 * secmodel_cell.c owns the module state below and the MODULE()/modcmd
 * life cycle; cell_kauth.c the kauth(9) listeners and the credential
 * helpers; cell_sysctl.c the security.models.cell tree; cell_sampler.c
 * the 1 s telemetry sampler.  Each *_start() either succeeds completely
 * or undoes what it did and returns an errno; each *_stop() undoes its
 * *_start() exactly.  Policy and validation live in the portable core
 * (core/cell_core.h); nothing here decides.
 */

#ifndef _SECMODEL_CELL_GLUE_H_
#define _SECMODEL_CELL_GLUE_H_

#include <sys/types.h>
#include <sys/kauth.h>

#include "cell_core.h"

#define	SECMODEL_CELL_ID	"org.netbsd.secmodel.cell"
#define	SECMODEL_CELL_NAME	"Cells: kauth policy domains"

struct lwp;

/* Module state, set up by INIT before any listener or node exists. */
extern struct cell_core	*secmodel_cell_core;
extern kauth_key_t	secmodel_cell_key;
extern secmodel_t	secmodel_cell_sm;
extern bool		secmodel_cell_closing;	/* sysctl tree lock */

/* cell_kauth.c */
int	cell_kauth_start(void);
void	cell_kauth_stop(void);
uint32_t cell_cred_handle(kauth_cred_t);
bool	cell_cred_is_host(kauth_cred_t);
bool	cell_cred_is_host_root(kauth_cred_t);
int	cell_kauth_selfcheck(void);

/* cell_sysctl.c */
int	cell_sysctl_start(void);
void	cell_sysctl_stop(void);

/* cell_sampler.c */
int	cell_sampler_start(void);
int	cell_sampler_activate(void);	/* sysctl tree lock */
void	cell_sampler_stop(void);

#endif /* !_SECMODEL_CELL_GLUE_H_ */
