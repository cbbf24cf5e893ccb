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
        # Two label/value pairs per row keeps the pane short.
        grid = Table.grid(padding=(0, 2))
        for _ in range(2):
            grid.add_column(style="bold", no_wrap=True)
            grid.add_column(ratio=1)
        half = (len(lines) + 1) // 2
        left, right = lines[:half], lines[half:]
        for i, (label, value) in enumerate(left):
            more = right[i] if i < len(right) else ("", "")
            grid.add_row(label, value, *more)
        self.update(grid)
