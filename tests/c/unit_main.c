/*	$NetBSD$	*/

/*
 * unit_main.c -- runs every unit test suite of the core.
 */

#include <stdio.h>

#include "harness.h"

void	test_abi(void);
void	test_policy(void);
void	test_table(void);
void	test_validate(void);
void	test_audit(void);
void	test_info(void);
void	test_concurrency_all(void);

int
main(void)
{

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_abi();
	test_policy();
	test_table();
	test_validate();
	test_audit();
	test_info();
	test_concurrency_all();
	return t_summary();
}
