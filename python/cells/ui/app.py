"""The cellui application and the `cellui` console script.

`CellUI` owns the shared state (latest snapshot, banner) and routes what
the IO worker (`cells.ui.link.DaemonLink`, the app's only worker) posts:
snapshots to the main screen, lines to the follow view, replies and
errors to the screen that asked or to a notification.  Callers: the
`cellui` console script, tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import click
from textual.app import App, SuspendNotSupported
from textual.binding import Binding, BindingType

from cells.ipc.address import DEFAULT_SOCKET
from cells.ui.link import DaemonLink
from cells.ui.messages import (
    CellsChanged,
    Connected,
    Disconnected,
    Failed,
    LinesArrived,
    Replied,
    Request,
)
from cells.ui.model import Plan, Snapshot, parse_backups, parse_plan, parse_volumes
from cells.ui.screens.confirm import ConfirmScreen
from cells.ui.screens.help import HelpScreen
from cells.ui.screens.logs import LogScreen
from cells.ui.screens.main import MainScreen
from cells.ui.screens.plan import PlanScreen
from cells.ui.screens.storage import StorageScreen
from cells.ui.widgets.banner import (
    BannerState,
    ConnectionBanner,
    reconnected,
    unreachable,
)

RECONNECTED_BANNER_SECONDS = 4.0
#: Shortest time between two renders of the cell table (coalescing).
MIN_RENDER_INTERVAL = 0.1

ShellRunner = Callable[[Sequence[str], dict[str, str]], int]


def default_shell_argv(cell: str) -> list[str]:
    """`cellmgr shell CELL`, preferring the cellmgr installed next to us."""
    sibling = os.path.join(os.path.dirname(sys.executable), "cellmgr")
    exe = sibling if os.access(sibling, os.X_OK) else (shutil.which("cellmgr") or "cellmgr")
    return [exe, "shell", cell]


def describe_server(hello: dict[str, Any]) -> str:
    """ "cellmgr 0.1.0, sim backend, not enforcing" from the hello result; the
    sim backend enforces nothing, and the header says so."""
    parts = [f"cellmgr {hello.get('version', '?')}"]
    if hello.get("backend"):
        parts.append(f"{hello['backend']} backend")
    if hello.get("enforcing") is False:
        parts.append("not enforcing")
    return ", ".join(parts)


def run_foreground(argv: Sequence[str], env: dict[str, str]) -> int:
    return subprocess.call(list(argv), env=env)


class CellUI(App[None]):
    """The live view of the cells a `cellmgr daemon` manages."""

    TITLE = "cellui"
    # absolute, so subclasses defined elsewhere find it too
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        socket_path: str,
        *,
        clock: Callable[[], float] = time.time,
        backoff: tuple[float, float] = (0.25, 5.0),
        poll_interval: float = 1.0,
        shell_argv: Callable[[str], list[str]] = default_shell_argv,
        shell_runner: ShellRunner = run_foreground,
    ) -> None:
        super().__init__()
        self.socket_path = socket_path
        self._clock = clock
        self._shell_argv = shell_argv
        self._shell_runner = shell_runner
        self.snapshot: Snapshot | None = None
        self.banner_state = BannerState()
        self._last_render = 0.0
        self._render_pending = False
        self.link = DaemonLink(
            socket_path, self.post_message, backoff=backoff,
            poll_interval=poll_interval, clock=clock,
        )  # fmt: skip
        self.sub_title = socket_path

    def now(self) -> float:
        return self._clock()

    def on_mount(self) -> None:
        self.push_screen(MainScreen())
        self.run_worker(self.link.run(), name="daemon-link", group="io", exclusive=True)

    # -- what the worker posts ---------------------------------------------------

    def on_cells_changed(self, message: CellsChanged) -> None:
        # Render at most every MIN_RENDER_INTERVAL; the link keeps only the
        # newest snapshot meanwhile and posts nothing until we take it.
        wait = self._last_render + MIN_RENDER_INTERVAL - time.monotonic()
        if wait <= 0:
            self._render_cells()
        elif not self._render_pending:
            self._render_pending = True
            self.set_timer(wait, self._render_cells)

    def _render_cells(self) -> None:
        self._render_pending = False
        self._last_render = time.monotonic()
        self.snapshot = self.link.take_snapshot()
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.show_cells()

    def on_lines_arrived(self, message: LinesArrived) -> None:
        lines = self.link.take_lines()
        for screen in self.screen_stack:
            if isinstance(screen, LogScreen):
                screen.add(lines)

    def on_connected(self, message: Connected) -> None:
        self.sub_title = f"{message.path} ({describe_server(message.server)})"
        if message.reconnected:
            self._set_banner(reconnected(message.path))
            self.set_timer(RECONNECTED_BANNER_SECONDS, self._hide_reconnected)
        else:
            self._set_banner(BannerState())

    def on_disconnected(self, message: Disconnected) -> None:
        self._set_banner(unreachable(message.path, message.reason))

    def _hide_reconnected(self) -> None:
        if self.banner_state.kind == "reconnected":
            self._set_banner(BannerState())

    def _set_banner(self, state: BannerState) -> None:
        self.banner_state = state
        for screen in self.screen_stack:
            for banner in screen.query(ConnectionBanner):
                banner.show_state(state)

    def on_replied(self, message: Replied) -> None:
        request, result = message.request, message.result
        if request.kind == "plan":
            self._offer_apply(parse_plan(result))
        elif request.kind == "volumes":
            for screen in self._storage_screens():
                screen.show_volumes(parse_volumes(result))
        elif request.kind == "backups":
            for screen in self._storage_screens():
                screen.show_backups(parse_backups(result))
        elif request.kind == "apply":
            self._report_apply(result)
        else:
            self.notify(f"{request.label}: done", title="cellmgr")
            if request.kind == "backup":
                for screen in self._storage_screens():
                    screen.action_refresh()

    def _report_apply(self, result: Any) -> None:
        """Apply answers with one result per action; say if any failed."""
        actions = result.get("actions", []) if isinstance(result, dict) else []
        failed = [a for a in actions if isinstance(a, dict) and a.get("ok") is False]
        if failed:
            first = failed[0]
            self.notify(
                f"apply: {first.get('action', '?')} failed: {first.get('detail', '')}"
                f" ({len(failed)} of {len(actions)} actions failed)",
                title="failed",
                severity="error",
                timeout=8,
                markup=False,
            )
        else:
            n = len(actions)
            self.notify(f"apply: done ({n} action{'' if n == 1 else 's'})", title="cellmgr")

    def on_failed(self, message: Failed) -> None:
        self.notify(
            f"{message.request.label}: {message.message}",
            title="failed",
            severity="error",
            timeout=8,
            markup=False,
        )

    def _storage_screens(self) -> list[StorageScreen]:
        return [s for s in self.screen_stack if isinstance(s, StorageScreen)]

    # -- services for the screens ------------------------------------------------

    def send(self, request: Request) -> None:
        self.link.send(request)

    def confirm(self, question: str, detail: str, request: Request) -> None:
        """Send `request` only after the person says yes."""

        def answered(yes: bool | None) -> None:
            if yes:
                self.send(request)

        self.push_screen(ConfirmScreen(question, detail), answered)

    def _offer_apply(self, plan: Plan) -> None:
        """Show the plan; apply exactly that plan if the person agrees."""

        def answered(yes: bool | None) -> None:
            if yes:
                params: dict[str, Any] = {"cells": []}
                if plan.fingerprint:
                    params["fingerprint"] = plan.fingerprint
                self.send(Request("apply", params, "apply", "apply"))

        self.push_screen(PlanScreen(plan), answered)

    def open_logs(self, cell: str) -> None:
        self.push_screen(LogScreen(cell))

    def open_storage(self, cell: str | None) -> None:
        self.push_screen(StorageScreen(cell))

    def run_shell(self, cell: str) -> None:
        """Hand the terminal to `cellmgr shell CELL` and take it back."""
        argv = self._shell_argv(cell)
        env = dict(os.environ, CELLS_SOCKET=self.socket_path)
        try:
            with self.suspend():
                status = self._shell_runner(argv, env)
        except SuspendNotSupported:
            self.notify("shell: this terminal cannot be handed over", severity="error")
            return
        except OSError as exc:
            self.notify(f"shell: cannot run {argv[0]}: {exc.strerror}", severity="error")
            return
        self.notify(f"shell in {cell} exited with status {status}")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--socket",
    "socket_path",
    envvar="CELLS_SOCKET",
    default=DEFAULT_SOCKET,
    show_default=True,
    help="The cellmgr daemon's IPC socket (env CELLS_SOCKET); with --host, on that host.",
)
@click.option(
    "--host",
    metavar="[USER@]HOST[:PORT]",
    envvar="CELLS_HOST",
    help="Watch the daemon on HOST through SSH (env CELLS_HOST).",
)
@click.option(
    "--remote-command",
    metavar="CMD",
    envvar="CELLS_REMOTE_COMMAND",
    help="With --host: how to start cellmgr there ({prog} is its name; env CELLS_REMOTE_COMMAND).",
)
@click.version_option(package_name="cells", prog_name="cellui")
@click.pass_context
def main(
    ctx: click.Context, socket_path: str, host: str | None, remote_command: str | None
) -> None:
    """Watch and drive the cells of a running `cellmgr daemon`.

    \b
    Examples:
      cellui
      cellui --socket /tmp/cells/cellmgr.sock
      CELLS_SOCKET=/tmp/cells/cellmgr.sock cellui
      cellui --host admin@web1.example.org

    Press ? inside for the keys.
    """
    if host:
        from click.core import ParameterSource

        from cells.remote.ui import run_remote

        given = ctx.get_parameter_source("socket_path") == ParameterSource.COMMANDLINE
        raise SystemExit(run_remote(host, remote_command, socket_path if given else None))
    CellUI(socket_path).run()


if __name__ == "__main__":
    main()
