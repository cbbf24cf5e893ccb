"""cellui behaviour against the fake daemon: live table, actions with
confirmation, plan/apply, backups, logs, shell, failures and reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from cells.ui.screens.confirm import ConfirmScreen
from cells.ui.screens.help import HelpScreen
from cells.ui.screens.logs import LogScreen
from cells.ui.screens.plan import PlanScreen
from cells.ui.screens.storage import StorageScreen
from cells.ui.widgets.banner import ConnectionBanner
from cells.ui.widgets.cell_table import CellTable
from cells.ui.widgets.detail import CellDetail
from cells.ui.widgets.follow_log import FollowLog
from cells.ui.widgets.storage_tables import BackupTable, VolumeTable
from cellui_fake_daemon import FROZEN_NOW, FakeDaemon, cell
from cellui_harness import RecordingUI, main_screen, row_texts, static_text, table, wait_for
from textual.widgets import Static


def run(coro: Any) -> None:
    asyncio.run(coro)


def banner_text(app: RecordingUI) -> str:
    banner = app.screen.query_one(ConnectionBanner)
    return str(banner.render()) if banner.display else ""


def test_table_shows_cells_and_updates_rows_in_place(
    fake: FakeDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    cleared: list[bool] = []
    original_clear = CellTable.clear

    def counting_clear(self: CellTable, columns: bool = False) -> CellTable:
        cleared.append(columns)
        return original_clear(self, columns)

    monkeypatch.setattr(CellTable, "clear", counting_clear)

    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            rows = row_texts(app)
            assert rows["web"] == ["web", "running", "high", "2", "3.0%", "2.9%", "58.0M",
                                   "1h02m", "healthy", "80,443"]  # fmt: skip
            assert rows["mail"][1] == "created"
            fake.update_cell("web", cpu_1s=55, health="unhealthy")
            await wait_for(pilot, lambda: row_texts(app)["web"][4] == "55.0%")
            assert row_texts(app)["web"][8] == "unhealthy"
            fake.update_cell("mail", state="running")
            await wait_for(pilot, lambda: row_texts(app)["mail"][1] == "running")
            # a new cell is appended, a removed one disappears
            fake._run(lambda: fake.cells.update(zz=cell("zz", 9)))
            fake.update_cell("zz")
            await wait_for(pilot, lambda: "zz" in row_texts(app))
            fake._run(lambda: fake.cells.pop("cache"))
            fake.update_cell("zz")
            await wait_for(pilot, lambda: "cache" not in row_texts(app))
            assert table(app).row_count == 6
            assert cleared == []  # all of that in place, never a rebuild
            # a cell that sorts before the others changes the order: rebuilt,
            # and the cursor stays on the cell it was on
            await pilot.press("down", "down")
            assert table(app).selected == "dns"
            fake._run(lambda: fake.cells.update(aaa=cell("aaa", 10)))
            fake.update_cell("aaa")
            await wait_for(pilot, lambda: "aaa" in row_texts(app))
            assert cleared == [False]
            assert list(row_texts(app))[:1] == ["aaa"] and table(app).selected == "dns"

    run(scenario())


def test_bursts_of_snapshots_are_coalesced(
    fake: FakeDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[int] = []
    original = CellTable.show

    def counting_show(self: CellTable, rows: Sequence[Any], now: float) -> None:
        rendered.append(len(rows))
        original(self, rows, now)

    monkeypatch.setattr(CellTable, "show", counting_show)

    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            rendered.clear()
            fake.push_snapshots(400, "web")
            await wait_for(pilot, lambda: row_texts(app)["web"][4] == "399.0%")
            await pilot.pause(0.2)
            # the last snapshot is shown, and far fewer renders than pushes happened
            assert row_texts(app)["web"][4] == "399.0%"
            print(f"\ncellui: 400 pushed snapshots rendered {len(rendered)} times")
            assert 1 <= len(rendered) < 50, len(rendered)

    run(scenario())


def test_detail_pane_follows_the_cursor(fake: FakeDaemon) -> None:
    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            detail = main_screen(app).query_one(CellDetail)
            assert "build" in static_text(detail)
            await pilot.press("down", "down", "down", "down", "down")
            await pilot.pause()
            text = static_text(detail)
            assert "web" in text and "80,443" in text and "1001" in text and "restarts" in text

    run(scenario())


def test_filter_search_and_sort_keys(fake: FakeDaemon) -> None:
    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            await pilot.press("f")  # running
            assert sorted(row_texts(app)) == ["cache", "db", "dns", "web"]
            await pilot.press("f")  # stopped
            assert list(row_texts(app)) == ["mail"]
            await pilot.press("f")  # failed
            assert list(row_texts(app)) == ["build", "dns"]
            await pilot.press("f")  # all again
            await pilot.press("slash", "d", "b")
            assert list(row_texts(app)) == ["db"]
            await pilot.press("escape")
            assert table(app).row_count == 6 and app.focused is table(app)
            await pilot.press("o")  # sort by state
            assert list(row_texts(app))[:1] == ["build"]
            await pilot.press("o")  # by cpu
            assert list(row_texts(app))[:2] == ["db", "web"]

    run(scenario())


def test_start_then_confirmed_stop(fake: FakeDaemon) -> None:
    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            await pilot.press("down", "down", "down", "down")  # mail (created: not running)
            assert table(app).selected == "mail"
            await pilot.press("s")
            await wait_for(pilot, lambda: row_texts(app)["mail"][1] == "running")
            assert ("cell.start", {"cells": ["mail"]}) in fake.calls
            assert app.noted("start mail: done")
            # stop asks first; "n" leaves the cell alone
            await pilot.press("x")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("n")
            await pilot.pause(0.1)
            assert "cell.stop" not in fake.methods()
            assert row_texts(app)["mail"][1] == "running"
            await pilot.press("x")
            await pilot.press("y")
            await wait_for(pilot, lambda: row_texts(app)["mail"][1] == "created")
            assert ("cell.stop", {"cells": ["mail"]}) in fake.calls
            await pilot.press("r", "escape")
            await pilot.pause(0.1)
            assert "cell.restart" not in fake.methods()

    run(scenario())


def test_apply_shows_the_plan_then_applies_it(fake: FakeDaemon) -> None:
    fake.desired = {"proxy": cell("proxy", 7, state="created")}

    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen))
            assert "proxy" in static_text(app.screen.query_one("#plan", Static))
            assert "apply" not in fake.methods()
            await pilot.press("y")
            await wait_for(pilot, lambda: "proxy" in row_texts(app))
            assert ("apply", {"cells": [], "fingerprint": "fp-1"}) in fake.calls
            assert app.noted("apply: done (1 action)")
            # nothing left to do: the plan says so and y does not apply
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen))
            assert "No changes" in static_text(app.screen.query_one("#plan", Static))
            await pilot.press("y")
            await pilot.pause(0.1)
            assert fake.methods().count("apply") == 1

    run(scenario())


def test_apply_of_a_plan_that_went_stale_is_refused(fake: FakeDaemon) -> None:
    fake.desired = {"proxy": cell("proxy", 7, state="created")}

    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen))
            # someone else plans meanwhile: the plan on screen is stale
            fake.plan_elsewhere()
            await pilot.press("y")
            await wait_for(pilot, lambda: app.noted("stale", "error"))
            assert app.noted("apply: the plan is stale; plan again", "error")
            assert "proxy" not in row_texts(app)

    run(scenario())


def test_apply_with_a_failed_action_says_which(fake: FakeDaemon) -> None:
    fake.desired = {"proxy": cell("proxy", 7, state="created"), "smtp": cell("smtp", 8)}
    fake.broken = {"smtp": "create cell 'smtp': a port is reserved by another cell"}

    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda: app.noted("apply:", "error"))
            assert app.noted(
                "apply: cell.create smtp failed: create cell 'smtp': a port is reserved"
                " by another cell (1 of 2 actions failed)",
                "error",
            )
            assert "proxy" in row_texts(app) and "smtp" not in row_texts(app)

    run(scenario())


def test_failed_action_shows_the_error_and_app_stays_usable(fake: FakeDaemon) -> None:
    fake.fail("cell.start", "busy", "cell web is being applied; try again when apply finishes")

    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            await pilot.press("down", "down", "down", "down")  # mail
            await pilot.press("s")
            await wait_for(pilot, lambda: app.noted("being applied", "error"))
            assert app.noted("start mail: cell web is being applied; try again", "error")
            await pilot.press("x", "y")
            await wait_for(pilot, lambda: app.noted("stop mail: done"))
            assert app.is_running

    run(scenario())


def test_storage_screen_backup_create_restore_delete(fake: FakeDaemon) -> None:
    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            await pilot.press("down")  # cache
            await pilot.press("v")
            assert isinstance(app.screen, StorageScreen)
            screen = app.screen
            backups = screen.query_one(BackupTable)
            await wait_for(pilot, lambda: screen.query_one(VolumeTable).row_count == 2)
            await wait_for(pilot, lambda: backups.row_count == 1)
            await pilot.press("c")
            await wait_for(pilot, lambda: backups.row_count == 2)
            assert ("backup.create", {"cell": "cache"}) in fake.calls
            # restore asks first
            await pilot.press("R")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await wait_for(pilot, lambda: "backup.restore" in fake.methods())
            assert ("backup.restore", {"id": "db-20261128T030000Z", "yes": True}) in fake.calls
            await pilot.press("down", "d")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("escape")
            await pilot.pause(0.1)
            assert "backup.delete" not in fake.methods()
            await pilot.press("d", "y")
            await wait_for(pilot, lambda: backups.row_count == 1)
            assert ("backup.delete", {"id": "cache-2", "yes": True}) in fake.calls
            fake.fail("backup.delete", "permission", "backups dir not writable")
            await pilot.press("d", "y")
            await wait_for(pilot, lambda: app.noted("backups dir not writable", "error"))
            await pilot.press("escape")
            assert not isinstance(app.screen, StorageScreen)

    run(scenario())


def test_follow_view_shows_logs_and_audit_of_the_cell(fake: FakeDaemon) -> None:
    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            await pilot.press("down", "down", "down", "down", "down", "l")
            assert isinstance(app.screen, LogScreen) and app.screen.cell == "web"
            log = app.screen.query_one(FollowLog)
            await wait_for(pilot, lambda: log.count == 2)  # the tail
            await wait_for(pilot, lambda: fake.subscribed("log:web"))
            fake.push("log", {"cell": "web", "time": FROZEN_NOW, "line": "GET /x 404"}, "log:web")
            fake.push("audit", {"seq": 17, "cell": 1, "scope": "process", "op": "signal",
                                "reason": "cross-cell", "euid": 0, "target": 2})  # fmt: skip
            fake.push("audit", {"seq": 18, "cell": 2, "op": "signal", "reason": "cross-cell"})
            fake.push("log", {"cell": "db", "line": "not for web"}, "log:db")
            await wait_for(pilot, lambda: log.count == 4)
            await pilot.pause(0.1)
            text = "\n".join(line.text for line in log.lines)
            assert "GET /x 404" in text
            assert "process: signal denied (cross-cell) euid=0 target=2 seq=17" in text
            assert "seq=18" not in text and "not for web" not in text
            await pilot.press("escape")
            assert not isinstance(app.screen, LogScreen)

    run(scenario())


def test_shell_suspends_and_runs_cellmgr_shell(fake: FakeDaemon) -> None:
    ran: list[tuple[list[str], str]] = []

    def runner(argv: Sequence[str], env: dict[str, str]) -> int:
        ran.append((list(argv), env["CELLS_SOCKET"]))
        return 3

    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60, shell_runner=runner)
        suspended: list[bool] = []

        @contextlib.contextmanager
        def suspend() -> Iterator[None]:
            suspended.append(True)
            yield

        app.suspend = suspend  # type: ignore[method-assign]  # headless cannot suspend
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            await pilot.press("down", "down", "down", "down")  # mail: not running
            await pilot.press("e")
            assert ran == [] and app.noted("shell: mail is not running", "error")
            await pilot.press("down", "e")  # web
            assert suspended == [True]
            assert ran[0][0][1:] == ["shell", "web"] and ran[0][0][0].endswith("cellmgr")
            assert ran[0][1] == fake.path
            assert app.noted("shell in web exited with status 3")
            await pilot.press("f")
            assert table(app).row_count == 4  # still responsive

    run(scenario())


def test_shell_command_that_cannot_run_is_reported(fake: FakeDaemon) -> None:
    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60, shell_argv=lambda c: ["/nonexistent/sh"])
        app.suspend = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            await pilot.press("down", "e")  # cache: running
            assert app.noted("shell: cannot run /nonexistent/sh: No such file or directory")

    run(scenario())


def test_shell_on_a_terminal_that_cannot_suspend(fake: FakeDaemon) -> None:
    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60, shell_runner=lambda a, e: 0)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            await pilot.press("e")  # build: failed, not running
            await pilot.press("down", "e")  # cache: running
            assert app.noted("shell: this terminal cannot be handed over", "error")

    run(scenario())


def test_daemon_gone_banner_then_reconnect(fake: FakeDaemon) -> None:
    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            assert banner_text(app) == ""
            fake.stop()
            await wait_for(pilot, lambda: "unreachable" in banner_text(app))
            assert banner_text(app).startswith(
                f"cellmgr daemon unreachable at {fake.path}; retrying…"
            )
            await pilot.press("s")  # an action while the daemon is away
            await wait_for(pilot, lambda: app.noted("unreachable", "error"))
            assert table(app).row_count == 6  # the last snapshot stays
            fake.cells["build"]["state"] = "created"  # changed while it was away
            fake.start()
            await wait_for(pilot, lambda: "reconnected" in banner_text(app))
            assert banner_text(app) == f"reconnected to cellmgr daemon at {fake.path}"
            await wait_for(pilot, lambda: row_texts(app)["build"][1] == "created")
            assert fake.connections == 2
            await pilot.press("s")
            await wait_for(pilot, lambda: app.noted("start build: done"))

    run(scenario())


def test_a_daemon_that_says_goodbye_is_reported_as_stopping(fake: FakeDaemon) -> None:
    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            assert fake.subscribed("daemon")
            fake.stop(farewell=True)
            await wait_for(pilot, lambda: "unreachable" in banner_text(app))
            # the first reason is the goodbye; later retries say why they fail
            assert app.disconnects[0] == "the daemon is stopping (daemon stops)"

    run(scenario())


def test_garbage_from_the_daemon_drops_the_connection_and_reconnects(fake: FakeDaemon) -> None:
    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            fake.send_garbage()
            # the daemon is still there, so the retry may come before a poll
            await wait_for(pilot, lambda: len(app.disconnects) == 1)
            await wait_for(pilot, lambda: "reconnected" in banner_text(app))
            assert fake.connections == 2 and app.is_running

    run(scenario())


def test_reconnected_banner_goes_away(fake: FakeDaemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cells.ui.app.RECONNECTED_BANNER_SECONDS", 0.3)

    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            fake.stop()
            await wait_for(pilot, lambda: "unreachable" in banner_text(app))
            fake.start()
            await wait_for(pilot, lambda: "reconnected" in banner_text(app))
            await wait_for(pilot, lambda: banner_text(app) == "")

    run(scenario())


def test_starts_without_a_daemon_and_connects_later(sock_dir: Any) -> None:
    path = str(sock_dir / "cellmgr.sock")

    async def scenario() -> None:
        app = RecordingUI(path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: "unreachable" in banner_text(app))
            assert "No such file or directory" in banner_text(app)
            assert "start it with 'cellmgr daemon'" in banner_text(app)
            daemon = FakeDaemon(path).start()
            try:
                await wait_for(pilot, lambda: table(app).row_count == 6, timeout=5)
            finally:
                daemon.close()

    run(scenario())


def test_a_refused_hello_is_shown_in_the_banner(fake: FakeDaemon) -> None:
    fake.fail("hello", "permission", "only root or the socket's owner may use the socket")

    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: "permission" in banner_text(app))
            assert banner_text(app).endswith(
                "(permission: only root or the socket's owner may use the socket)"
            )
            assert table(app).row_count == 0 and app.is_running

    run(scenario())


def test_protocol_version_mismatch_is_reported(fake: FakeDaemon) -> None:
    fake.protocol = 2

    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: "protocol" in banner_text(app))
            assert "protocol version 2 not supported" in banner_text(app)
            assert app.is_running

    run(scenario())


def test_polls_status_when_the_daemon_pushes_nothing(fake: FakeDaemon) -> None:
    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=0.1)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: table(app).row_count == 6)
            fake._run(lambda: fake.cells["db"].update(procs=77))  # changed without a push
            await wait_for(pilot, lambda: row_texts(app)["db"][3] == "77")

    run(scenario())


def test_help_screen_lists_the_keys(fake: FakeDaemon) -> None:
    async def scenario() -> None:
        app = RecordingUI(fake.path, poll_interval=60)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            text = static_text(app.screen.query_one(Static))
            for words in (
                "restart the selected cell (asks first)",
                "restore the selected backup",
                "back up the cell picked",
                "search names",
                "this help",
            ):
                assert words in text
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)

    run(scenario())


def test_first_table_of_200_cells(sock_dir: Any) -> None:
    """All 200 rows arrive with their values; the time is printed, never asserted."""
    cells = [cell(f"cell{i:03d}", i + 1, ports=(8000 + i,)) for i in range(200)]
    daemon = FakeDaemon(str(sock_dir / "cellmgr.sock"), cells).start()
    try:

        async def scenario() -> float:
            t0 = time.perf_counter()
            app = RecordingUI(daemon.path, poll_interval=60)
            async with app.run_test(size=(120, 36)) as pilot:
                await wait_for(pilot, lambda: table(app).row_count == 200, timeout=10)
                elapsed = time.perf_counter() - t0
                assert row_texts(app)["cell199"][9] == "8199"
            return elapsed

        elapsed = asyncio.run(scenario())
    finally:
        daemon.close()
    print(f"\ncellui: first table of 200 cells after {elapsed * 1000:.0f} ms")


def test_cli_socket_option_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from cells.ui import app as app_module
    from click.testing import CliRunner

    seen: list[str] = []
    monkeypatch.setattr(app_module.CellUI, "run", lambda self: seen.append(self.socket_path))
    runner = CliRunner()
    assert runner.invoke(app_module.main, []).exit_code == 0
    assert runner.invoke(app_module.main, ["--socket", "/tmp/x.sock"]).exit_code == 0
    env = {"CELLS_SOCKET": "/tmp/env.sock"}
    assert runner.invoke(app_module.main, [], env=env).exit_code == 0
    assert seen == ["/var/run/cells/cellmgr.sock", "/tmp/x.sock", "/tmp/env.sock"]
    usage = runner.invoke(app_module.main, ["--help"])
    assert usage.exit_code == 0 and "CELLS_SOCKET" in usage.output
    bad = runner.invoke(app_module.main, ["--bogus"])
    assert bad.exit_code == 2 and "No such option" in bad.output


def test_header_says_when_the_backend_enforces_nothing() -> None:
    from cells.ui.app import describe_server

    sim = {"version": "0.1.0", "backend": "sim", "enforcing": False}
    assert describe_server(sim) == "cellmgr 0.1.0, sim backend, not enforcing"
    real = {"version": "0.1.0", "backend": "netbsd", "enforcing": True}
    assert describe_server(real) == "cellmgr 0.1.0, netbsd backend"
    assert describe_server({}) == "cellmgr ?"
