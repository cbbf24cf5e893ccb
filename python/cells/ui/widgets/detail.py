"""The detail pane: every field the daemon reports for the selected cell.

Callers: cells.ui.screens.main.
"""

from __future__ import annotations

from rich.table import Table
from textual.widgets import Static

from cells.ui.model import CellRow, detail_lines


class CellDetail(Static):
    """Label/value grid for one cell, or a hint when none is selected."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("no cell selected", id=id)
        self._shown: list[tuple[str, str]] | None = None

    def show(self, cell: CellRow | None, now: float) -> None:
        if cell is None:
            if self._shown is not None:
                self._shown = None
                self.update("no cell selected")
            return
        lines = detail_lines(cell, now)
        if lines == self._shown:
            return
        self._shown = lines
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for label, value in lines:
            grid.add_row(label, value)
        self.update(grid)
