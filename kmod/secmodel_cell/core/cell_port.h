/*	$NetBSD$	*/

/*
 * cell_port.h -- the only porting layer of the secmodel_cell core.
 *
 * The core (cell_*.c in this directory) includes nothing but this header
 * and cell_abi.h.  In the kernel it maps to kmem(9), mutex(9), atomic_ops(3)
 * and <sys/errno.h>; on a host (tests, fuzzers, benchmarks, the Python
 * sim backend) to libc, pthreads and compiler atomics.
 */

#ifndef _SECMODEL_CELL_PORT_H_
#define _SECMODEL_CELL_PORT_H_

#ifdef _KERNEL
#include <sys/types.h>
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kmem.h>
#include <sys/mutex.h>
#include <sys/atomic.h>
#include <sys/intr.h>

typedef kmutex_t cell_mutex_t;
#define	cell_mutex_init(m)	mutex_init((m), MUTEX_DEFAULT, IPL_NONE)
#define	cell_mutex_destroy(m)	mutex_destroy(m)
#define	cell_mutex_enter(m)	mutex_enter(m)
#define	cell_mutex_exit(m)	mutex_exit(m)

/* Control paths only; never called from a listener. */
#define	cell_zalloc(sz)		kmem_zalloc((sz), KM_SLEEP)
#define	cell_free(p, sz)	kmem_free((p), (sz))

#define	cell_atomic_inc_32_nv(p)	atomic_inc_32_nv(p)
#define	cell_atomic_dec_32_nv(p)	atomic_dec_32_nv(p)
#define	cell_atomic_inc_64(p)		atomic_inc_64(p)
#define	cell_atomic_inc_64_nv(p)	atomic_inc_64_nv(p)
#define	cell_atomic_cas_64(p, o, n)	atomic_cas_64((p), (o), (n))
#define	cell_load_32(p)		atomic_load_relaxed(p)
#define	cell_load_64(p)		atomic_load_relaxed(p)
#define	cell_load_ptr(p)	atomic_load_consume(p)
#define	cell_load_acquire_32(p)	atomic_load_acquire(p)
#define	cell_store_release_32(p, v) atomic_store_release((p), (v))
#define	cell_store_32(p, v)	atomic_store_relaxed((p), (v))
#define	cell_store_64(p, v)	atomic_store_relaxed((p), (v))
#define	cell_store_ptr(p, v)	atomic_store_release((p), (v))
#define	cell_membar_producer()	membar_producer()
#define	cell_membar_consumer()	membar_consumer()

#define	cell_memset(d, c, n)	memset((d), (c), (n))
#define	cell_memcpy(d, s, n)	memcpy((d), (s), (n))
#define	cell_memcmp(a, b, n)	memcmp((a), (b), (n))
#define	cell_strnlen(s, n)	strnlen((s), (n))

#else /* !_KERNEL */

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef pthread_mutex_t cell_mutex_t;
#define	cell_mutex_init(m)	(void)pthread_mutex_init((m), NULL)
#define	cell_mutex_destroy(m)	(void)pthread_mutex_destroy(m)
#define	cell_mutex_enter(m)	(void)pthread_mutex_lock(m)
#define	cell_mutex_exit(m)	(void)pthread_mutex_unlock(m)

#define	cell_zalloc(sz)		calloc(1, (sz))
#define	cell_free(p, sz)	((void)(sz), free(p))

#define	cell_atomic_inc_32_nv(p)  __atomic_add_fetch((p), 1, __ATOMIC_SEQ_CST)
#define	cell_atomic_dec_32_nv(p)  __atomic_sub_fetch((p), 1, __ATOMIC_SEQ_CST)
#define	cell_atomic_inc_64(p)	  (void)__atomic_add_fetch((p), 1, __ATOMIC_RELAXED)
#define	cell_atomic_inc_64_nv(p)  __atomic_add_fetch((p), 1, __ATOMIC_SEQ_CST)
#define	cell_atomic_cas_64(p, o, n) __extension__ ({			\
	uint64_t _cell_o = (o);						\
	(void)__atomic_compare_exchange_n((p), &_cell_o, (n), 0,	\
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);			\
	_cell_o; })
#define	cell_load_32(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define	cell_load_64(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define	cell_load_ptr(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define	cell_load_acquire_32(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define	cell_store_release_32(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define	cell_store_32(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define	cell_store_64(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define	cell_store_ptr(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define	cell_membar_producer()	__atomic_thread_fence(__ATOMIC_RELEASE)
#define	cell_membar_consumer()	__atomic_thread_fence(__ATOMIC_ACQUIRE)

#define	cell_memset(d, c, n)	memset((d), (c), (n))
#define	cell_memcpy(d, s, n)	memcpy((d), (s), (n))
#define	cell_memcmp(a, b, n)	memcmp((a), (b), (n))
#define	cell_strnlen(s, n)	strnlen((s), (n))

#endif /* _KERNEL */

#endif /* !_SECMODEL_CELL_PORT_H_ */
