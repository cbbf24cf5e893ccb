"""The in-guest shell and C sources, checked as far as Linux allows.

Every shell file is parsed with `sh -n`; the boot configuration step of
cells-guest.sh (the modules.conf / rc.conf edits) really runs against a
scratch root; cellprobe.c is syntax-checked with warnings as errors against
the ABI header, and its portable operations are built and run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

QEMU = Path(__file__).resolve().parents[1]
REPO = QEMU.parents[1]
SCRIPT = QEMU / "guest" / "cells-guest.sh"
ATF = QEMU / "atf"
ABI_DIR = REPO / "kmod" / "secmodel_cell" / "core"
SHELL_FILES = [SCRIPT, ATF / "cells_common.subr", *sorted(ATF.glob("t_*.sh"))]


@pytest.mark.parametrize("path", SHELL_FILES, ids=lambda p: p.name)
def test_shell_syntax(path: Path) -> None:
    proc = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_shellcheck_clean() -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck missing: apt-get install shellcheck")
    # SC2015 (A && B || fail) is the intended idiom; SC1091: sourced at run time.
    proc = subprocess.run(
        ["shellcheck", "-s", "sh", "-e", "SC2015,SC1091", *map(str, SHELL_FILES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout


def test_atffile_and_kyuafile_list_every_program() -> None:
    programs = {p.stem for p in ATF.glob("t_*.sh")}
    atffile = (ATF / "Atffile").read_text()
    kyuafile = (ATF / "Kyuafile").read_text()
    assert atffile.startswith('Content-Type: application/X-atf-atffile; version="1"')
    assert {line[4:] for line in atffile.splitlines() if line.startswith("tp: ")} == programs
    for p in programs:
        assert f'atf_test_program{{name="{p}"}}' in kyuafile


def test_every_test_case_is_registered() -> None:
    for path in ATF.glob("t_*.sh"):
        text = path.read_text()
        declared = set()
        for line in text.splitlines():
            if line.startswith(("atf_test_case ", "tc ", "kc ")):
                declared.add(line.split()[1])
        added = {
            line.split()[1]
            for line in text.splitlines()
            if line.strip().startswith("atf_add_test_case ")
        }
        assert declared and declared == added, path.name


def test_t_kernel_runs_every_cellktest_case() -> None:
    """The anita tier runs the whole in-kernel body the boot-test tier runs."""
    src = (ATF.parents[2] / "tests" / "kernel" / "cellktest.c").read_text()
    cases = re.findall(r'^\t\{ "([a-z_]+)", t_[a-z_]+ \},$', src, re.M)
    text = (ATF / "t_kernel.sh").read_text()
    wrapped = [line.split()[1] for line in text.splitlines() if line.startswith("kc ")]
    assert len(cases) > 10
    assert wrapped == cases


def configure(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(SCRIPT), "configure-boot", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_configure_boot_on_a_fresh_etc(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    proc = configure(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "etc" / "modules.conf").read_text() == "secmodel_cell\n"
    assert (tmp_path / "etc" / "rc.conf").read_text() == "modules=YES\n"


def test_configure_boot_edits_and_is_idempotent(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "modules.conf").write_text("# boot-time modules\n#secmodel_cell\nnfs\n")
    (etc / "rc.conf").write_text(
        "if [ -r /etc/defaults/rc.conf ]; then\n\t. /etc/defaults/rc.conf\nfi\n"
        "rc_configured=YES\nmodules=NO\nsshd=YES\n  modules=maybe\n"
    )
    assert configure(tmp_path).returncode == 0
    once = ((etc / "modules.conf").read_text(), (etc / "rc.conf").read_text())
    assert once[0] == "# boot-time modules\n#secmodel_cell\nnfs\nsecmodel_cell\n"
    assert once[1] == (
        "if [ -r /etc/defaults/rc.conf ]; then\n\t. /etc/defaults/rc.conf\nfi\n"
        "rc_configured=YES\nsshd=YES\nmodules=YES\n"
    )
    assert configure(tmp_path).returncode == 0
    assert ((etc / "modules.conf").read_text(), (etc / "rc.conf").read_text()) == once
    assert not list(etc.glob("rc.conf.cells.*"))


def test_configure_boot_refuses_a_missing_etc(tmp_path: Path) -> None:
    proc = configure(tmp_path / "nowhere")
    assert proc.returncode != 0
    assert "is not a directory" in proc.stderr


def test_unknown_step_and_usage(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["sh", str(SCRIPT), "frobnicate"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1 and "unknown step 'frobnicate'" in proc.stderr
    proc = subprocess.run(
        ["sh", str(SCRIPT), "save", "/x"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1 and "usage: save OUT DEV MAX_KIB" in proc.stderr


def test_save_refuses_a_non_raw_disk(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"\0" * 1024)
    proc = subprocess.run(
        ["sh", str(SCRIPT), "save", str(tmp_path / "out"), str(disk), "100"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "is not a raw disk" in proc.stderr
    assert disk.read_bytes() == b"\0" * 1024


GCC = shutil.which("gcc")
needs_gcc = pytest.mark.skipif(GCC is None, reason="gcc not installed: apt-get install gcc")


@needs_gcc
def test_cellprobe_syntax_against_the_abi_header() -> None:
    proc = subprocess.run(
        [
            "gcc",
            "-std=gnu99",
            "-fsyntax-only",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-I",
            str(ABI_DIR),
            str(ATF / "cellprobe.c"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def cellprobe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if GCC is None:
        pytest.skip("gcc not installed: apt-get install gcc")
    out = tmp_path_factory.mktemp("probe") / "cellprobe"
    subprocess.run(
        [
            "gcc",
            "-std=gnu99",
            "-O1",
            "-Wall",
            "-Werror",
            "-I",
            str(ABI_DIR),
            "-o",
            str(out),
            str(ATF / "cellprobe.c"),
        ],
        check=True,
    )
    return out


def run_probe(probe: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(probe), *args], capture_output=True, text=True, check=False, timeout=30
    )


def test_portable_probes_run(cellprobe: Path) -> None:
    assert run_probe(cellprobe, "bind4", "0").stdout == "ok\n"
    assert run_probe(cellprobe, "forkloop", "200").stdout == "forks=200 failures=0\n"
    assert run_probe(cellprobe, "shm-private").stdout == "ok\n"


def test_address_probes_run(cellprobe: Path) -> None:
    assert run_probe(cellprobe, "bindaddr4", "127.0.0.1", "0").stdout == "ok\n"
    assert run_probe(cellprobe, "bindaddr4", "0.0.0.0", "0").stdout == "ok\n"
    assert run_probe(cellprobe, "connect4", "127.0.0.1", "9").stdout == "ok\n"
    # TEST-NET-1 is on no interface: the kernel's own refusal, by name.
    assert run_probe(cellprobe, "bindaddr4", "192.0.2.1", "0").stdout == "EADDRNOTAVAIL\n"
    got = run_probe(cellprobe, "bindaddr4", "::1", "0")
    assert got.returncode == 2 and "bad IPv4 address '::1'" in got.stderr
    got = run_probe(cellprobe, "connect6", "127.0.0.1", "9")
    assert got.returncode == 2 and "bad IPv6 address '127.0.0.1'" in got.stderr


def test_bind_reports_the_errno_name(cellprobe: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        got = run_probe(cellprobe, "bind4", str(port))
    assert got.returncode == 0 and got.stdout == "EADDRINUSE\n"


def test_probe_usage_errors(cellprobe: Path) -> None:
    got = run_probe(cellprobe)
    assert got.returncode == 2 and "usage: cellprobe" in got.stderr
    got = run_probe(cellprobe, "forkloop", "lots")
    assert got.returncode == 2 and "bad number 'lots'" in got.stderr
    got = run_probe(cellprobe, "see", "1")
    assert got.returncode == 2 and "needs NetBSD" in got.stderr


@pytest.mark.parametrize("path", sorted(ATF.glob("t_*.sh")), ids=lambda p: p.name)
def test_bodies_and_cleanups_load_the_helpers_first(path: Path) -> None:
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.endswith(("_body()", "_cleanup()")):
            assert lines[i + 1] == "{" and lines[i + 2] == "\tcommon", (path.name, line)
    assert "atf_get_srcdir" not in "\n".join(
        ln for ln in lines if not ln.startswith(("\t", "#"))
    ), "srcdir used outside a test case"


SHIM = Path(__file__).resolve().parent / "nbshim"


def test_cellprobe_netbsd_code_against_netbsd_headers(tmp_path: Path) -> None:
    """The NetBSD-only half of cellprobe.c, against a real NetBSD sys/ tree.

    NetBSD's kernel headers declare everything it uses from the kernel
    (sysctl, kinfo_proc2, ktrace, modctl, ptrace, mount, tmpfs_args); the
    few libc declarations come from the small shims in nbshim/.
    """
    sys_tree = os.environ.get("NETBSD_SYS", "")
    if not sys_tree:
        pytest.skip("set NETBSD_SYS=/path/to/netbsd/sys to check cellprobe's NetBSD code")
    sys_dir = Path(sys_tree)
    if not (sys_dir / "sys" / "sysctl.h").is_file():
        pytest.skip(f"NETBSD_SYS={sys_tree} has no sys/sysctl.h")
    if GCC is None:
        pytest.skip("gcc not installed: apt-get install gcc")
    inc = tmp_path / "inc"
    shutil.copytree(SHIM, inc)
    (inc / "machine").symlink_to(sys_dir / "arch" / "amd64" / "include")
    (inc / "x86").symlink_to(sys_dir / "arch" / "x86" / "include")
    proc = subprocess.run(
        [
            "gcc",
            "-std=gnu99",
            "-fsyntax-only",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-nostdinc",
            "-D__NetBSD__",
            "-D_NETBSD_SOURCE",
            "-D__x86_64__",
            "-I",
            str(inc),
            "-I",
            str(sys_dir),
            "-I",
            str(sys_dir.parent / "common" / "include"),
            "-I",
            str(ABI_DIR),
            str(ATF / "cellprobe.c"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_probe_drops_to_a_plain_user(cellprobe: Path) -> None:
    if os.geteuid() != 0:
        got = run_probe(cellprobe, "-u", "12345", "bind4", "0")
        assert got.returncode == 2 and "become uid 12345" in got.stderr
        return
    # As root: after -u, binding a privileged port is refused (kernel says EACCES),
    # unless this Linux lets everyone bind low ports.
    start = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")
    low = int(start.read_text()) if start.is_file() else 1024
    if low <= 1023:
        pytest.skip(f"ip_unprivileged_port_start={low}: low ports are open to all here")
    assert run_probe(cellprobe, "bind4", "0").stdout == "ok\n"
    got = run_probe(cellprobe, "-u", "12345", "bind4", "1023")
    assert got.returncode == 0 and got.stdout == "EACCES\n"


# --- the steps that depend on the running kernel, against fake NetBSD tools ---


def fake_bin(tmp_path: Path, tools: dict[str, str]) -> Path:
    d = tmp_path / "nbbin"
    d.mkdir(exist_ok=True)
    for name, body in tools.items():
        (d / name).write_text("#!/bin/sh\n" + body + "\n")
        (d / name).chmod(0o755)
    return d


def guest_step(
    tmp_path: Path, tools: dict[str, str], *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    d = fake_bin(tmp_path, tools)
    return subprocess.run(
        ["sh", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        env={"PATH": f"{d}:/usr/bin:/bin", **(env or {})},
    )


def uname(release: str) -> str:
    return f'case "$1" in -m) echo amd64 ;; -r) echo {release} ;; *) echo NetBSD ;; esac'


NO_SYSCTL = "exit 1"


@pytest.mark.parametrize(
    ("release", "want"),
    [
        ("10.1", "/stand/amd64/10.1/modules"),
        ("10.1_STABLE", "/stand/amd64/10.1/modules"),
        ("10.1_RC2", "/stand/amd64/10.1/modules"),
        ("9.4", "/stand/amd64/9.4/modules"),
        ("10.99.12", "/stand/amd64/10.99.12/modules"),
    ],
)
def test_module_dir_follows_kern_module_c(tmp_path: Path, release: str, want: str) -> None:
    proc = guest_step(tmp_path, {"sysctl": NO_SYSCTL, "uname": uname(release)}, "module-dir", "/r")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == f"/r{want}/secmodel_cell"


def test_module_dir_prefers_the_kernels_own_path(tmp_path: Path) -> None:
    sysctl = '[ "$2" = kern.module.path ] && { echo /stand/amd64/10.1/modules; exit 0; }; echo 1'
    proc = guest_step(tmp_path, {"sysctl": sysctl, "uname": uname("10.1_STABLE")}, "module-dir", "")
    assert proc.stdout.splitlines()[-1] == "/stand/amd64/10.1/modules/secmodel_cell"


RELEASE_GENERIC = """include "arch/amd64/conf/std.amd64"
options 	INCLUDE_CONFIG_FILE	# embed config file in kernel binary
#options 	DIAGNOSTIC	# inexpensive kernel consistency checks
options 	DDB		# in-kernel debugger
"""


@pytest.mark.parametrize(
    ("conf", "release", "want"),
    [
        (RELEASE_GENERIC, "10.1", "no"),
        (RELEASE_GENERIC + "options DIAGNOSTIC\n", "10.1", "yes"),
        (RELEASE_GENERIC + "options\tLOCKDEBUG, DIAGNOSTIC # both\n", "10.1", "yes"),
        (RELEASE_GENERIC + "options DIAGNOSTIC\nno options DIAGNOSTIC\n", "10.1", "no"),
        (RELEASE_GENERIC + "options DIAGNOSTIC_FOO\n", "10.1", "no"),
        ("", "10.99.12", "yes"),  # no embedded configuration: -current has it
        ("", "10.1", "no"),
    ],
    ids=["generic", "diagnostic", "list", "no-options", "prefix", "current", "release"],
)
def test_kernel_diagnostic_reads_the_kernel(
    tmp_path: Path, conf: str, release: str, want: str
) -> None:
    (tmp_path / "conf.txt").write_text(conf)
    kernel = tmp_path / "netbsd"
    kernel.write_bytes(b"\x7fELF")
    config = f'[ "$1" = -x ] && [ -s {tmp_path}/conf.txt ] && exec cat {tmp_path}/conf.txt; exit 1'
    proc = guest_step(
        tmp_path,
        {"config": config, "uname": uname(release), "sysctl": NO_SYSCTL},
        "kernel-diagnostic",
        str(kernel),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == want


@pytest.mark.parametrize(("extra", "want"), [("", "no"), ("options DIAGNOSTIC\n", "yes")])
def test_build_passes_the_kernels_diagnostic_to_make(tmp_path: Path, extra: str, want: str) -> None:
    tree = tmp_path / "tree"
    kmod = tree / "kmod" / "secmodel_cell"
    kmod.mkdir(parents=True)
    (tree / "ci" / "qemu" / "atf").mkdir(parents=True)
    (tree / "ci" / "qemu" / "atf" / "t_x.sh").write_text("#!/bin/sh\n")
    (tmp_path / "src-sys").mkdir()
    (tmp_path / "conf.txt").write_text(RELEASE_GENERIC + extra)
    kernel = tmp_path / "netbsd"
    kernel.write_bytes(b"\x7fELF")
    make = (
        f'echo "$*" >>{tmp_path}/make.log\n'
        f'case "$*" in *-V*) echo {kmod} ;; *) : >{kmod}/secmodel_cell.kmod ;; esac'
    )
    proc = guest_step(
        tmp_path,
        {
            "config": f"exec cat {tmp_path}/conf.txt",
            "uname": uname("10.1"),
            "sysctl": NO_SYSCTL,
            "make": make,
            "cc": "exit 0",
        },
        "build",
        str(tree),
        str(kernel),
        env={"CELLS_SYS": str(tmp_path / "src-sys")},
    )
    assert proc.returncode == 0, proc.stderr
    first = (tmp_path / "make.log").read_text().splitlines()[0]
    assert first == f"S={tmp_path / 'src-sys'} CELL_DIAGNOSTIC={want}"
    assert f"DIAGNOSTIC={want}" in proc.stdout


MODSTAT_HEAD = "echo 'NAME            CLASS      SOURCE     FLAG  REFS  SIZE     REQUIRES'"


@pytest.mark.parametrize(
    ("modstat", "ok"),
    [
        (MODSTAT_HEAD + "; exit 0", False),  # not loaded, yet exit status 0
        (MODSTAT_HEAD + "; echo 'secmodel_cellx  misc filesys - 0 1 -'; exit 0", False),
        (MODSTAT_HEAD + "; echo 'secmodel_cell   misc  filesys  -  0  48k  -'", True),
    ],
    ids=["header-only", "other-module", "loaded"],
)
def test_status_reads_modstat_not_its_exit_status(tmp_path: Path, modstat: str, ok: bool) -> None:
    proc = guest_step(
        tmp_path,
        {"modstat": modstat, "sysctl": "echo 1", "uname": uname("10.1")},
        "status",
        str(tmp_path / "out"),
    )
    assert (proc.returncode == 0) == ok, proc.stderr
    if not ok:
        assert "secmodel_cell is not loaded" in proc.stderr
    assert "--- modstat" in (tmp_path / "out" / "status.txt").read_text()
