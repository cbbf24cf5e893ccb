#!/bin/sh
# $NetBSD$
#
# cells-guest.sh -- what the QEMU tier does inside the NetBSD guest.
#
# ci.qemu.run unpacks the project tree into the guest, then calls this
# script once per step over the serial console, checking its exit status:
#
#   build TREE [KERNEL]   build secmodel_cell.kmod (make S=/usr/src/sys)
#                         for KERNEL (default /netbsd: the kernel the next
#                         boot runs), with DIAGNOSTIC only if KERNEL has it,
#                         the static cellprobe helper and the ATF programs
#   kernel-diagnostic KERNEL
#                         print yes or no: was KERNEL built with DIAGNOSTIC
#   module-dir ROOT       print ROOT's module directory for secmodel_cell:
#                         kern.module.path, else the kernel's own rule
#   install-module TREE   put the module in that directory
#   configure-boot ROOT   load it at boot: "secmodel_cell" in
#                         ROOT/etc/modules.conf and modules=YES in
#                         ROOT/etc/rc.conf (idempotent; ROOT is / in the
#                         guest, a scratch directory in the Linux tests)
#   install-kernel FILE   install a prebuilt kernel (e.g. DIAGNOSTIC) as
#                         /netbsd, keeping GENERIC as /netbsd.generic
#   build-kernel OPT...   build GENERIC plus "options OPT" from /usr/src/sys
#                         and install it the same way
#   status OUT            securelevel, modstat, the sysctl tree -> OUT;
#                         fails unless modstat lists secmodel_cell
#   run-tests TREE OUT    atf-run | atf-report; tps, ticker, xml -> OUT
#   python-tests TREE OUT MODE [PKG_PATH]
#                         the Python suite's netbsd-marked tests, if a
#                         Python can be had (MODE auto|require)
#   save OUT DEV MAX_KIB  tar OUT onto the zeroed raw scratch disk DEV
#   reboot-probe TREE     reboot(2) from root in a high cell: must be EPERM
#
# Every step prints kern.securelevel first, as the module's loading
# depends on it.

set -u

prog=cells-guest
# The kernel sources the module is built against (the syssrc set).
sys=${CELLS_SYS:-/usr/src/sys}

say()
{
	echo "${prog}: $*"
}

fail()
{
	echo "${prog}: $*" >&2
	exit 1
}

securelevel()
{
	if command -v sysctl >/dev/null 2>&1 &&
	    lvl=$(sysctl -n kern.securelevel 2>/dev/null); then
		say "kern.securelevel=${lvl}"
	fi
}

# The kernel's module path (sys/kern/kern_module.c): a release kernel loads
# from /stand/<machine>/<major>.<minor>/modules, whatever follows the minor
# (10.1, 10.1_STABLE, 10.1.1 all use 10.1); -current (minor 99) from
# /stand/<machine>/<osrelease>/modules.  The running kernel says which in
# kern.module.path; the rule is the fallback.
module_dir()
{
	path=$(sysctl -n kern.module.path 2>/dev/null) || path=
	if [ -z "${path}" ]; then
		rel=$(uname -r)
		case "${rel}" in
		[0-9]*.99.*|[0-9]*.99)	;;
		[0-9]*.[0-9]*)	rel=$(echo "${rel}" |
				    sed -E 's/^([0-9]+\.[0-9]+).*/\1/') ;;
		*)	fail "cannot tell the module path from uname -r '${rel}'" ;;
		esac
		path="/stand/$(uname -m)/${rel}/modules"
	fi
	echo "$1${path}/secmodel_cell"
}

# yes if the kernel file was configured with "options DIAGNOSTIC" (the
# configuration GENERIC embeds, read with config -x; a later
# "no options DIAGNOSTIC" wins), no if not; without an embedded
# configuration, the -current rule of sys/modules/Makefile.inc.
kernel_diagnostic()
{
	kernel=$1
	[ -f "${kernel}" ] || fail "no kernel ${kernel}"
	if conf=$(config -x "${kernel}" 2>/dev/null) && [ -n "${conf}" ]; then
		echo "${conf}" | awk '
		    { sub(/#.*/, ""); gsub(/,/, " ") }
		    $1 == "options" || ($1 == "no" && $2 == "options") {
			for (i = 2; i <= NF; i++)
				if ($i == "DIAGNOSTIC" || $i ~ /^DIAGNOSTIC=/)
					d = ($1 == "no") ? "no" : "yes"
		    }
		    END { print (d == "yes") ? "yes" : "no" }'
		return 0
	fi
	case "$(uname -r)" in
	[0-9]*.99.*)	echo yes ;;
	*)		echo no ;;
	esac
}

cmd_build()
{
	tree=$1
	kernel=${2:-/netbsd}
	[ -d "${sys}" ] || fail "${sys} missing: install the syssrc set"
	diag=$(kernel_diagnostic "${kernel}") || exit 1
	say "building for ${kernel}: DIAGNOSTIC=${diag}"
	(cd "${tree}/kmod/secmodel_cell" &&
	    make S="${sys}" CELL_DIAGNOSTIC="${diag}") ||
	    fail "module build failed"
	objdir=$(cd "${tree}/kmod/secmodel_cell" &&
	    make S="${sys}" -V .OBJDIR) || fail "make -V .OBJDIR failed"
	[ -f "${objdir}/secmodel_cell.kmod" ] ||
	    fail "no secmodel_cell.kmod in ${objdir}"
	atf="${tree}/ci/qemu/atf"
	# Warnings show in console.log; they must not cost the whole run.
	cc -static -O2 -Wall -I "${tree}/kmod/secmodel_cell/core" \
	    -o "${atf}/cellprobe" "${atf}/cellprobe.c" ||
	    fail "cellprobe build failed"
	# The in-kernel test body shared with the boot-test tier (ci/ktest).
	cc -static -O2 -Wall -I "${tree}/kmod/secmodel_cell/core" \
	    -o "${atf}/cellktest" "${tree}/tests/kernel/cellktest.c" \
	    "${tree}/tests/kernel/kt_common.c" \
	    "${tree}/tests/kernel/kt_libc.c" ||
	    fail "cellktest build failed"
	for t in "${atf}"/t_*.sh; do
		dst="${t%.sh}"
		cp "${t}" "${dst}" && chmod 755 "${dst}" ||
		    fail "cannot install ${dst}"
	done
	say "built ${objdir}/secmodel_cell.kmod, cellprobe, cellktest and the ATF programs"
}

cmd_install_module()
{
	tree=$1
	objdir=$(cd "${tree}/kmod/secmodel_cell" &&
	    make S="${sys}" -V .OBJDIR) || fail "make -V .OBJDIR failed"
	dir=$(module_dir "") || exit 1
	mkdir -p "${dir}" || fail "mkdir ${dir}"
	cp "${objdir}/secmodel_cell.kmod" "${dir}/" || fail "copy to ${dir}"
	say "installed ${dir}/secmodel_cell.kmod"
}

cmd_configure_boot()
{
	root=$1
	conf="${root}/etc/modules.conf"
	rc="${root}/etc/rc.conf"
	[ -d "${root}/etc" ] || fail "${root}/etc is not a directory"
	touch "${conf}" "${rc}" || fail "cannot write ${root}/etc"
	if ! grep -Eq '^[[:space:]]*secmodel_cell([[:space:]]|$)' "${conf}"; then
		echo "secmodel_cell" >>"${conf}" || fail "cannot append to ${conf}"
	fi
	# One modules= line, set to YES, at the end (later lines win).
	tmp="${rc}.cells.$$"
	grep -Ev '^[[:space:]]*modules=' "${rc}" >"${tmp}"
	echo "modules=YES" >>"${tmp}" || fail "cannot write ${tmp}"
	cat "${tmp}" >"${rc}" && rm -f "${tmp}" || fail "cannot rewrite ${rc}"
	say "boot loads secmodel_cell (${conf}, modules=YES in ${rc})"
}

install_kernel_file()
{
	src=$1
	[ -f /netbsd.generic ] || cp -p /netbsd /netbsd.generic ||
	    fail "cannot keep /netbsd as /netbsd.generic"
	case "${src}" in
	*.gz)	gzip -dc "${src}" >/netbsd.new || fail "gunzip ${src}" ;;
	*)	cp "${src}" /netbsd.new || fail "copy ${src}" ;;
	esac
	mv /netbsd.new /netbsd || fail "cannot install /netbsd"
	say "installed ${src} as /netbsd (GENERIC kept as /netbsd.generic)"
}

cmd_install_kernel()
{
	install_kernel_file "$1"
}

cmd_build_kernel()
{
	conf=CELLTEST
	dir="/usr/src/sys/arch/$(uname -m)/conf"
	[ -d "${dir}" ] || fail "${dir} missing: install the syssrc set"
	{
		echo "include \"arch/$(uname -m)/conf/GENERIC\""
		for opt in "$@"; do
			echo "options ${opt}"
		done
	} >"${dir}/${conf}" || fail "cannot write ${dir}/${conf}"
	(cd "${dir}" && config "${conf}") || fail "config ${conf} failed"
	cdir="/usr/src/sys/arch/$(uname -m)/compile/${conf}"
	(cd "${cdir}" && make -j "$(sysctl -n hw.ncpu)" depend &&
	    make -j "$(sysctl -n hw.ncpu)") || fail "kernel build failed"
	install_kernel_file "${cdir}/netbsd"
}

cmd_status()
{
	out=$1
	mkdir -p "${out}"
	{
		echo "kern.securelevel=$(sysctl -n kern.securelevel)"
		echo "uname: $(uname -a)"
		echo "--- modstat"
		modstat
		echo "--- sysctl security.models.cell"
		sysctl security.models.cell
	} >"${out}/status.txt" 2>&1
	cat "${out}/status.txt"
	# modstat's exit status says nothing about one module: read its table.
	modstat 2>/dev/null | awk '$1 == "secmodel_cell" { found = 1 }
	    END { exit !found }' ||
	    fail "secmodel_cell is not loaded (see /var/run/dmesg.boot)"
}

cmd_run_tests()
{
	tree=$1
	out=$2
	mkdir -p "${out}"
	cd "${tree}/ci/qemu/atf" || fail "no ${tree}/ci/qemu/atf"
	{ atf-run; echo $? >"${out}/atf-run.status"; } |
	    tee "${out}/atf.tps" |
	    atf-report -o ticker:- -o ticker:"${out}/atf.txt" \
		-o xml:"${out}/atf.xml"
	status=$(cat "${out}/atf-run.status")
	say "atf-run exit status ${status}"
	return "${status}"
}

find_python()
{
	for p in python3.13 python3.12 python3.11 python3.10 python3; do
		if command -v "${p}" >/dev/null 2>&1; then
			command -v "${p}"
			return 0
		fi
	done
	return 1
}

cmd_python_tests()
{
	tree=$1
	out=$2
	mode=$3
	pkgpath=${4:-}
	mkdir -p "${out}"
	if ! py=$(find_python) && [ -n "${pkgpath}" ]; then
		dhcpcd -w -q >/dev/null 2>&1 || say "dhcpcd failed; trying anyway"
		PKG_PATH=${pkgpath} pkg_add python311 py311-pip >"${out}/pkg_add.log" 2>&1
		py=$(find_python)
	fi
	if [ -z "${py:-}" ]; then
		echo "skipped: no Python in the guest (give --pkg-path to pkg_add one)" \
		    >"${out}/python.status"
		say "$(cat "${out}/python.status")"
		[ "${mode}" = require ] && return 1
		return 0
	fi
	venv="/var/tmp/cells-venv"
	if ! { "${py}" -m venv "${venv}" &&
	    "${venv}/bin/python" -m pip install -q -e "${tree}[dev]"; } \
	    >"${out}/pip.log" 2>&1; then
		echo "skipped: pip could not install the project (see pip.log)" \
		    >"${out}/python.status"
		say "$(cat "${out}/python.status")"
		[ "${mode}" = require ] && return 1
		return 0
	fi
	(cd "${tree}" && "${venv}/bin/python" -m pytest -q -m netbsd \
	    --junitxml="${out}/pytest.xml" tests/python) >"${out}/pytest.txt" 2>&1
	status=$?
	tail -n 5 "${out}/pytest.txt"
	echo "ran: pytest -m netbsd exit ${status} ($(tail -n 1 "${out}/pytest.txt"))" \
	    >"${out}/python.status"
	return "${status}"
}

cmd_save()
{
	out=$1
	dev=$2
	max_k=$3
	parent=$(dirname "${out}")
	name=$(basename "${out}")
	[ -c "${dev}" ] || fail "${dev} is not a raw disk"
	size_k=$(du -sk "${out}" | awk '{print $1}')
	[ "${size_k}" -lt "${max_k}" ] ||
	    fail "${out} holds ${size_k} KiB; the scratch disk takes ${max_k}"
	# Refuse to overwrite a disk that holds anything but zeros.
	# shellcheck disable=SC2046
	[ $(tr -d '\000' <"${dev}" | wc -c) -eq 0 ] ||
	    fail "${dev} is not blank; refusing to overwrite it"
	(cd "${parent}" && tar cf "${dev}" "${name}") ||
	    fail "cannot write results to ${dev}"
	sync
	say "saved ${size_k} KiB of results to ${dev}"
}

cmd_reboot_probe()
{
	tree=$1
	probe="${tree}/ci/qemu/atf/cellprobe"
	root=/var/tmp/cells-reboot-probe
	mkdir -p "${root}/bin" && cp "${probe}" "${root}/bin/cellprobe" ||
	    fail "cannot make ${root}"
	id=$("${probe}" create cells-reboot-probe "${root}" high)
	case "${id}" in
	''|*[!0-9]*)	fail "cannot create the probe cell: ${id}" ;;
	esac
	# Prints "reboot-probe: EPERM" if denied; if not, the VM halts here.
	"${probe}" exec "${id}" "${root}" -- /bin/cellprobe reboot
	"${probe}" destroy "${id}" >/dev/null
}

[ $# -ge 1 ] || fail "usage: $0 step [arguments] (see the comment at the top)"
step=$1
shift
securelevel
case "${step}" in
build)		[ $# -ge 1 ] && [ $# -le 2 ] || fail "usage: build TREE [KERNEL]"
		cmd_build "$@" ;;
kernel-diagnostic)	[ $# -eq 1 ] || fail "usage: kernel-diagnostic KERNEL"
		kernel_diagnostic "$@" ;;
module-dir)	[ $# -eq 1 ] || fail "usage: module-dir ROOT"
		module_dir "$1" ;;
install-module)	[ $# -eq 1 ] || fail "usage: install-module TREE"
		cmd_install_module "$@" ;;
configure-boot)	[ $# -eq 1 ] || fail "usage: configure-boot ROOT"
		cmd_configure_boot "$@" ;;
install-kernel)	[ $# -eq 1 ] || fail "usage: install-kernel FILE"
		cmd_install_kernel "$@" ;;
build-kernel)	[ $# -ge 1 ] || fail "usage: build-kernel OPTION..."
		cmd_build_kernel "$@" ;;
status)		[ $# -eq 1 ] || fail "usage: status OUT"; cmd_status "$@" ;;
run-tests)	[ $# -eq 2 ] || fail "usage: run-tests TREE OUT"
		cmd_run_tests "$@" ;;
python-tests)	[ $# -ge 3 ] || fail "usage: python-tests TREE OUT MODE [PKG_PATH]"
		cmd_python_tests "$@" ;;
save)		[ $# -eq 3 ] || fail "usage: save OUT DEV MAX_KIB"; cmd_save "$@" ;;
reboot-probe)	[ $# -eq 1 ] || fail "usage: reboot-probe TREE"
		cmd_reboot_probe "$@" ;;
*)		fail "unknown step '${step}'" ;;
esac
