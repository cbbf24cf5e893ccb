"""`cellmgr backup list [CELL]`."""

from __future__ import annotations

import click

from cells.cli.app import Column, dash_list, join_list, output_options
from cells.cli.mgr.backup.common import backups
from cells.cli.mgr.common import MgrApp, pass_mgr

COLUMNS = (
    Column("ID", "id"),
    Column("CELL", "cell"),
    Column("CREATED", "created"),
    Column("SIZE", "size"),
    Column("VOLUMES", "volumes", dash_list, join_list),
)


@click.command("list")
@click.argument("cell", required=False)
@output_options()
@pass_mgr
def list_backups(app: MgrApp, cell: str | None, fmt: str | None) -> None:
    """List backups (of CELL), oldest first.  JSON keys: id, cell, created,
    size, path, volumes."""
    records = backups(app).list(app.cell_name(cell) if cell else None)
    app.listing(COLUMNS, records, fmt=fmt or "table", document={"backups": records})
