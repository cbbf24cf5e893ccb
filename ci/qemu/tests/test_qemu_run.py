"""The whole harness against a fake anita: plan, steps, results, exit status.

No QEMU runs here: the fake `anita` module (tests/fakes.py) records what it
is asked and answers like a guest, so everything on the host side of the
console -- the images, the order of boots and commands, the scratch disk
read-back, the verdict and the exit status -- is exercised for real.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ci.qemu import config, run
from ci.qemu.errors import HarnessError
from ci.qemu.tests.fakes import (
    PASSING_TPS,
    Guest,
    installer_anita,
    make_release,
    unrelated_anita,
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "kmod" / "secmodel_cell").mkdir(parents=True)
    (root / "kmod" / "secmodel_cell" / "Makefile").write_text("KMOD=secmodel_cell\n")
    return root


@pytest.fixture
def guest(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Guest:
    g = Guest()
    monkeypatch.setitem(sys.modules, "anita", installer_anita(g))
    # anita's install ISO tool (its make_iso needs genisoimage or mkisofs)
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "mkisofs").write_text("#!/bin/sh\nexit 0\n")
    (tools / "mkisofs").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ.get('PATH', '')}")
    return g


def argv(tree: Path, tmp_path: Path, *extra: str) -> list[str]:
    release = tmp_path / "NetBSD-10.1"
    if not release.exists():
        make_release(release)
    return [
        "--tree",
        str(tree),
        "--sets",
        str(release),
        "--work-dir",
        str(tmp_path / "work"),
        "--accel",
        "tcg",
        "--image",
        "tar",
        "--python-tests",
        "off",
        *extra,
    ]


def test_dry_run_prints_the_plan(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argv(tree, tmp_path)
    del args[2:4]  # no --sets: the CDN
    assert run.main([*args, "--dry-run", "--release", ""]) == 0
    out = capsys.readouterr().out
    assert "distribution: https://cdn.netbsd.org/pub/NetBSD/NetBSD-10.1/amd64/" in out
    assert "qemu args (install and boots): -accel tcg,thread=multi -smp 2" in out
    assert "-nic none" in out
    assert "boot 2 [reboot-probe, 720 s]" in out


def test_a_passing_run(
    tree: Path, tmp_path: Path, guest: Guest, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run.main(argv(tree, tmp_path)) == 0
    out = capsys.readouterr().out
    assert "atf: 2 passed, 0 failed" in out and "result: PASS" in out
    assert "reboot-probe: EPERM" in out
    assert "guest: kern.securelevel=1" in out
    assert guest.halts == 2
    # install once (persistent), boot 1 persistent, boot 2 on a snapshot
    assert [i["persist"] for i in guest.instances] == [True, True, False]
    assert [Path(i["structured_log_file"]).name for i in guest.instances] == [
        "anita-install.log",
        "anita-boot1.log",
        "anita-boot2.log",
    ]
    assert all(i["vmm"] == "qemu" and i["image_format"] == "sparse" for i in guest.instances)
    assert guest.instances[0]["vmm_args"] == ["-accel", "tcg,thread=multi", "-smp", "2"]
    assert guest.instances[0]["dist"] == (
        "dist",
        f"{tmp_path / 'NetBSD-10.1' / 'amd64'}/",
        config.SETS,
    )
    assert len(guest.boots) == 2 and guest.boots[0] == guest.boots[1]
    assert any("project.tar" in a for a in guest.boots[0])
    steps = [c.split()[2] if c.startswith("sh ") else "unpack" for c in guest.commands]
    assert steps == [
        "unpack",
        "build",
        "install-module",
        "configure-boot",
        "status",
        "run-tests",
        "save",
        "reboot-probe",
    ]
    run_dir = next((tmp_path / "work" / "10.1-amd64").glob("run-*"))
    assert (run_dir / "steps.json").is_file()
    assert (run_dir / "results" / "cells-results" / "atf.tps").read_text() == PASSING_TPS
    assert "reboot-probe: EPERM" in (run_dir / "console.log").read_text()
    assert (tmp_path / "work" / "10.1-amd64" / "base" / "wd0.img").is_file()
    assert (tmp_path / "work" / "10.1-amd64" / "base" / "installed.ok").is_file()


def test_a_half_finished_install_is_redone(tree: Path, tmp_path: Path, guest: Guest) -> None:
    base = tmp_path / "work" / "10.1-amd64" / "base"
    base.mkdir(parents=True)
    (base / "wd0.img").write_bytes(b"half")  # left by a killed install, no marker
    assert run.main(argv(tree, tmp_path)) == 0
    assert (base / "wd0.img").read_bytes() != b"half"
    (base / "wd0.img").write_bytes(b"kept")  # marked installed now: reused
    assert run.main(argv(tree, tmp_path)) == 0
    assert (base / "wd0.img").read_bytes() == b"kept"


def test_failing_tests_exit_1(
    tree: Path, tmp_path: Path, guest: Guest, capsys: pytest.CaptureFixture[str]
) -> None:
    guest.tps = PASSING_TPS.replace(
        "cross_signal, passed", "cross_signal, failed, got 'ok', want 'EPERM'"
    )
    guest.atf_status = 1
    assert run.main(argv(tree, tmp_path)) == 1
    out = capsys.readouterr().out
    assert "FAIL t_isolation:cross_signal: got 'ok', want 'EPERM'" in out
    assert "result: FAIL" in out


def test_an_allowed_reboot_fails_the_run(
    tree: Path, tmp_path: Path, guest: Guest, capsys: pytest.CaptureFixture[str]
) -> None:
    guest.reboot_answer = "halted"
    assert run.main(argv(tree, tmp_path)) == 1
    assert "reboot-probe: FAIL" in capsys.readouterr().out


def test_an_unexpected_reboot_errno_fails_but_still_halts(
    tree: Path, tmp_path: Path, guest: Guest, capsys: pytest.CaptureFixture[str]
) -> None:
    guest.reboot_answer = "EINVAL"
    assert run.main(argv(tree, tmp_path)) == 1
    assert "reboot-probe: FAIL (EINVAL)" in capsys.readouterr().out
    assert guest.halts == 2


def test_a_failed_build_is_one_line_exit_2(
    tree: Path, tmp_path: Path, guest: Guest, capsys: pytest.CaptureFixture[str]
) -> None:
    guest.status_for["cells-guest.sh build "] = 1
    assert run.main(argv(tree, tmp_path)) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("ci/qemu: guest step 'build' failed (exit 1)")
    assert not any("run-tests" in c for c in guest.commands)


def test_a_hung_step_is_killed(
    tree: Path,
    tmp_path: Path,
    guest: Guest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    anita = sys.modules["anita"]
    original = anita.Anita.shell_cmd

    def hang(self: object, cmd: str, timeout: float = -1) -> int:
        if "run-tests" in cmd:
            time.sleep(60)
        return int(original(self, cmd, timeout))

    monkeypatch.setattr(anita.Anita, "shell_cmd", hang)
    monkeypatch.setitem(config.BASE_LIMITS, "tests", 0.1)  # x6 under TCG: 0.6 s
    start = time.monotonic()
    assert run.main(argv(tree, tmp_path)) == 2
    assert time.monotonic() - start < 20
    err = capsys.readouterr().err
    assert "step 'tests' exceeded its limit of 0.6 s" in err
    run_dir = next((tmp_path / "work" / "10.1-amd64").glob("run-*"))
    assert '"status": "timeout"' in (run_dir / "steps.json").read_text()


class TIMEOUT(Exception):
    """Stands in for pexpect.exceptions.TIMEOUT and its many-line message."""


TIMEOUT.__module__ = "pexpect.exceptions"
PEXPECT_MESSAGE = (
    "Timeout exceeded.\n<pexpect.pty_spawn.spawn object at 0x7f>\n"
    "command: /usr/bin/qemu-system-x86_64\nargs: [...]\nbuffer (last 100 chars): ''"
)


def steps_of(tmp_path: Path) -> list[dict[str, Any]]:
    import json

    run_dir = next((tmp_path / "work" / "10.1-amd64").glob("run-*"))
    records: list[dict[str, Any]] = json.loads((run_dir / "steps.json").read_text())
    return records


def test_a_guest_command_times_out_on_the_step_timer_not_pexpect(
    tree: Path,
    tmp_path: Path,
    guest: Guest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    anita = sys.modules["anita"]
    original = anita.Anita.shell_cmd
    given: list[float] = []

    def like_pexpect(self: object, cmd: str, timeout: float = -1) -> int:
        if "run-tests" in cmd:  # a guest that never answers: pexpect gives up at timeout
            given.append(timeout)
            time.sleep(timeout)
            raise TIMEOUT(PEXPECT_MESSAGE)
        return int(original(self, cmd, timeout))

    monkeypatch.setattr(anita.Anita, "shell_cmd", like_pexpect)
    monkeypatch.setitem(config.BASE_LIMITS, "tests", 0.1)  # x6 under TCG: 0.6 s
    assert run.main(argv(tree, tmp_path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("ci/qemu: step 'tests' exceeded its limit of 0.6 s")
    assert given and given[0] > 0.6  # the console waits longer than the step may
    assert [r["status"] for r in steps_of(tmp_path) if r["name"] == "tests"] == ["timeout"]


def test_anitas_own_timeout_is_one_line_naming_the_step(
    tree: Path,
    tmp_path: Path,
    guest: Guest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    anita = sys.modules["anita"]

    def no_login_prompt(self: object, vmm_args: list[str] | None = None) -> None:
        raise TIMEOUT(PEXPECT_MESSAGE)

    monkeypatch.setattr(anita.Anita, "boot", no_login_prompt)
    assert run.main(argv(tree, tmp_path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("ci/qemu: step 'boot1' timeout: TIMEOUT: Timeout exceeded.;")
    assert [r["status"] for r in steps_of(tmp_path) if r["name"] == "boot1"] == ["timeout"]


def test_what_anita_runs_on_our_stdout_stays_out_of_the_summary(
    tree: Path,
    tmp_path: Path,
    guest: Guest,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    import functools
    import subprocess

    anita = sys.modules["anita"]
    original = anita.Anita.__init__

    @functools.wraps(original)  # keeps the signature the harness checks
    def init(self: object, *args: Any, **kwargs: Any) -> None:
        # anita runs "qemu-system-x86_64 --version" with our file descriptors
        subprocess.run(["sh", "-c", "echo QEMU emulator version 7.2.22"], check=True)
        print("Downloading sets...")
        original(self, *args, **kwargs)

    monkeypatch.setattr(anita.Anita, "__init__", init)
    assert run.main(argv(tree, tmp_path)) == 0
    out, err = capfd.readouterr()
    assert "QEMU emulator version" not in out and "Downloading" not in out
    assert "QEMU emulator version" in err
    assert "result: PASS" in out


def test_the_unrelated_anita_stops_the_run(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "anita", unrelated_anita())
    assert run.main(argv(tree, tmp_path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "unrelated project" in err[-1]
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kernel", "/no/such/kernel"], "--kernel /no/such/kernel: no such file"),
        (["--sets", "/no/such/dir"], "is not a directory"),
        (["--release", "x.y"], "is not a NetBSD release number"),
    ],
)
def test_bad_input_is_one_line(
    tree: Path, tmp_path: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run.main([*argv(tree, tmp_path), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1]


def test_tree_must_hold_the_module(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(argv(tmp_path, tmp_path)) == 2
    assert "no kmod/secmodel_cell" in capsys.readouterr().err


def test_a_kernel_the_sets_provide_is_fetched(tmp_path: Path) -> None:
    src = tmp_path / "netbsd-DIAGNOSTIC.gz"
    src.write_bytes(b"kernel bytes")
    (tmp_path / "run").mkdir()
    got = run.fetch(src.as_uri(), tmp_path / "run")
    assert got == tmp_path / "run" / "netbsd-DIAGNOSTIC.gz"
    assert got.read_bytes() == b"kernel bytes"
    with pytest.raises(HarnessError, match="cannot fetch"):
        run.fetch((tmp_path / "missing.gz").as_uri(), tmp_path / "run")


def test_a_kernel_file_travels_on_the_image(tree: Path, tmp_path: Path, guest: Guest) -> None:
    kernel = tmp_path / "netbsd-DIAGNOSTIC.gz"
    kernel.write_bytes(b"kernel")
    assert run.main([*argv(tree, tmp_path), "--kernel", str(kernel)]) == 0
    assert (
        "sh /usr/cells/ci/qemu/guest/cells-guest.sh install-kernel"
        " /usr/cells/.cells-kernel/netbsd-DIAGNOSTIC.gz"
    ) in guest.commands
    run_dir = next((tmp_path / "work" / "10.1-amd64").glob("run-*"))
    import tarfile

    with tarfile.open(run_dir / "project.tar") as tar:
        assert ".cells-kernel/netbsd-DIAGNOSTIC.gz" in tar.getnames()


def test_a_guest_panic_ends_the_run_at_once(
    tree: Path,
    tmp_path: Path,
    guest: Guest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    anita = sys.modules["anita"]
    original = anita.Anita.shell_cmd

    def panics(self: Any, cmd: str, timeout: float = -1) -> int:
        if "run-tests" in cmd:
            self.unstructured_log_f.write(b"[ 99.5] panic: cell: bad handle 7\r\n")
        return int(original(self, cmd, timeout))

    monkeypatch.setattr(anita.Anita, "shell_cmd", panics)
    assert run.main(argv(tree, tmp_path)) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("ci/qemu: the guest kernel panicked: panic: cell: bad handle 7")
    assert not any(" save " in c for c in guest.commands)
