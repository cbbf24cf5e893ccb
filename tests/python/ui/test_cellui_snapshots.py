"""Snapshot tests of cellui's screens (pytest-textual-snapshot).

Pinned 120x36 terminal, frozen clock (ages are fixed), no cursor blink, a
relative socket path (the banner and header read the same everywhere),
and the fake daemon for data.  Update with `pytest --snapshot-update` and
review the SVGs under __snapshots__/ before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cells.ui.screens.logs import LogScreen
from cells.ui.screens.plan import PlanScreen
from cells.ui.widgets.follow_log import FollowLog
from cells.ui.widgets.storage_tables import BackupTable
from cellui_fake_daemon import FROZEN_NOW, FakeDaemon, cell
from cellui_harness import RecordingUI, no_cursor_blink, table, wait_for
from textual.pilot import Pilot

SIZE = (120, 36)
SOCKET = "cellmgr.sock"

SnapCompare = Callable[..., bool]
RunBefore = Callable[[Pilot[Any]], Awaitable[None]]


@pytest.fixture
def here(sock_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(sock_dir)
    return sock_dir


@pytest.fixture
def daemon(here: Path) -> Iterator[FakeDaemon]:
    fake = FakeDaemon(SOCKET).start()
    yield fake
    fake.close()


def ui() -> RecordingUI:
    return RecordingUI(SOCKET, poll_interval=3600)


def loaded(then: RunBefore | None = None) -> RunBefore:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, RecordingUI)
        await wait_for(pilot, lambda: table(app).row_count > 0)
        no_cursor_blink(app)
        if then is not None:
            await then(pilot)
        no_cursor_blink(app)
        await pilot.pause()

    return run_before


def test_main_screen(daemon: FakeDaemon, snap_compare: SnapCompare) -> None:
    """All cells, the first one selected, its detail pane below."""
    assert snap_compare(ui(), terminal_size=SIZE, run_before=loaded())


def test_filter_and_search(daemon: FakeDaemon, snap_compare: SnapCompare) -> None:
    """Filter 'running' and search 'd': db and dns."""

    async def narrow(pilot: Pilot[Any]) -> None:
        await pilot.press("f", "slash", "d")

    assert snap_compare(ui(), terminal_size=SIZE, run_before=loaded(narrow))


def test_confirm_stop(daemon: FakeDaemon, snap_compare: SnapCompare) -> None:
    """Stopping web asks first."""

    async def stop_web(pilot: Pilot[Any]) -> None:
        await pilot.press("down", "down", "down", "down", "down", "x")

    assert snap_compare(ui(), terminal_size=SIZE, run_before=loaded(stop_web))


def test_plan_before_apply(daemon: FakeDaemon, snap_compare: SnapCompare) -> None:
    """Apply shows the plan and waits for y."""
    daemon.desired = {"proxy": cell("proxy", 7, state="created"),
                      "smtp": cell("smtp", 8, state="created", profile="medium")}  # fmt: skip

    async def plan(pilot: Pilot[Any]) -> None:
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, PlanScreen))

    assert snap_compare(ui(), terminal_size=SIZE, run_before=loaded(plan))


def test_volumes_and_backups(daemon: FakeDaemon, snap_compare: SnapCompare) -> None:
    async def storage(pilot: Pilot[Any]) -> None:
        await pilot.press("v")
        await wait_for(pilot, lambda: pilot.app.screen.query_one(BackupTable).row_count == 1)

    assert snap_compare(ui(), terminal_size=SIZE, run_before=loaded(storage))


def test_follow_logs_and_audit(daemon: FakeDaemon, snap_compare: SnapCompare) -> None:
    async def follow(pilot: Pilot[Any]) -> None:
        await pilot.press("down", "down", "down", "down", "down", "l")
        screen = pilot.app.screen
        assert isinstance(screen, LogScreen)
        log = screen.query_one(FollowLog)
        await wait_for(pilot, lambda: log.count == 2 and daemon.subscribed("log:web"))
        daemon.push("log", {"cell": "web", "time": FROZEN_NOW, "stream": "stderr",
                            "line": "warning: slow request"}, "log:web")  # fmt: skip
        daemon.push("audit", {"seq": 41, "time": FROZEN_NOW, "cell": 1, "target": 0,
                              "euid": 0, "scope": "network", "op": "bind",
                              "reason": "port-not-reserved"})  # fmt: skip
        await wait_for(pilot, lambda: log.count == 4)

    assert snap_compare(ui(), terminal_size=SIZE, run_before=loaded(follow))


def test_help(daemon: FakeDaemon, snap_compare: SnapCompare) -> None:
    async def help_screen(pilot: Pilot[Any]) -> None:
        await pilot.press("question_mark")

    assert snap_compare(ui(), terminal_size=SIZE, run_before=loaded(help_screen))


def test_daemon_unreachable(here: Path, snap_compare: SnapCompare) -> None:
    """No daemon: the red banner says where cellui looks and that it retries."""

    async def banner(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, RecordingUI)
        await wait_for(pilot, lambda: app.banner_state.kind == "down")
        no_cursor_blink(app)
        await pilot.pause()

    assert snap_compare(ui(), terminal_size=SIZE, run_before=banner)
