#! /usr/bin/env atf-sh
# $NetBSD$
#
# Lifecycle rules: who may enter (host root, already chrooted to the
# cell's root), that nobody leaves or switches cells, that celled
# processes control nothing, that destroy is refused while a member lives
# or lingers as a zombie, that ids are not reused, and that the module
# refuses to unload while a cell exists.

# The shared helpers; atf_get_srcdir is only reliable inside test cases.
common()
{
	. "$(atf_get_srcdir)/cells_common.subr"
}

atf_test_case enter_rules cleanup
enter_rules_head()
{
	atf_set "descr" "Enter needs host root chrooted to the cell's root"
	atf_set "require.user" "root"
}
enter_rules_body()
{
	common
	cells_require
	mkcell e high
	# Not chrooted: refused, still in the host.
	expect_match "E* id=0" probe enter "${CELL_ID}"
	# Chrooted elsewhere: refused.
	mkdir -p elsewhere
	expect_match "E* id=0" probe chroot-enter "$(pwd)/elsewhere" "${CELL_ID}"
	# Host non-root, chrooted right: refused.
	expect_match "E* id=0" probe chroot-enter "${CELL_ROOT}" "${CELL_ID}" 12345
	# Host root, chrooted right: the control that must work.
	expect "ok id=${CELL_ID}" probe chroot-enter "${CELL_ROOT}" "${CELL_ID}"
	expect "${CELL_ID}" incell "${CELL_ID}" "${CELL_ROOT}" id
}
enter_rules_cleanup()
{
	common
	cells_cleanup
}

atf_test_case no_leave cleanup
no_leave_head()
{
	atf_set "descr" "A member can neither leave its cell nor switch cells"
	atf_set "require.user" "root"
}
no_leave_body()
{
	common
	cells_require
	mkcell b low
	B_ID=${CELL_ID}
	mkcell a low
	expect_match "E* id=${CELL_ID}" incell "${CELL_ID}" "${CELL_ROOT}" enter 0
	expect_match "E* id=${CELL_ID}" incell "${CELL_ID}" "${CELL_ROOT}" \
	    enter "${B_ID}"
}
no_leave_cleanup()
{
	common
	cells_cleanup
}

atf_test_case celled_control cleanup
celled_control_head()
{
	atf_set "descr" "Root in a cell cannot create, destroy or list cells"
	atf_set "require.user" "root"
}
celled_control_body()
{
	common
	cells_require
	mkcell victim high
	V_ID=${CELL_ID}
	for p in ${PROFILES}; do
		mkcell "c-$p" "$p"
		expect EPERM incell "${CELL_ID}" "${CELL_ROOT}" list
		expect_failed incell "${CELL_ID}" "${CELL_ROOT}" destroy "${V_ID}"
		expect_failed incell "${CELL_ID}" "${CELL_ROOT}" \
		    create "t$$-inner" / low
	done
	expect_match "id=${V_ID} *" probe info "${V_ID}"
}
celled_control_cleanup()
{
	common
	cells_cleanup
}

atf_test_case destroy_live cleanup
destroy_live_head()
{
	atf_set "descr" "Destroy is EBUSY while a member lives; the kernel" \
	    "never kills it"
	atf_set "require.user" "root"
}
destroy_live_body()
{
	common
	cells_require
	mkcell live low
	target "${CELL_ID}" "${CELL_ROOT}"
	expect EBUSY probe destroy "${CELL_ID}"
	expect alive probe alive "${TARGET}"
	kill -9 "${TARGET}"
	wait "${TARGET}"
	expect ok probe destroy "${CELL_ID}"
	expect ENOENT probe destroy "${CELL_ID}"
}
destroy_live_cleanup()
{
	common
	cells_cleanup
}

atf_test_case destroy_zombie cleanup
destroy_zombie_head()
{
	atf_set "descr" "Destroy is EBUSY while a member is an unreaped zombie"
	atf_set "require.user" "root"
}
destroy_zombie_body()
{
	common
	cells_require
	mkcell zomb low
	# Not through probe(): a function run in the background is a subshell,
	# and killing that would leave the zombie's real parent alive.
	"${CELLPROBE}" zombie "${CELL_ID}" "${CELL_ROOT}" >zombie.pid 2>/dev/null &
	parent=$!
	echo "${parent}" >>pids.list
	n=0
	while [ ! -s zombie.pid ] ||
	    [ "$(probe alive "$(cat zombie.pid)")" != zombie ]; do
		n=$((n + 1))
		[ ${n} -le 100 ] || atf_fail "no zombie member appeared"
		sleep 0.1
	done
	expect EBUSY probe destroy "${CELL_ID}"
	# Let init reap it, then destroy must succeed.
	kill -9 "${parent}"
	wait "${parent}"
	n=0
	while [ "$(probe destroy "${CELL_ID}")" != ok ]; do
		n=$((n + 1))
		[ ${n} -le 50 ] || atf_fail "destroy still refused after reaping"
		sleep 0.1
	done
}
destroy_zombie_cleanup()
{
	common
	cells_cleanup
}

atf_test_case ids_not_reused cleanup
ids_not_reused_head()
{
	atf_set "descr" "A destroyed cell's id and name: id never reused, name free"
	atf_set "require.user" "root"
}
ids_not_reused_body()
{
	common
	cells_require
	mkcell same low
	first=${CELL_ID}
	expect EEXIST probe create "t$$-same" "${CELL_ROOT}" low
	expect ok probe destroy "${first}"
	mkcell same low
	[ "${CELL_ID}" -gt "${first}" ] ||
	    atf_fail "id ${CELL_ID} reused (first was ${first})"
}
ids_not_reused_cleanup()
{
	common
	cells_cleanup
}

atf_test_case unload_busy cleanup
unload_busy_head()
{
	atf_set "descr" "The module refuses to unload while a cell exists"
	atf_set "require.user" "root"
}
unload_busy_body()
{
	common
	cells_require
	mkcell keep low
	lvl=$(securelevel)
	echo "kern.securelevel=${lvl}"
	if [ "${lvl}" -gt 0 ]; then
		# secmodel_securelevel refuses first; only the effect is seen.
		expect_failed probe unload
	else
		expect EBUSY probe unload
	fi
	modstat -n secmodel_cell >/dev/null || atf_fail "module unloaded"
	expect_match "id=${CELL_ID} *" probe info "${CELL_ID}"
}
unload_busy_cleanup()
{
	common
	cells_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case enter_rules
	atf_add_test_case no_leave
	atf_add_test_case celled_control
	atf_add_test_case destroy_live
	atf_add_test_case destroy_zombie
	atf_add_test_case ids_not_reused
	atf_add_test_case unload_busy
}
