"""The bar above the table: filter, sort order, counts and the search box.

Callers: cells.ui.screens.main (which reacts to `Input.Changed`).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Static

from cells.ui.model import CellFilter, SortKey


class FilterBar(Horizontal):
    """Shows the current selection; the search box narrows it."""

    DEFAULT_CSS = """
    FilterBar {
        height: 1;
        width: 1fr;
    }
    FilterBar #selection {
        width: auto;
        padding: 0 1;
    }
    FilterBar Input, FilterBar Input:focus {
        border: none;
        height: 1;
        width: 1fr;
        padding: 0 1;
    }
    FilterBar Input:focus {
        background: $boost;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="selection")
        yield Input(placeholder="search (/)", id="search")

    def describe(self, which: CellFilter, order: SortKey, shown: int, total: int) -> None:
        text = f"filter: {which.value}  sort: {order.value}  {shown}/{total} cells"
        self.query_one("#selection", Static).update(text)
