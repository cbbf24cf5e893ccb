/*	$NetBSD$	*/

/*
 * harness.h -- the C tests' own minimal harness.
 *
 * A test is a function; T_RUN() runs it and counts it as failed if any of
 * its checks failed.  Every failed check prints file:line and what was
 * expected.  t_summary() prints "N passed, N failed" on a line of its own
 * and returns the exit status.
 */

#ifndef _CELL_TEST_HARNESS_H_
#define _CELL_TEST_HARNESS_H_

#include <stdint.h>

#include "cell_core.h"

extern unsigned t_checks_failed;

int	t_check(int, const char *, const char *, int);
int	t_check_eq(uint64_t, uint64_t, const char *, const char *,
	    const char *, int);
int	t_check_str(const char *, const char *, const char *, const char *,
	    const char *, int);
void	t_run(void (*)(void), const char *);
int	t_summary(void);

#define	T_CHECK(c)	t_check(!!(c), #c, __FILE__, __LINE__)
#define	T_EQ(a, b)	t_check_eq((uint64_t)(a), (uint64_t)(b), #a, #b, \
			    __FILE__, __LINE__)
#define	T_STR(a, b)	t_check_str((a), (b), #a, #b, __FILE__, __LINE__)
#define	T_RUN(fn)	t_run((fn), #fn)

/* Helpers shared by the test programs (tutil.c). */
void	t_req(struct cell_create_req *, const char *);
int	t_create(struct cell_core *, const char *, uint32_t, uint32_t *,
	    uint32_t *);
struct cell_core *t_core(void);

#endif /* !_CELL_TEST_HARNESS_H_ */
