#! /usr/bin/env atf-sh
# $NetBSD$
#
# The in-kernel test body shared with the boot-test tier (ci/ktest):
# tests/kernel/cellktest.c, built against libc (kt_libc.c) by the guest
# script.  Every case of `cellktest -l` is one ATF test case here, so the
# two tiers run the same checks; this one on an installed system, with
# the module loaded from /etc/modules.conf.

# Cell roots r0..r15 under the work directory, each with the raw disk node
# the device rows open (wd0d: char 3,3 on amd64).
ktest_setup()
{
	KTEST="$(atf_get_srcdir)/cellktest"
	[ "$(id -u)" = 0 ] || atf_skip "needs root (host root creates cells)"
	sysctl -q security.models.cell.abi_version >/dev/null 2>&1 ||
	    atf_fail "security.models.cell is missing: secmodel_cell not loaded"
	[ -x "${KTEST}" ] || atf_fail "cellktest not built at ${KTEST}"
	i=0
	while [ "${i}" -lt 16 ]; do
		mkdir -p "roots/r${i}" || atf_fail "mkdir roots/r${i}"
		[ -e "roots/r${i}/rwd0d" ] ||
		    mknod "roots/r${i}/rwd0d" c 3 3 || atf_fail "mknod"
		i=$((i + 1))
	done
	kmod=""
	for k in /stand/"$(uname -m)"/*/modules/secmodel_cell/secmodel_cell.kmod; do
		[ -f "${k}" ] && kmod=${k}
	done
	printf 'load=loaded\nmode=test\nroots=%s\nkmod=%s\n' \
	    "$(pwd)/roots" "${kmod:-/nonexistent}" > ktest.conf
}

ktest_run()
{
	ktest_setup
	"${KTEST}" -c ktest.conf "$1" > out 2>&1
	rc=$?
	cat out
	grep -q "^KTEST CASE $1 PASS" out || atf_fail "case $1 failed (exit ${rc})"
	if grep -q "^KTEST SKIP $1:" out; then
		atf_skip "$(sed -n "s/^KTEST SKIP $1: //p" out)"
	fi
}

# kc name: one ATF test case running cellktest case name.
kc()
{
	eval "$1_head() { atf_set descr 'cellktest case $1';" \
	    "atf_set require.user root; }"
	eval "$1_body() { ktest_run $1; }"
}

kc abi
kc enter_rules
kc no_leave
kc celled_control
kc process_isolation
kc host_rows
kc bind_ports
kc bind_addrs
kc destroy_busy
kc destroy_after_files
kc ids_not_reused
kc forkloop
kc counters_audit
kc list_stats
kc bad_requests
kc unload

atf_init_test_cases()
{
	atf_add_test_case abi
	atf_add_test_case enter_rules
	atf_add_test_case no_leave
	atf_add_test_case celled_control
	atf_add_test_case process_isolation
	atf_add_test_case host_rows
	atf_add_test_case bind_ports
	atf_add_test_case bind_addrs
	atf_add_test_case destroy_busy
	atf_add_test_case destroy_after_files
	atf_add_test_case ids_not_reused
	atf_add_test_case forkloop
	atf_add_test_case counters_audit
	atf_add_test_case list_stats
	atf_add_test_case bad_requests
	atf_add_test_case unload
}
