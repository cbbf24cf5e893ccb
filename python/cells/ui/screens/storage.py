"""The volumes and backups screen, with backup create/restore/delete.

Restore and delete ask for confirmation.  Lists are fetched when the
screen opens and after every backup action.  Callers: cells.ui.app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from cells.ui.messages import Request
from cells.ui.model import BackupRow, VolumeRow
from cells.ui.widgets.banner import ConnectionBanner
from cells.ui.widgets.storage_tables import BackupTable, VolumeTable

if TYPE_CHECKING:
    from cells.ui.app import CellUI


class StorageScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", tooltip="back to the cells"),
        Binding("c", "create", "Backup cell", tooltip="back up the cell picked on the main screen"),
        Binding("R", "restore", "Restore", tooltip="restore the selected backup (asks first)"),
        Binding("d", "delete", "Delete", tooltip="delete the selected backup (asks first)"),
        Binding("g", "refresh", "Refresh", tooltip="read volumes and backups again"),
        Binding("tab", "focus_next", "Next table", show=False),
    ]

    DEFAULT_CSS = """
    StorageScreen .title {
        height: 1;
        padding: 0 1;
        text-style: bold;
        background: $boost;
    }
    StorageScreen VolumeTable {
        height: 1fr;
    }
    StorageScreen BackupTable {
        height: 2fr;
    }
    """

    def __init__(self, cell: str | None) -> None:
        super().__init__()
        self.cell = cell

    @property
    def ui(self) -> CellUI:
        return cast("CellUI", self.app)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield ConnectionBanner(self.ui.banner_state)
        yield Static("Volumes", classes="title")
        yield VolumeTable(id="volumes")
        yield Static("Backups", classes="title")
        yield BackupTable(id="backups")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(BackupTable).focus()
        self.action_refresh()

    def show_volumes(self, rows: list[VolumeRow]) -> None:
        self.query_one(VolumeTable).show(rows)

    def show_backups(self, rows: list[BackupRow]) -> None:
        self.query_one(BackupTable).show(rows)

    def action_refresh(self) -> None:
        self.ui.send(Request("volumes.list", {}, "volumes", "volumes"))
        self.ui.send(Request("backup.list", {}, "backups", "backups"))

    def action_create(self) -> None:
        backup = self.query_one(BackupTable).selected
        cell = self.cell or (backup.cell if backup else None)
        if cell is None:
            self.notify("backup: no cell selected", severity="warning")
            return
        self.ui.send(Request("backup.create", {"cell": cell}, f"backup {cell}", "backup"))

    def action_restore(self) -> None:
        if (backup := self._backup("restore")) is not None:
            self.ui.confirm(
                f"Restore backup {backup.id} into {backup.cell}?",
                "Its volumes are replaced by the backup's contents; the daemon refuses"
                " while the cell's service runs (stop it first).",
                Request(
                    "backup.restore",
                    {"id": backup.id, "yes": True},
                    f"restore {backup.id}",
                    "backup",
                ),
            )

    def action_delete(self) -> None:
        if (backup := self._backup("delete")) is not None:
            self.ui.confirm(
                f"Delete backup {backup.id}?",
                f"The backup of {backup.cell} is removed for good.",
                Request(
                    "backup.delete",
                    {"id": backup.id, "yes": True},
                    f"delete {backup.id}",
                    "backup",
                ),
            )

    def _backup(self, verb: str) -> BackupRow | None:
        backup = self.query_one(BackupTable).selected
        if backup is None:
            self.notify(f"{verb}: no backup selected", severity="warning")
        return backup
