"""The follow view of one cell: its service log and its kernel audit events,
fed by the daemon's `log:<cell>` and `audit` pushes.  Callers: cells.ui.app.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from cells.ui.link import LogEntry
from cells.ui.widgets.banner import ConnectionBanner
from cells.ui.widgets.follow_log import FollowLog

if TYPE_CHECKING:
    from cells.ui.app import CellUI


class LogScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", tooltip="back to the cells"),
        Binding("c", "clear", "Clear", tooltip="clear the view (the daemon keeps the log)"),
    ]

    DEFAULT_CSS = """
    LogScreen .title {
        height: 1;
        padding: 0 1;
        text-style: bold;
        background: $boost;
    }
    """

    def __init__(self, cell: str) -> None:
        super().__init__()
        self.cell = cell

    @property
    def ui(self) -> CellUI:
        return cast("CellUI", self.app)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield ConnectionBanner(self.ui.banner_state)
        yield Static(f"Logs and audit events of {self.cell}", classes="title")
        yield FollowLog(id="log")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.ui.link.follow(self.cell)

    def on_unmount(self) -> None:
        self.ui.link.unfollow(self.cell)

    def add(self, entries: Iterable[LogEntry]) -> None:
        self.query_one(FollowLog).add(e for e in entries if e.cell == self.cell)

    def action_clear(self) -> None:
        self.query_one(FollowLog).clear()
