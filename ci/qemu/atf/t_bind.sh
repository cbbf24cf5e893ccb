#! /usr/bin/env atf-sh
# $NetBSD$
#
# Reserved ports: a port reserved by one cell is closed to every other
# subject but host root (IPv4 and IPv6, EACCES from in_pcbbind_port); a
# cell binds its own reserved ports, unreserved ports and port 0.  A cell
# made with a list of bind addresses binds only those to a fixed port, the
# wildcard only to port 0, and still connects from an unbound socket.

# The shared helpers; atf_get_srcdir is only reliable inside test cases.
common()
{
	. "$(atf_get_srcdir)/cells_common.subr"
}

# Fixed ports below the ephemeral range (net.inet.ip.anonportmin, 49152):
# there a wildcard bind looks like a candidate of connect(2)'s port search
# and is allowed even to a cell with bind addresses (bind_addrs).
ports()
{
	base=$(( 20000 + ($$ % 200) * 100 ))
	P_A=$((base + 1))
	P_B=$((base + 2))
	P_FREE=$((base + 3))
}

atf_test_case other_cells_port cleanup
other_cells_port_head()
{
	atf_set "descr" "Binding another cell's reserved port fails with EACCES"
	atf_set "require.user" "root"
}
other_cells_port_body()
{
	common
	cells_require
	ports
	mkcell owner high 0 "${P_A}"
	for p in ${PROFILES}; do
		mkcell "b-$p" "$p" 0 "${P_B}"
		expect EACCES incell "${CELL_ID}" "${CELL_ROOT}" bind4 "${P_A}"
		expect EACCES incell "${CELL_ID}" "${CELL_ROOT}" bind6 "${P_A}"
		cells_cleanup_last
	done
}
other_cells_port_cleanup()
{
	common
	cells_cleanup
}

atf_test_case own_port cleanup
own_port_head()
{
	atf_set "descr" "A cell binds its own reserved, unreserved and 0 ports"
	atf_set "require.user" "root"
}
own_port_body()
{
	common
	cells_require
	ports
	for p in ${PROFILES}; do
		mkcell "o-$p" "$p" 0 "${P_B}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" bind4 "${P_B}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" bind6 "${P_B}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" bind4 "${P_FREE}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" bind4 0
		cells_cleanup_last
	done
}
own_port_cleanup()
{
	common
	cells_cleanup
}

atf_test_case host_subjects cleanup
host_subjects_head()
{
	atf_set "descr" "Host non-root is kept off reserved ports; host root is not"
	atf_set "require.user" "root"
}
host_subjects_body()
{
	common
	cells_require
	ports
	mkcell owner low 0 "${P_A}"
	expect EACCES probe -u 12345 bind4 "${P_A}"
	expect EACCES probe -u 12345 bind6 "${P_A}"
	expect ok probe -u 12345 bind4 "${P_FREE}"
	expect ok probe bind4 "${P_A}"
}
host_subjects_cleanup()
{
	common
	cells_cleanup
}

atf_test_case reservation_unique cleanup
reservation_unique_head()
{
	atf_set "descr" "A port reserved by one cell cannot be reserved by another"
	atf_set "require.user" "root"
}
reservation_unique_body()
{
	common
	cells_require
	ports
	mkcell owner low 0 "${P_A}"
	mkdir -p root-dup
	expect EADDRINUSE probe create "t$$-dup" "$(pwd)/root-dup" low 0 "${P_A}"
}
reservation_unique_cleanup()
{
	common
	cells_cleanup
}

atf_test_case bind_addrs cleanup
bind_addrs_head()
{
	atf_set "descr" "A cell with bind addresses binds only those to a" \
	    "fixed port and the wildcard only to port 0; connect from an" \
	    "unbound UDP socket (its implicit wildcard bind, no listener" \
	    "needed) works; a cell without a list binds the wildcard"
	atf_set "require.user" "root"
}
bind_addrs_body()
{
	common
	cells_require
	ports
	mkcell owner low 0 "${P_A}"
	for p in ${PROFILES}; do
		mkcell "a-$p" "$p" 0 127.0.0.1 ::1
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" \
		    bindaddr4 127.0.0.1 "${P_B}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" bindaddr6 ::1 "${P_B}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" bindaddr4 127.0.0.1 0
		expect EACCES incell "${CELL_ID}" "${CELL_ROOT}" \
		    bindaddr4 0.0.0.0 "${P_B}"
		expect EACCES incell "${CELL_ID}" "${CELL_ROOT}" \
		    bindaddr6 :: "${P_B}"
		expect EACCES incell "${CELL_ID}" "${CELL_ROOT}" bind4 "${P_FREE}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" bindaddr4 0.0.0.0 0
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" bindaddr6 :: 0
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" \
		    connect4 127.0.0.1 "${P_FREE}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" \
		    connect6 ::1 "${P_FREE}"
		# A listed address does not open another cell's reserved port.
		expect EACCES incell "${CELL_ID}" "${CELL_ROOT}" \
		    bindaddr4 127.0.0.1 "${P_A}"
		cells_cleanup_last
		# Addresses every guest has, each outside the other's list.
		mkcell "six-$p" "$p" 0 ::1
		expect EACCES incell "${CELL_ID}" "${CELL_ROOT}" \
		    bindaddr4 127.0.0.1 "${P_B}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" bindaddr6 ::1 "${P_B}"
		cells_cleanup_last
		mkcell "four-$p" "$p" 0 127.0.0.1
		expect EACCES incell "${CELL_ID}" "${CELL_ROOT}" \
		    bindaddr6 ::1 "${P_B}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" \
		    bindaddr4 127.0.0.1 "${P_B}"
		cells_cleanup_last
		mkcell "any-$p" "$p"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" \
		    bindaddr4 0.0.0.0 "${P_B}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" bindaddr6 :: "${P_B}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" \
		    bindaddr4 127.0.0.1 "${P_FREE}"
		expect ok incell "${CELL_ID}" "${CELL_ROOT}" \
		    connect4 127.0.0.1 "${P_FREE}"
		cells_cleanup_last
	done
}
bind_addrs_cleanup()
{
	common
	cells_cleanup
}

# cells_cleanup_last: destroy the cell made last so its ports are freed.
cells_cleanup_last()
{
	expect ok probe destroy "${CELL_ID}"
	grep -v "^${CELL_ID}\$" cells.list >cells.tmp || :
	mv cells.tmp cells.list
}

atf_init_test_cases()
{
	atf_add_test_case other_cells_port
	atf_add_test_case own_port
	atf_add_test_case host_subjects
	atf_add_test_case reservation_unique
	atf_add_test_case bind_addrs
}
