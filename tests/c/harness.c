/*	$NetBSD$	*/

/*
 * harness.c -- check counting and reporting for the C tests.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

unsigned t_checks_failed;
static unsigned t_passed, t_failed;
static const char *t_current = "?";

int
t_check(int ok, const char *expr, const char *file, int line)
{

	if (!ok) {
		t_checks_failed++;
		printf("%s:%d: %s: check failed: %s\n", file, line, t_current,
		    expr);
	}
	return ok;
}

int
t_check_eq(uint64_t a, uint64_t b, const char *ea, const char *eb,
    const char *file, int line)
{

	if (a != b) {
		t_checks_failed++;
		printf("%s:%d: %s: %s == %s: got %" PRIu64 ", want %" PRIu64
		    "\n", file, line, t_current, ea, eb, a, b);
	}
	return a == b;
}

int
t_check_str(const char *a, const char *b, const char *ea, const char *eb,
    const char *file, int line)
{
	int ok;

	ok = a != NULL && b != NULL && strcmp(a, b) == 0;
	if (!ok) {
		t_checks_failed++;
		printf("%s:%d: %s: %s == %s: got \"%s\", want \"%s\"\n", file,
		    line, t_current, ea, eb, a != NULL ? a : "(null)",
		    b != NULL ? b : "(null)");
	}
	return ok;
}

void
t_run(void (*fn)(void), const char *name)
{
	unsigned before = t_checks_failed;

	t_current = name;
	fn();
	if (t_checks_failed == before)
		t_passed++;
	else
		t_failed++;
	t_current = "?";
	fflush(stdout);
}

int
t_summary(void)
{

	printf("%u passed, %u failed\n", t_passed, t_failed);
	return t_failed == 0 && t_passed > 0 ? 0 : 1;
}
