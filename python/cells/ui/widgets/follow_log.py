"""The follow view of a cell: service log lines and kernel audit events.

Callers: cells.ui.screens.logs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.text import Text
from textual.widgets import RichLog

from cells.ui.link import LogEntry

_STREAM_STYLE = {"stderr": "yellow", "daemon": "italic cyan"}


class FollowLog(RichLog):
    """Appends entries as they arrive and keeps the newest in view."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=5000, wrap=False, markup=False, auto_scroll=True)
        self.count = 0

    def add(self, entries: Iterable[LogEntry]) -> None:
        for entry in entries:
            line = Text()
            if entry.time is not None:
                line.append(time.strftime("%H:%M:%S ", time.gmtime(entry.time)), style="dim")
            if entry.topic == "audit":
                line.append("audit ", style="bold red")
            line.append(entry.text, style=_STREAM_STYLE.get(entry.stream, ""))
            self.write(line)
            self.count += 1
