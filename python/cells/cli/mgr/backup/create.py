"""`cellmgr backup create CELL`."""

from __future__ import annotations

import click

from cells.cli.mgr.backup.common import backups
from cells.cli.mgr.common import MgrApp, pass_mgr, working


@click.command()
@click.argument("cell")
@click.option("--json", "as_json", is_flag=True, help="Print the backup record as JSON.")
@pass_mgr
def create(app: MgrApp, cell: str, as_json: bool) -> None:
    """Archive CELL's own files and its volumes (refused while it runs)."""
    name = app.cell_name(cell)
    with working(app, f"backing up cell {name}") as part:
        meta = backups(app).create(name, progress=part)
    if as_json:
        app.json(meta)
    else:
        app.out(meta["id"])
        app.note(f"backup {meta['id']}: {meta['size']} bytes in {meta['path']}")
