"""A daemon killed with SIGKILL: the next daemon stops the services it left running."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cells.kernel import open_kernel
from cells.mgr.apply import Manager
from cells.mgr.host import SimHost
from cells.mgr.paths import Paths

_PY = str(Path(__file__).resolve().parents[3] / "python")


def _manifests(marker: str) -> str:
    return "".join(
        f"""\
---
kind: Cell
name: {name}
autostart: true
service:
  command: [sh, -c, "while :; do sleep 0.2; done", "{marker}-{name}"]
  stop_timeout: 1s
"""
        for name in ("db", "web")
    )


def _copies(tag: str) -> list[int]:
    """Live processes whose command line carries `tag` (the service shells)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if tag.encode() in argv and stat[stat.rfind(")") + 2] not in "ZX":
            found.append(int(entry.name))
    return found


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cells.cli.mgr", *args],
        env={**os.environ, "PYTHONPATH": _PY},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _rows() -> dict[str, dict[str, Any]]:
    out = _cli("status", "--json")
    assert out.returncode == 0, out.stderr
    return {r["name"]: r for r in json.loads(out.stdout)["cells"]}


def _until(cond: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in time: {what}")
        time.sleep(0.1)


def _daemon(log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as f:
        return subprocess.Popen(
            [sys.executable, "-m", "cells.cli.mgr", "daemon", "--interval", "0.1"],
            env={**os.environ, "PYTHONPATH": _PY},
            stdout=subprocess.DEVNULL,
            stderr=f,
        )


def test_a_restarted_daemon_stops_what_a_killed_one_left(paths: Paths, tmp_path: Path) -> None:
    marker = f"leftover-test-{os.getpid()}-{tmp_path.name}"
    (paths.config_dir / "cells.yaml").write_text(_manifests(marker))
    m = Manager(paths, open_kernel("sim", paths.state_dir), SimHost())
    assert m.apply().ok
    m.close()
    log = tmp_path / "daemon.log"
    names = ("db", "web")

    def running() -> bool:
        rows = _rows()
        return all(rows[n]["service"] == "running" and rows[n]["pid"] for n in names)

    first = _daemon(log)
    second: subprocess.Popen[bytes] | None = None
    old: dict[str, list[int]] = {}
    try:
        _until(running, "services of the first daemon running")
        old = {n: _copies(f"{marker}-{n}") for n in names}
        assert all(len(pids) == 1 for pids in old.values()), old
        first.kill()
        first.wait(10)
        assert all(len(_copies(f"{marker}-{n}")) == 1 for n in names)
        second = _daemon(log)
        _until(lambda: log.read_text().count("daemon ready") == 2, "second daemon ready")
        _until(running, "services of the second daemon running")
        rows = _rows()
        for n in names:
            assert _copies(f"{marker}-{n}") == [rows[n]["pid"]]
            assert rows[n]["pid"] not in old[n]
        text = log.read_text()
        for n in names:
            assert (
                f"cellmgr: stopped leftover service {n} (pid {old[n][0]}) "
                "from a previous supervisor" in text
            ), text
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0
        assert all(_copies(f"{marker}-{n}") == [] for n in names)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
        # Whatever a failed run left: the service shells lead their groups.
        for pid in _copies(f"{marker}-db") + _copies(f"{marker}-web"):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


def test_a_daemon_restart_loses_none_of_40_services(paths: Paths, tmp_path: Path) -> None:
    """kill -9 under 40 running services (not autostart), a new daemon, then
    `start` of two: all 40 run, each once, under the new daemon."""
    marker = f"restart40-{os.getpid()}-{tmp_path.name}"
    names = [f"c{i:02d}" for i in range(40)]
    (paths.config_dir / "cells.yaml").write_text(
        "".join(
            f"""\
---
kind: Cell
name: {name}
service:
  command: [sh, -c, "sleep 600 & wait", "{marker}-{name}"]
  stop_timeout: 1s
"""
            for name in names
        )
    )
    m = Manager(paths, open_kernel("sim", paths.state_dir), SimHost())
    assert m.apply().ok
    m.close()
    log = tmp_path / "daemon.log"

    def all_running() -> bool:
        rows = _rows()
        return all(rows[n]["service"] == "running" and rows[n]["pid"] for n in names)

    first = _daemon(log)
    second: subprocess.Popen[bytes] | None = None
    try:
        _until(lambda: log.read_text().count("daemon ready") == 1, "first daemon ready")
        started = _cli("start", "--all")
        assert started.returncode == 0, started.stderr
        _until(all_running, "40 services of the first daemon running", 60)
        old = {n: _copies(f"{marker}-{n}") for n in names}
        assert all(len(pids) == 1 for pids in old.values()), old
        first.kill()
        first.wait(10)
        second = _daemon(log)
        _until(lambda: log.read_text().count("daemon ready") == 2, "second daemon ready", 60)
        started = _cli("start", "c00", "c01")
        assert started.returncode == 0, started.stderr
        _until(all_running, "40 services running after the restart", 60)
        rows = _rows()
        for n in names:
            assert _copies(f"{marker}-{n}") == [rows[n]["pid"]], n
        text = log.read_text()
        assert text.count("starting its service again under this daemon") == 40, text
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
        assert all(_copies(f"{marker}-{n}") == [] for n in names)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
        for n in names:
            for pid in _copies(f"{marker}-{n}"):
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)


def test_detach_with_a_busy_metrics_port_fails_in_the_foreground(paths: Paths) -> None:
    import socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        result = _cli("daemon", "--detach", "--metrics-port", str(port))
    finally:
        busy.close()
    assert result.returncode == 1
    assert result.stderr == (
        f"cellmgr: error: metrics on 127.0.0.1:{port}: Address already in use; "
        "pick another --metrics-port\n"
    )
    assert not paths.socket.exists()


def test_detach_returns_once_the_daemon_is_ready(paths: Paths, tmp_path: Path) -> None:
    pidfile, log = tmp_path / "cellmgr.pid", tmp_path / "daemon.log"
    with log.open("wb") as err:  # the detached daemon keeps it: not a pipe to wait on
        code = subprocess.run(
            [
                sys.executable,
                "-m",
                "cells.cli.mgr",
                "daemon",
                "--detach",
                "--pidfile",
                str(pidfile),
            ],
            env={**os.environ, "PYTHONPATH": _PY},
            stdout=subprocess.DEVNULL,
            stderr=err,
            timeout=30,
            check=False,
        ).returncode
    assert code == 0, log.read_text()
    assert "daemon ready" in log.read_text()
    pid = int(pidfile.read_text())
    try:
        assert paths.socket.exists()  # ready means serving, not about to
        assert _cli("status").returncode == 0
    finally:
        os.kill(pid, signal.SIGTERM)
        _until(lambda: not _copies_pid(pid), "detached daemon gone")


def _copies_pid(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"
