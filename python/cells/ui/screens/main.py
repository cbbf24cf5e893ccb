"""The main screen: connection banner, filter bar, live cell table and the
detail pane of the selected cell, with the cell actions bound to keys.

It keeps the view state (filter, search, sort) and asks cells.ui.model
which rows to show; requests go through the app, which hands them to the
IO worker.  Callers: cells.ui.app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input

from cells.ui.messages import Request
from cells.ui.model import CellFilter, CellRow, Snapshot, SortKey, select
from cells.ui.widgets.banner import ConnectionBanner
from cells.ui.widgets.cell_table import CellTable
from cells.ui.widgets.detail import CellDetail
from cells.ui.widgets.filter_bar import FilterBar

if TYPE_CHECKING:
    from cells.ui.app import CellUI


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start", tooltip="start the selected cell's service"),
        Binding("x", "stop", "Stop", tooltip="stop the selected cell (asks first)"),
        Binding("r", "restart", "Restart", tooltip="restart the selected cell (asks first)"),
        Binding("a", "apply", "Apply", tooltip="show the plan, then apply it (asks first)"),
        Binding("b", "backup", "Backup", tooltip="back up the selected cell's volumes"),
        Binding("e", "shell", "Shell", tooltip="run `cellmgr shell` in the selected cell"),
        Binding("l", "logs", "Logs", tooltip="follow the cell's log and audit events"),
        Binding("v", "storage", "Volumes", tooltip="volumes and backups"),
        Binding("f", "cycle_filter", "Filter", tooltip="all, running, stopped, failed"),
        Binding("o", "cycle_sort", "Sort", tooltip="by name, state, CPU, memory, age"),
        Binding("slash", "search", "Search", tooltip="search names, states, ports…"),
        Binding("escape", "clear_search", "Clear search", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.which = CellFilter.ALL
        self.order = SortKey.NAME
        self.search = ""
        self.rows: list[CellRow] = []

    @property
    def ui(self) -> CellUI:
        return cast("CellUI", self.app)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield ConnectionBanner(self.ui.banner_state)
        yield FilterBar()
        yield CellTable(id="cells")
        yield CellDetail(id="detail")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(CellTable).focus()
        self.show_cells()

    # -- rendering -------------------------------------------------------------

    def show_cells(self) -> None:
        """Render the app's latest snapshot with the current view state."""
        snapshot = self.ui.snapshot or Snapshot(())
        now = self.ui.now()
        self.rows = select(snapshot.cells, self.which, self.search, self.order, now)
        self.query_one(CellTable).show(self.rows, now)
        self.query_one(FilterBar).describe(
            self.which, self.order, len(self.rows), len(snapshot.cells)
        )
        self._show_detail()

    def _show_detail(self) -> None:
        name = self.query_one(CellTable).selected
        snapshot = self.ui.snapshot
        cell = snapshot.by_name(name) if snapshot is not None and name is not None else None
        self.query_one(CellDetail).show(cell, self.ui.now())

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.search = event.value
        self.show_cells()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(CellTable).focus()

    # -- view actions ------------------------------------------------------------

    def action_cycle_filter(self) -> None:
        self.which = self.which.next()
        self.show_cells()

    def action_cycle_sort(self) -> None:
        self.order = self.order.next()
        self.show_cells()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        search.value = ""
        self.query_one(CellTable).focus()

    # -- cell actions ------------------------------------------------------------

    def _cell(self, verb: str) -> CellRow | None:
        name = self.query_one(CellTable).selected
        cell = self.ui.snapshot.by_name(name) if self.ui.snapshot and name else None
        if cell is None:
            self.notify(f"{verb}: no cell selected", severity="warning")
        return cell

    def action_start(self) -> None:
        if cell := self._cell("start"):
            self.ui.send(Request("cell.start", {"cells": [cell.name]}, f"start {cell.name}"))

    def action_stop(self) -> None:
        if cell := self._cell("stop"):
            self.ui.confirm(
                f"Stop cell {cell.name}?",
                f"Its service is sent TERM, then KILL after the stop timeout; "
                f"{cell.procs} process(es) running.",
                Request("cell.stop", {"cells": [cell.name]}, f"stop {cell.name}"),
            )

    def action_restart(self) -> None:
        if cell := self._cell("restart"):
            self.ui.confirm(
                f"Restart cell {cell.name}?",
                "Its service is stopped and started again.",
                Request("cell.restart", {"cells": [cell.name]}, f"restart {cell.name}"),
            )

    def action_apply(self) -> None:
        self.ui.send(Request("plan", {"cells": []}, "plan", "plan"))

    def action_backup(self) -> None:
        if cell := self._cell("backup"):
            self.ui.send(
                Request("backup.create", {"cell": cell.name}, f"backup {cell.name}", "backup")
            )

    def action_shell(self) -> None:
        if cell := self._cell("shell"):
            if not cell.running:
                self.notify(f"shell: {cell.name} is not running", severity="error")
                return
            self.ui.run_shell(cell.name)

    def action_logs(self) -> None:
        if cell := self._cell("logs"):
            self.ui.open_logs(cell.name)

    def action_storage(self) -> None:
        name = self.query_one(CellTable).selected
        self.ui.open_storage(name)
