#! /usr/bin/env atf-sh
# $NetBSD$
#
# The profile columns of the policy matrix (cell_policy.def), tried from
# root inside a cell of each profile: low defers to the other models (cell
# root acts as root), medium and high deny.  Each probe is harmless when
# allowed (a tmpfs mounted and unmounted, a node made and removed, the
# hostname and the clock set to their current values, a module that does
# not exist).  REBOOT shares the system.admin row with MODULE, MKNOD and
# CHROOT tested here; reboot(2) itself is probed by the harness as the very
# last step, after the results are saved (ci/qemu/guest/cells-guest.sh).

# The shared helpers; atf_get_srcdir is only reliable inside test cases.
common()
{
	. "$(atf_get_srcdir)/cells_common.subr"
}

# want token cmd...: "deny" accepts EPERM or EACCES, else the exact token.
want()
{
	_w=$1
	shift
	case "${_w}" in
	deny)
		expect_denied "$@"
		;;
	*)
		expect "${_w}" "$@"
		;;
	esac
}

# row op low medium high [flags] -- [args]: one matrix row, every profile.
row()
{
	_op=$1
	_wl=$2
	_wm=$3
	_wh=$4
	shift 4
	_flags=0
	if [ "$1" != "--" ]; then
		_flags=$1
		shift
	fi
	shift
	for _p in ${PROFILES}; do
		mkcell "${_op}-${_p}-${_flags}" "${_p}" "${_flags}"
		case "${_p}" in
		low)	_w=${_wl} ;;
		medium)	_w=${_wm} ;;
		high)	_w=${_wh} ;;
		esac
		want "${_w}" incell "${CELL_ID}" "${CELL_ROOT}" "${_op}" "$@"
	done
}

tc()
{
	atf_test_case "$1" cleanup
	eval "$1_head() { atf_set descr '$2'; atf_set require.user root; }"
	eval "$1_cleanup() { common; cells_cleanup; }"
}

tc rawsock4 "IPv4 SOCK_RAW: low ok, medium/high denied"
rawsock4_body()
{
	common
	cells_require
	row raw4 ok deny deny --
}

tc rawsock6 "IPv6 raw socket: low ok, medium/high denied"
rawsock6_body()
{
	common
	cells_require
	row raw6 ok deny deny --
}

tc rawsock_relaxed "CELL_F_ALLOW_RAWSOCK lets medium/high open raw sockets"
rawsock_relaxed_body()
{
	common
	cells_require
	row raw4 ok ok ok 1 --
	row raw6 ok ok ok 1 --
}

tc routesock "Routing socket: low ok, medium/high denied"
routesock_body()
{
	common
	cells_require
	row route ok deny deny --
}

tc mount "mount(2) of a tmpfs: low ok, medium/high denied"
mount_body()
{
	common
	cells_require
	row mount ok deny deny -- /m
}

tc mknod "mknod(2) of a character device: low ok, medium/high denied"
mknod_body()
{
	common
	cells_require
	row mknod ok deny deny -- /tmp/node
}

tc modload "modload: low as securelevel allows, medium/high denied"
modload_body()
{
	common
	cells_require
	# At securelevel > 0 secmodel_securelevel refuses every load itself;
	# at 0 or below a permitted load of a missing module says ENOENT.
	if [ "$(securelevel)" -gt 0 ]; then
		low=EPERM
	else
		low=ENOENT
	fi
	echo "kern.securelevel=$(securelevel): low expects ${low}"
	row modload "${low}" deny deny --
}

tc sysctl_write "sysctl write (kern.hostname to itself): low ok, medium/high denied"
sysctl_write_body()
{
	common
	cells_require
	row sysctl-write ok deny deny --
}

tc settime "settimeofday to now: low ok, medium/high denied"
settime_body()
{
	common
	cells_require
	row settime ok deny deny --
}

tc chroot "chroot(2): low ok, medium/high denied"
chroot_body()
{
	common
	cells_require
	row chroot ok deny deny --
}

tc sysvipc "SysV IPC permission bypass: low/medium ok, high denied"
sysvipc_body()
{
	common
	cells_require
	key=$(( ($$ % 100000) + 424200000 ))
	probe shm-create "${key}" 12345 >/dev/null ||
	    atf_fail "cannot create a SysV segment for the test"
	echo "${key}" >shm.key
	# Another uid's 0600 segment: only root's bypass (SYSVIPC) opens it.
	row shm-get ok ok EACCES -- "${key}"
	row shm-get ok ok ok 2 -- "${key}"
	# The documented limit: creating segments makes no kauth call, so
	# even high can shmget(IPC_PRIVATE).  Keys stay host-global.
	row shm-private ok ok ok --
}
sysvipc_cleanup()
{
	common
	[ -f shm.key ] && probe shm-remove "$(cat shm.key)" >/dev/null
	cells_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case rawsock4
	atf_add_test_case rawsock6
	atf_add_test_case rawsock_relaxed
	atf_add_test_case routesock
	atf_add_test_case mount
	atf_add_test_case mknod
	atf_add_test_case modload
	atf_add_test_case sysctl_write
	atf_add_test_case settime
	atf_add_test_case chroot
	atf_add_test_case sysvipc
}
