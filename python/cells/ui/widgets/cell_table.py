"""The live table of cells, updated in place.

`CellTable.show()` takes the rows to display (already filtered and sorted
by cells.ui.model) and changes only what differs from what is on screen:
rows that left are removed, new rows appended, and changed cells updated
one by one.  Only when the order itself changes (a new sort, a filter) is
the table rebuilt, keeping the cursor on the same cell.  Callers:
cells.ui.screens.main.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from cells.ui.model import CELL_COLUMNS, CellRow, cell_texts

_WIDTHS = {
    "name": 18, "state": 10, "profile": 7, "procs": 5, "cpu_1s": 7, "cpu_10s": 7,
    "memory": 8, "age": 7, "health": 9, "ports": 16,
}  # fmt: skip


#: Colour of the state and health columns, by value.
_STYLE = {
    "running": "green", "starting": "cyan", "stopping": "yellow", "backoff": "bold red",
    "failed": "bold red", "healthy": "green", "unhealthy": "bold red", "absent": "dim",
}  # fmt: skip
_STYLED = frozenset({"state", "health"})


def _cell(column: str, text: str) -> str | Text:
    if column in _STYLED and text in _STYLE:
        return Text(text, style=_STYLE[text])
    return text


class CellTable(DataTable[str | Text]):
    """Cells, one row each, keyed by cell name."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._texts: dict[str, tuple[str, ...]] = {}
        self._order: list[str] = []

    def on_mount(self) -> None:
        for key, title in CELL_COLUMNS:
            self.add_column(title, width=_WIDTHS[key], key=key)

    @property
    def selected(self) -> str | None:
        """The name of the cell under the cursor."""
        if not self._order or self.cursor_row < 0:
            return None
        return self._order[min(self.cursor_row, len(self._order) - 1)]

    def show(self, rows: Sequence[CellRow], now: float) -> None:
        texts = {row.name: cell_texts(row, now) for row in rows}
        order = list(texts)
        kept = [name for name in self._order if name in texts]
        if kept != order[: len(kept)]:
            self._rebuild(order, texts)
            return
        for name in self._order:
            if name not in texts:
                self.remove_row(name)
                del self._texts[name]
        self._order = kept
        for name in order[len(kept) :]:
            self._add(name, texts[name])
            self._texts[name] = texts[name]
            self._order.append(name)
        for name in kept:
            old, new = self._texts[name], texts[name]
            if old == new:
                continue
            for (column, _), before, after in zip(CELL_COLUMNS, old, new, strict=True):
                if before != after:
                    self.update_cell(name, column, _cell(column, after))
            self._texts[name] = new

    def _add(self, name: str, texts: tuple[str, ...]) -> None:
        cells = [_cell(column, text) for (column, _), text in zip(CELL_COLUMNS, texts, strict=True)]
        self.add_row(*cells, key=name)

    def _rebuild(self, order: list[str], texts: dict[str, tuple[str, ...]]) -> None:
        selected = self.selected
        self.clear()
        for name in order:
            self._add(name, texts[name])
        self._texts = dict(texts)
        self._order = order
        if selected in texts:
            self.move_cursor(row=order.index(selected), animate=False)
