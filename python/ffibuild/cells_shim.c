/*	$NetBSD$	*/

/*
 * cells_shim.c -- the few libc calls the Python binding needs beside the
 * portable core.
 *
 * cells_sysctlbyname() is the netbsd backend's one way into the kernel
 * (security.models.cell.*).  On any other system it compiles to a stub
 * that fails with ENOSYS: the netbsd backend is never chosen there.
 */

#include <errno.h>
#include <stddef.h>

#if defined(__NetBSD__)
#include <sys/param.h>
#include <sys/sysctl.h>
#endif

#include "cells_shim.h"

int
cells_sysctlbyname(const char *name, void *oldp, size_t *oldlenp,
    const void *newp, size_t newlen)
{

#if defined(__NetBSD__)
	return sysctlbyname(name, oldp, oldlenp, newp, newlen);
#else
	(void)name;
	(void)oldp;
	(void)oldlenp;
	(void)newp;
	(void)newlen;
	errno = ENOSYS;
	return -1;
#endif
}
