"""The boot-test harness without a kernel: parsing, verdicts, images, QEMU.

QEMU is replaced by a script on PATH that prints a scripted console, so
every way a boot can end (done, panic, ddb, hang, early exit) is judged
here; the real boots run in `make ktest`.
"""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import pytest

from ci.ktest import __main__ as cli
from ci.ktest import boot, image, results

GOOD = textwrap.dedent(
    """\
    [   1.0] NetBSD 10.99.12 (LAB) #0: Wed Dec  2 15:46:39 UTC 2026
    KTEST BEGIN test load=modctl
    [   4.7] secmodel_cell: denied process.signal to pid 96 (init)
    KTEST CASE abi PASS
    KTEST CASE unload PASS
    KTEST END 2 passed, 0 failed
    KTEST DONE 0
    """
)


def test_parse_counts_cases_and_failures() -> None:
    run = results.parse(GOOD)
    assert run.cases == {"abi": True, "unload": True}
    assert run.end == (2, 0)
    assert run.ok
    bad = GOOD.replace("CASE unload PASS", "CASE unload FAIL").replace(
        "2 passed, 0 failed", "1 passed, 1 failed"
    )
    bad = bad.replace("KTEST END", "KTEST FAILED unload: line 9: got EBUSY\nKTEST END")
    run = results.parse(bad)
    assert not run.ok
    assert run.failures == ["unload: line 9: got EBUSY"]


def test_a_run_without_its_end_line_or_cases_is_not_ok() -> None:
    assert not results.parse(GOOD.replace("KTEST END 2 passed, 0 failed\n", "")).ok
    assert not results.parse("KTEST END 0 passed, 0 failed\n").ok


def test_records_and_bench_figures() -> None:
    run = results.parse(
        "KTEST REC create ok 4\nKTEST HEX create 0a0b\nKTEST HEX create 0c0d\n"
        "KTEST REC destroy EBUSY 0\nKTEST BENCH kill0 812\n"
    )
    assert run.records["create"]["hex"] == "0a0b0c0d"
    assert run.records["destroy"]["result"] == "EBUSY"
    assert run.bench == {"kill0": 812}


@pytest.mark.parametrize(
    ("console", "status"),
    [
        (GOOD, "done"),
        ("KTEST BEGIN test\npanic: kernel diagnostic assertion failed\n", "panic"),
        ("fatal page fault in supervisor mode\n", "panic"),
        ("Stopped in pid 1.1 (init) at netbsd:breakpoint+0x5\ndb{0}> ", "panic"),
        ("KTEST BEGIN test\nKTEST CASE abi PASS\n", None),
    ],
)
def test_classify(console: str, status: str | None) -> None:
    assert boot.classify(console) == status


def test_qemu_is_tcg_and_never_reboots() -> None:
    argv = boot.qemu_argv(Path("b.iso"), Path("r.img"))
    assert argv[argv.index("-accel") + 1] == "tcg"
    assert "-no-reboot" in argv
    assert "-enable-kvm" not in argv
    assert "file=r.img,format=raw,if=ide" in argv


def test_grub_preloads_only_in_the_preload_mode() -> None:
    assert "knetbsd_module_elf /secmodel_cell.kmod" in image.grub_cfg(True)
    assert "knetbsd_module_elf" not in image.grub_cfg(False)
    assert "knetbsd /netbsd" in image.grub_cfg(False)


def test_spec_has_console_and_a_raw_disk_in_every_root() -> None:
    spec = image.spec_text()
    assert "console type=char mode=0600 device=netbsd,0,0" in spec
    assert spec.count("rwd0d type=char") == image.NROOTS
    assert "init type=file mode=0555" in spec
    assert image.conf_text("preload", "bench", 1000).splitlines() == [
        "load=preload",
        "mode=bench",
        "kmod=/secmodel_cell.kmod",
        "cells=1000",
    ]


def _fake_qemu(tmp: Path, script: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp / "bin"
    bindir.mkdir()
    exe = bindir / "qemu-system-x86_64"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.parametrize(
    ("script", "status"),
    [
        (
            "printf 'KTEST CASE abi PASS\\nKTEST END 1 passed, 0 failed\\n'\n"
            "printf 'KTEST DONE 0\\n'; sleep 30\n",
            "done",
        ),
        ("printf 'avail memory = 484 MB\\n'; exit 0\n", "exited"),
        ("printf 'panic: lockdebug\\n'; sleep 30\n", "panic"),
        ("printf 'KTEST BEGIN test\\n'; sleep 30\n", "timeout"),
    ],
)
def test_boot_ends_every_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str, status: str
) -> None:
    _fake_qemu(tmp_path, script, monkeypatch)
    result = boot.boot(tmp_path / "b.iso", tmp_path / "r.img", tmp_path / "c.log", timeout=3)
    assert result.status == status
    assert result.seconds < 10
    assert result.console  # the tail is there to print


def test_missing_inputs_say_what_to_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "missing_tools", lambda: [])
    rc = cli.main(["test", "--kernel", str(tmp_path / "none"), "--sys", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such kernel" in err[0]
    kernel = tmp_path / "netbsd"
    kernel.write_bytes(b"\x7fELF")
    rc = cli.main(["test", "--kernel", str(kernel), "--sys", str(tmp_path)])
    assert rc == 2
    assert "not a NetBSD sys/ tree" in capsys.readouterr().err


def test_missing_tools_name_the_packages(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "missing_tools", lambda: ["makefs", "qemu-system-x86"])
    assert cli.main(["test", "--kernel", "k", "--sys", "s"]) == 2
    assert "apt-get install makefs qemu-system-x86" in capsys.readouterr().err


@pytest.mark.skipif(not os.environ.get("NETBSD_SYS"), reason="NETBSD_SYS not set")
def test_cellktest_builds_freestanding(tmp_path: Path) -> None:
    from ci.ktest import build

    tree = build.Tree.find(os.environ["NETBSD_SYS"])
    exe = build.build_init(tree, tmp_path)
    data = exe.read_bytes()
    assert data[:4] == b"\x7fELF"
    assert b"NetBSD\x00" in data  # the version note the kernel insists on


@pytest.mark.skipif(not os.environ.get("NETBSD_SYS"), reason="NETBSD_SYS not set")
def test_cellktest_libc_flavour_against_netbsd_headers(tmp_path: Path) -> None:
    """The anita tier's build of the same body (kt_libc.c), syntax-checked.

    NetBSD's headers come from the tree; the few libc declarations from
    ci/qemu/tests/nbshim, as for cellprobe.c.
    """
    import shutil
    import subprocess

    from ci.ktest import build

    sys_dir = Path(os.environ["NETBSD_SYS"])
    inc = tmp_path / "inc"
    shutil.copytree(build.TOP / "ci" / "qemu" / "tests" / "nbshim", inc)
    (inc / "machine").symlink_to(sys_dir / "arch" / "amd64" / "include")
    (inc / "x86").symlink_to(sys_dir / "arch" / "x86" / "include")
    srcs = [build.TEST_DIR / f for f in ("cellktest.c", "kt_common.c", "kt_libc.c")]
    proc = subprocess.run(
        [
            "gcc",
            "-std=gnu99",
            "-fsyntax-only",
            "-Wall",
            "-Wextra",
            "-Wno-unused-parameter",
            "-Werror",
            "-nostdinc",
            "-D__NetBSD__",
            "-D_NETBSD_SOURCE",
            "-D__x86_64__",
            f"-I{inc}",
            f"-I{sys_dir}",
            f"-I{sys_dir.parent / 'common' / 'include'}",
            f"-I{build.KMOD_DIR / 'core'}",
            "-idirafter",
            build.gcc_include(),
            *map(str, srcs),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
