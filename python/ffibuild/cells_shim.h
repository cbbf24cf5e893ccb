/*	$NetBSD$	*/

/*
 * cells_shim.h -- declarations of cells_shim.c, read by the cffi builder
 * between the markers like the core headers.
 */

#ifndef _CELLS_SHIM_H_
#define _CELLS_SHIM_H_

#include <stddef.h>

/* cffi:begin */
int	cells_sysctlbyname(const char *, void *, size_t *, const void *,
	    size_t);
/* cffi:end */

#endif /* !_CELLS_SHIM_H_ */
