"""cellui against a real `cellmgr daemon` on the sim backend.

The daemon runs in a subprocess with every path (config, state, cells,
backups, socket) in a temp dir.  Through the UI the test applies a
manifest (plan shown, then confirmed), starts and stops a cell and sees
its state change, follows its log, sees the daemon's refusal to back up a running cell,
backs it up once stopped, then kills the daemon, sees the banner,
starts it again and sees cellui reconnect.  Skips, naming what is
missing, when this tree has no `cellmgr daemon`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cells.ui.screens.logs import LogScreen
from cells.ui.screens.plan import PlanScreen
from cells.ui.widgets.banner import ConnectionBanner
from cells.ui.widgets.follow_log import FollowLog
from cellui_harness import RecordingUI, row_texts, table, wait_for

MANIFEST = """\
kind: Cell
name: web
profile: medium
ports: [8080]
service:
  command: ["sh", "-c", "echo web up; while sleep 0.2; do echo tick; done"]
  stop_timeout: 2s
---
kind: Cell
name: db
profile: high
ports: [5432]
"""


def cellmgr() -> list[str]:
    sibling = Path(sys.executable).with_name("cellmgr")
    return [str(sibling)] if sibling.exists() else [sys.executable, "-m", "cells.cli.mgr"]


@pytest.fixture(scope="module")
def daemon_available() -> None:
    try:
        probe = subprocess.run(
            [*cellmgr(), "daemon", "--help"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cellmgr daemon not available: {exc}")
    if probe.returncode != 0:
        why = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"cellmgr daemon not available in this tree: {why}")


class Daemon:
    """`cellmgr daemon` in a subprocess, on the sim backend, paths in `root`."""

    def __init__(self, root: Path, sock_dir: Path) -> None:
        self.socket = str(sock_dir / "cellmgr.sock")
        self.env = dict(
            os.environ,
            CELLS_BACKEND="sim",
            CELLS_CONFIG_DIR=str(root / "etc"),
            CELLS_STATE_DIR=str(root / "db"),
            CELLS_DIR=str(root / "cells"),
            CELLS_BACKUP_DIR=str(root / "backups"),
            CELLS_SOCKET=self.socket,
        )
        (root / "etc").mkdir(exist_ok=True)
        (root / "etc" / "cells.yaml").write_text(MANIFEST)
        self.log = root / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*cellmgr(), "daemon"], env=self.env, stdout=log, stderr=log,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 20
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"cellmgr daemon did not start:\n{self.log.read_text()}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        if os.path.exists(self.socket):
            os.unlink(self.socket)  # a killed daemon leaves it behind

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def daemon(daemon_available: None, tmp_path: Path, sock_dir: Path) -> Iterator[Daemon]:
    d = Daemon(tmp_path, sock_dir)
    d.start()
    yield d
    d.stop()
    d.kill()


def banner(app: RecordingUI) -> str:
    b = app.screen.query_one(ConnectionBanner)
    return str(b.render()) if b.display else ""


def log_text(log: FollowLog) -> str:
    return "\n".join(line.text for line in log.lines)


def state(app: RecordingUI, name: str) -> str:
    return row_texts(app).get(name, ["", "?"])[1]


def select(app: RecordingUI, name: str) -> None:
    t = table(app)
    t.move_cursor(row=list(row_texts(app)).index(name))


def test_apply_start_stop_backup_and_reconnect(daemon: Daemon) -> None:
    async def scenario() -> None:
        app = RecordingUI(daemon.socket, clock=time.time)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.link.connected, timeout=10)
            # apply: the plan first, then the cells exist
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen), timeout=10)
            await pilot.press("y")
            await wait_for(pilot, lambda: {"web", "db"} <= set(row_texts(app)), timeout=20)
            assert app.noted("apply: done"), app.notes
            # start web and see it run
            select(app, "web")
            await pilot.press("s")
            await wait_for(pilot, lambda: state(app, "web") == "running", timeout=20)
            # the follow view: the backlog and then lines pushed as they come
            await pilot.press("l")
            assert isinstance(app.screen, LogScreen)
            log = app.screen.query_one(FollowLog)
            await wait_for(pilot, lambda: "web up" in log_text(log), timeout=20)
            seen = log.count
            await wait_for(pilot, lambda: log.count > seen + 2, timeout=20)
            await pilot.press("escape")
            # the daemon refuses to back up a running cell: the error is shown
            await pilot.press("b")
            await wait_for(pilot, lambda: app.noted("backup web", "error"), timeout=20)
            # stop asks, then the cell stops
            await pilot.press("x", "y")
            await wait_for(pilot, lambda: state(app, "web") not in ("running", "stopping"), 20)
            # a backup of the stopped cell
            await pilot.press("b")
            await wait_for(pilot, lambda: app.noted("backup web"), timeout=20)
            assert app.noted("backup web: done"), app.notes
            # the daemon dies: banner; it comes back: reconnected
            daemon.kill()
            await wait_for(pilot, lambda: "unreachable" in banner(app), timeout=10)
            assert banner(app).startswith(
                f"cellmgr daemon unreachable at {daemon.socket}; retrying…"
            )
            daemon.start()
            await wait_for(pilot, lambda: "reconnected" in banner(app), timeout=20)
            await wait_for(pilot, lambda: {"web", "db"} <= set(row_texts(app)), timeout=10)
            await pilot.press("s")  # web again, on the new connection
            await wait_for(pilot, lambda: state(app, "web") == "running", timeout=20)

    asyncio.run(scenario())
