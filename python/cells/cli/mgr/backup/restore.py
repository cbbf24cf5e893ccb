"""`cellmgr backup restore ID --yes`."""

from __future__ import annotations

import click

from cells.cli.mgr.backup.common import backups
from cells.cli.mgr.common import MgrApp, pass_mgr, working


@click.command()
@click.argument("backup_id", metavar="ID")
@click.option(
    "--yes", "-y", is_flag=True, help="Confirm: the cell's files and volumes are replaced."
)
@pass_mgr
def restore(app: MgrApp, backup_id: str, yes: bool) -> None:
    """Put a backup's files and volumes back (refused while the cell runs)."""
    if not yes:  # refused by restore() with the reason; no progress line for it
        meta = backups(app).restore(backup_id, yes=yes)
    with working(app, f"restoring backup {backup_id}") as part:
        meta = backups(app).restore(backup_id, yes=yes, progress=part)
    app.note(f"restored {meta['id']} into cell {meta['cell']}")
