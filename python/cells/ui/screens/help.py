"""The help screen on `?`: every key of every screen, read from the
screens' own BINDINGS so it cannot drift.  Callers: cells.ui.app.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from cells.ui.screens.logs import LogScreen
from cells.ui.screens.main import MainScreen
from cells.ui.screens.storage import StorageScreen

_SCREENS: tuple[tuple[str, type[Screen[None]]], ...] = (
    ("Cells (main screen)", MainScreen),
    ("Volumes and backups (v)", StorageScreen),
    ("Logs and audit events (l)", LogScreen),
)

_GLOBAL = (("?", "this help"), ("q", "quit"), ("ctrl+p", "command palette"))


def _key_name(key: str) -> str:
    return {"slash": "/", "escape": "esc"}.get(key, key)


def _rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
    rows = []
    for b in bindings:
        if isinstance(b, Binding):
            keys = ", ".join(_key_name(k.strip()) for k in b.key.split(","))
            rows.append((keys, b.tooltip or b.description or b.action))
    return rows


def help_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", justify="right")
    table.add_column()
    for title, screen in _SCREENS:
        table.add_row("", f"[bold]{title}[/bold]")
        for key, what in _rows(list(screen.BINDINGS)):
            table.add_row(key, what)
        table.add_row("", "")
    table.add_row("", "[bold]Everywhere[/bold]")
    for key, what in _GLOBAL:
        table.add_row(key, what)
    table.add_row("", "")
    table.add_row("", "Destructive actions (stop, restart, apply, restore, delete) ask first.")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "app.pop_screen", "Close")
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 80;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(help_table())
