"""The volumes and backups tables of the storage screen.

Callers: cells.ui.screens.storage.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable

from cells.ui.model import BackupRow, VolumeRow, format_bytes, format_time


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


class VolumeTable(DataTable[str]):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")

    def on_mount(self) -> None:
        self.add_columns("VOLUME", "MODE", "OWNER", "EXISTS", "USED BY", "PATH")

    def show(self, rows: Sequence[VolumeRow]) -> None:
        self.clear()
        for v in rows:
            self.add_row(
                v.name, v.mode, v.owner, _yes_no(v.exists),
                ",".join(v.used_by) or "-", v.path, key=v.name,
            )  # fmt: skip


class BackupTable(DataTable[str]):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.rows_shown: list[BackupRow] = []

    def on_mount(self) -> None:
        self.add_columns("BACKUP", "CELL", "CREATED (UTC)", "SIZE", "VOLUMES")

    def show(self, rows: Sequence[BackupRow]) -> None:
        self.clear()
        self.rows_shown = list(rows)
        for b in rows:
            self.add_row(
                b.id, b.cell, format_time(b.created), format_bytes(b.size),
                ",".join(b.volumes) or "-", key=b.id,
            )  # fmt: skip

    @property
    def selected(self) -> BackupRow | None:
        if not self.rows_shown or self.cursor_row < 0:
            return None
        return self.rows_shown[min(self.cursor_row, len(self.rows_shown) - 1)]
