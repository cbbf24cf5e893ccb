#! /usr/bin/env atf-sh
# $NetBSD$
#
# Reserved ports: a port reserved by one cell is closed to every other
# subject but host root (IPv4 and IPv6, EACCES from in_pcbbind_port); a
# cell binds its own reserved ports, unreserved ports and port 0.

# The shared helpers; atf_get_srcdir is only reliable inside test cases.
common()
{
	. "$(atf_get_srcdir)/cells_common.subr"
}

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
}
