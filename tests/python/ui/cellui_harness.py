"""Shared helpers of the cellui tests: a recording app and waiting."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

from cells.ui.app import CellUI
from cells.ui.messages import Disconnected
from cells.ui.screens.main import MainScreen
from cells.ui.widgets.cell_table import CellTable
from cellui_fake_daemon import FROZEN_NOW
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, Static


class RecordingUI(CellUI):
    """CellUI that remembers every notification and disconnect reason."""

    def __init__(self, socket_path: str, **kwargs: Any) -> None:
        kwargs.setdefault("clock", lambda: FROZEN_NOW)
        kwargs.setdefault("backoff", (0.05, 0.2))
        super().__init__(socket_path, **kwargs)
        self.notes: list[tuple[str, str]] = []
        self.disconnects: list[str] = []

    def on_disconnected(self, message: Disconnected) -> None:
        self.disconnects.append(message.reason)
        super().on_disconnected(message)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        self.notes.append((str(severity), message))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def noted(self, text: str, severity: str | None = None) -> bool:
        return any(text in m and severity in (None, s) for s, m in self.notes)


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until `predicate()` holds; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate.__doc__ or predicate}")
        await pilot.pause(0.02)


def main_screen(app: CellUI) -> MainScreen:
    screen = app.screen_stack[1] if len(app.screen_stack) > 1 else app.screen
    assert isinstance(screen, MainScreen)
    return screen


def table(app: CellUI) -> CellTable:
    return main_screen(app).query_one(CellTable)


def row_texts(app: CellUI) -> dict[str, list[str]]:
    t = table(app)
    return {str(key.value): [str(v) for v in t.get_row(key)] for key in t.rows}


def no_cursor_blink(app: CellUI) -> None:
    for screen in app.screen_stack:
        for field in screen.query(Input):
            field.cursor_blink = False


def static_text(widget: Static) -> str:
    """The plain text a Static shows, whatever renderable it holds."""
    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()
