"""`cellctl supervise` on the sim: exit codes, output contract, log store, signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cells.supervisor import LogStore
from sup_helpers import dead

REPO = Path(__file__).resolve().parents[3]

Ctl = Callable[..., Any]


@pytest.fixture
def web(cellctl: Ctl, make_root: Callable[[str], Path]) -> Path:
    root = make_root("web")
    result = cellctl("create", "web", "--root", str(root))
    assert result.exit_code == 0, result.stderr
    return root


def _log_lines(state_dir: Path, name: str = "web") -> list[str]:
    return [r.line for r in LogStore(state_dir / "logs").tail(name, 1000)]


def test_clean_exit_is_status_0_and_output_goes_to_the_log_store(
    cellctl: Ctl, web: Path, state_dir: Path
) -> None:
    result = cellctl("supervise", "web", "--restart", "no", "--", "sh", "-c", "pwd; echo bye >&2")
    assert result.exit_code == 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("cellctl: web: running, pid ")
    assert lines[1] == "cellctl: web: exited with status 0"
    assert _log_lines(state_dir) == [str(web), "bye"]
    streams = [r.stream for r in LogStore(state_dir / "logs").tail("web", 10)]
    assert streams == ["stdout", "stderr"]


def test_failing_service_is_status_1_with_one_error_line(cellctl: Ctl, web: Path) -> None:
    result = cellctl("supervise", "web", "--restart", "no", "--", "sh", "-c", "exit 3")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "cellctl: error: service in cell web: exited with status 3"
    )


def test_bounded_restarts_then_gives_up(cellctl: Ctl, web: Path) -> None:
    result = cellctl(
        "supervise",
        "web",
        "--restart",
        "on-failure:2",
        "--backoff",
        "0.05",
        "0.1",
        "--",
        "sh",
        "-c",
        "exit 4",
    )
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[-1] == (
        "cellctl: error: service in cell web: exited with status 4; gave up after 2 restarts"
    )
    assert sum("restarting in" in line for line in lines) == 2


def test_rlimit_and_log_dir(cellctl: Ctl, web: Path, tmp_path: Path) -> None:
    result = cellctl(
        "supervise",
        "web",
        "--restart",
        "no",
        "--rlimit",
        "nofile=77",
        "--log-dir",
        str(tmp_path / "elsewhere"),
        "--",
        "sh",
        "-c",
        "ulimit -n",
    )
    assert result.exit_code == 0, result.stderr
    assert [r.line for r in LogStore(tmp_path / "elsewhere").tail("web", 5)] == ["77"]


def test_unknown_cell_is_one_line(cellctl: Ctl, web: Path) -> None:
    result = cellctl("supervise", "nosuch", "--", "true")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("cellctl: error: ")
    assert "nosuch" in result.stderr


def test_command_that_cannot_start_is_one_line(cellctl: Ctl, web: Path) -> None:
    result = cellctl("supervise", "web", "--restart", "always", "--", "no-such-command-xyz")
    assert result.exit_code == 1
    assert result.stderr == (
        "cellctl: error: cannot run no-such-command-xyz in cell web: No such file or directory\n"
    )


def test_unknown_user_is_one_line(cellctl: Ctl, web: Path) -> None:
    (web / "etc").mkdir()
    (web / "etc" / "passwd").write_text("www:*:80:80::/:/sbin/nologin\n")
    result = cellctl("supervise", "web", "--user", "nobody-here", "--", "true")
    assert result.exit_code == 1
    assert result.stderr == (
        "cellctl: error: service web in cell web: unknown user 'nobody-here' in "
        f"{web}/etc; add it to the cell's passwd or give a numeric uid\n"
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--restart", "sometimes", "--", "true"], "Invalid value for '--restart'"),
        (["--rlimit", "files=2", "--", "true"], "Invalid value for '--rlimit'"),
        (["--backoff", "5", "1", "--", "true"], "MAX must not be below INITIAL"),
        (["--stop-timeout", "-1", "--", "true"], "Invalid value for '--stop-timeout'"),
        (["--syslog-facility", "kern9", "--", "true"], "'kern9' is not one of daemon, user"),
        ([], "Missing argument 'COMMAND...'"),
    ],
)
def test_usage_errors_are_status_2(cellctl: Ctl, web: Path, args: list[str], fragment: str) -> None:
    result = cellctl("supervise", "web", *args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("cellctl: usage error: ")
    assert fragment in result.stderr


def _spawn_cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    full = dict(os.environ)
    full.update(env)
    full["PYTHONPATH"] = str(REPO / "python")
    return subprocess.Popen(
        [sys.executable, "-m", "cells.cli.ctl", "supervise", "web", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full,
    )


def _wait_for_log(state_dir: Path, line: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if line in _log_lines(state_dir):
                return
        except Exception:
            pass
        time.sleep(0.02)
    raise AssertionError(f"{line!r} never reached the log store")


def test_sigterm_stops_with_grace_then_kill_and_exits_0(
    sim_env: dict[str, str], web: Path, state_dir: Path, sim_kernel: Any
) -> None:
    script = 'trap "" TERM; sleep 60 & echo child $!; echo ready; while :; do sleep 0.05; done'
    proc = _spawn_cli(sim_env, "--stop-timeout", "0.5", "--", "sh", "-c", script)
    try:
        _wait_for_log(state_dir, "ready")
        assert sim_kernel.get("web").nprocs == 1
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert out == ""
    assert 0.5 <= took < 5
    lines = err.splitlines()
    pid = int(lines[0].rsplit(" ", 1)[1])
    assert lines[1:] == ["cellctl: web: stopping", "cellctl: web: stopped"]
    child = int(next(x for x in _log_lines(state_dir) if x.startswith("child ")).split()[1])
    assert dead(pid) and dead(child)
    assert sim_kernel.get("web").nprocs == 0
    sim_kernel.destroy("web")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP])
def test_sigint_and_sighup_stop_a_polite_service_quickly(
    sim_env: dict[str, str], web: Path, state_dir: Path, sig: int
) -> None:
    proc = _spawn_cli(sim_env, "--", "sh", "-c", "echo ready; exec sleep 60")
    try:
        _wait_for_log(state_dir, "ready")
        began = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=10)
        took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert took < 2
    assert err.splitlines()[-1] == "cellctl: web: stopped"
