#! /usr/bin/env atf-sh
# $NetBSD$
#
# Churn: 10,000 fork/exit cycles in each of two cells at once (one low,
# one high) must neither panic the kernel (a DIAGNOSTIC kernel asserts on
# credential-hook mistakes) nor leak references: afterwards both cells
# have no members left and destroy succeeds.

# The shared helpers; atf_get_srcdir is only reliable inside test cases.
common()
{
	. "$(atf_get_srcdir)/cells_common.subr"
}

atf_test_case fork_exit cleanup
fork_exit_head()
{
	atf_set "descr" "10,000 fork/exit cycles per cell, no leak, no panic"
	atf_set "require.user" "root"
	atf_set "timeout" "3600"
}
fork_exit_body()
{
	common
	cells_require
	mkcell f-low low
	L_ID=${CELL_ID}
	L_ROOT=${CELL_ROOT}
	mkcell f-high high
	H_ID=${CELL_ID}
	H_ROOT=${CELL_ROOT}
	incell "${L_ID}" "${L_ROOT}" forkloop 10000 >low.out &
	lpid=$!
	incell "${H_ID}" "${H_ROOT}" forkloop 10000 >high.out &
	hpid=$!
	echo "${lpid}" >>pids.list
	echo "${hpid}" >>pids.list
	wait "${lpid}" || atf_fail "low forkloop exited $?"
	wait "${hpid}" || atf_fail "high forkloop exited $?"
	expect "forks=10000 failures=0" cat low.out
	expect "forks=10000 failures=0" cat high.out
	expect ok probe destroy "${L_ID}"
	expect ok probe destroy "${H_ID}"
}
fork_exit_cleanup()
{
	common
	cells_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case fork_exit
}
