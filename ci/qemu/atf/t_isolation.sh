#! /usr/bin/env atf-sh
# $NetBSD$
#
# Cross-cell isolation: a process in one cell must not see, signal, trace
# or ktrace a process of another cell, under every profile; the same
# operations inside one cell, and by host root, still work (the controls
# that make the denials mean something).  Effects are checked from the
# host: the target is still alive, not traced, its trace flags unset.

# The shared helpers; atf_get_srcdir is only reliable inside test cases.
common()
{
	. "$(atf_get_srcdir)/cells_common.subr"
}

# pair profile: an attacker cell of that profile and a target cell.
pair()
{
	mkcell "a-$1" "$1"
	A_ID=${CELL_ID}
	A_ROOT=${CELL_ROOT}
	mkcell "b-$1" high
	B_ID=${CELL_ID}
	B_ROOT=${CELL_ROOT}
	target "${B_ID}" "${B_ROOT}"
}

atf_test_case cross_see cleanup
cross_see_head()
{
	atf_set "descr" "A cell cannot see another cell's process (ps, kill 0)"
	atf_set "require.user" "root"
}
cross_see_body()
{
	common
	cells_require
	for p in ${PROFILES}; do
		pair "$p"
		expect visible probe see "${TARGET}"
		expect hidden incell "${A_ID}" "${A_ROOT}" see "${TARGET}"
		expect EPERM incell "${A_ID}" "${A_ROOT}" signal "${TARGET}" 0
		# ... and the other direction.
		expect hidden incell "${B_ID}" "${B_ROOT}" see $$
	done
}
cross_see_cleanup()
{
	common
	cells_cleanup
}

atf_test_case cross_signal cleanup
cross_signal_head()
{
	atf_set "descr" "A cell cannot signal another cell's process"
	atf_set "require.user" "root"
}
cross_signal_body()
{
	common
	cells_require
	for p in ${PROFILES}; do
		pair "$p"
		expect EPERM incell "${A_ID}" "${A_ROOT}" signal "${TARGET}" 9
		expect EPERM incell "${A_ID}" "${A_ROOT}" signal "${TARGET}" 15
		sleep 0.2
		expect alive probe alive "${TARGET}"
	done
}
cross_signal_cleanup()
{
	common
	cells_cleanup
}

atf_test_case cross_ptrace cleanup
cross_ptrace_head()
{
	atf_set "descr" "A cell cannot PT_ATTACH to another cell's process"
	atf_set "require.user" "root"
}
cross_ptrace_body()
{
	common
	cells_require
	for p in ${PROFILES}; do
		pair "$p"
		expect_failed incell "${A_ID}" "${A_ROOT}" ptrace "${TARGET}"
		expect untraced probe traced "${TARGET}"
		expect alive probe alive "${TARGET}"
	done
}
cross_ptrace_cleanup()
{
	common
	cells_cleanup
}

atf_test_case cross_ktrace cleanup
cross_ktrace_head()
{
	atf_set "descr" "A cell cannot ktrace another cell's process" \
	    "(fktrace may return 0: the trace flag is what counts)"
	atf_set "require.user" "root"
}
cross_ktrace_body()
{
	common
	cells_require
	for p in ${PROFILES}; do
		pair "$p"
		expect 0 probe traceflag "${TARGET}"
		incell "${A_ID}" "${A_ROOT}" ktrace "${TARGET}" >ktrace.out
		echo "fktrace returned: $(cat ktrace.out)"
		expect 0 probe traceflag "${TARGET}"
	done
}
cross_ktrace_cleanup()
{
	common
	cells_cleanup
}

atf_test_case same_cell cleanup
same_cell_head()
{
	atf_set "descr" "Inside one cell, see/signal/ktrace work (control)"
	atf_set "require.user" "root"
}
same_cell_body()
{
	common
	cells_require
	for p in ${PROFILES}; do
		mkcell "s-$p" "$p"
		target "${CELL_ID}" "${CELL_ROOT}"
		expect visible incell "${CELL_ID}" "${CELL_ROOT}" see "${TARGET}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" signal "${TARGET}" 0
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" ktrace "${TARGET}"
		[ "$(probe traceflag "${TARGET}")" != 0 ] ||
		    atf_fail "same-cell ktrace did not set the trace flag"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" signal "${TARGET}" 9
		wait "${TARGET}"
		expect gone probe alive "${TARGET}"
	done
}
same_cell_cleanup()
{
	common
	cells_cleanup
}

atf_test_case host_root cleanup
host_root_head()
{
	atf_set "descr" "Host root sees and signals into every cell (control)"
	atf_set "require.user" "root"
}
host_root_body()
{
	common
	cells_require
	mkcell h high
	target "${CELL_ID}" "${CELL_ROOT}"
	expect visible probe see "${TARGET}"
	expect ok probe signal "${TARGET}" 0
	expect ok probe signal "${TARGET}" 9
	wait "${TARGET}"
	expect gone probe alive "${TARGET}"
}
host_root_cleanup()
{
	common
	cells_cleanup
}

atf_test_case host_nonroot cleanup
host_nonroot_head()
{
	atf_set "descr" "A host user cannot see or signal its own uid in a cell"
	atf_set "require.user" "root"
}
host_nonroot_body()
{
	common
	cells_require
	mkcell n low
	target "${CELL_ID}" "${CELL_ROOT}" 12345
	expect hidden probe -u 12345 see "${TARGET}"
	expect EPERM probe -u 12345 signal "${TARGET}" 15
	expect alive probe alive "${TARGET}"
}
host_nonroot_cleanup()
{
	common
	cells_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case cross_see
	atf_add_test_case cross_signal
	atf_add_test_case cross_ptrace
	atf_add_test_case cross_ktrace
	atf_add_test_case same_cell
	atf_add_test_case host_root
	atf_add_test_case host_nonroot
}
