"""`cellmgr backup delete ID --yes`."""

from __future__ import annotations

import click

from cells.cli.mgr.backup.common import backups
from cells.cli.mgr.common import MgrApp, pass_mgr


@click.command()
@click.argument("backup_id", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Confirm: the backup is removed for good.")
@pass_mgr
def delete(app: MgrApp, backup_id: str, yes: bool) -> None:
    """Remove a backup."""
    meta = backups(app).delete(backup_id, yes=yes)
    app.note(f"deleted {meta['id']}")
