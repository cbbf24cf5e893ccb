#! /usr/bin/env atf-sh
# $NetBSD$
#
# Telemetry of denials: the per-cell, per-scope deny counters exported in
# security.models.cell.list and the audit ring in security.models.cell.events
# must both record the denials a test performs, and agree with each other.

# The shared helpers; atf_get_srcdir is only reliable inside test cases.
common()
{
	. "$(atf_get_srcdir)/cells_common.subr"
}

# denies id: the cell's six per-scope counters, space separated.
denies()
{
	probe info "$1" | sed -e 's/.*denies=//' -e 's/,/ /g'
}

atf_test_case counters_and_events cleanup
counters_and_events_head()
{
	atf_set "descr" "Deny counters and audit events match the denials performed"
	atf_set "require.user" "root"
}
counters_and_events_body()
{
	common
	cells_require
	mkcell victim high
	target "${CELL_ID}" "${CELL_ROOT}"
	mkcell audited high
	A_ID=${CELL_ID}
	A_ROOT=${CELL_ROOT}
	since=$(( $(probe head) + 1 ))
	# shellcheck disable=SC2046
	set -- $(denies "${A_ID}")
	p0=$1 s0=$2 n0=$3

	for _ in 1 2 3; do
		expect EPERM incell "${A_ID}" "${A_ROOT}" signal "${TARGET}" 0
	done
	for _ in 1 2; do
		expect_denied incell "${A_ID}" "${A_ROOT}" route
	done
	expect_denied incell "${A_ID}" "${A_ROOT}" mknod /tmp/node

	# shellcheck disable=SC2046
	set -- $(denies "${A_ID}")
	dp=$(($1 - p0)) ds=$(($2 - s0)) dn=$(($3 - n0))
	echo "counter deltas: process=${dp} system=${ds} network=${dn}"
	[ "${dp}" -ge 3 ] || atf_fail "process counter grew by ${dp}, want >= 3"
	[ "${dn}" -ge 2 ] || atf_fail "network counter grew by ${dn}, want >= 2"
	[ "${ds}" -ge 1 ] || atf_fail "system counter grew by ${ds}, want >= 1"

	# shellcheck disable=SC2046
	set -- $(probe events "${since}" "${A_ID}")
	echo "events since ${since}: process=$1 system=$2 network=$3"
	[ "$1" = "${dp}" ] || atf_fail "process: $1 events, counter +${dp}"
	[ "$2" = "${ds}" ] || atf_fail "system: $2 events, counter +${ds}"
	[ "$3" = "${dn}" ] || atf_fail "network: $3 events, counter +${dn}"
}
counters_and_events_cleanup()
{
	common
	cells_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case counters_and_events
}
