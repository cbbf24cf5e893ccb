"""`cellmgr backup`: the group wiring of create, list, restore, delete."""

from __future__ import annotations

import click

from cells.cli.mgr.backup.create import create
from cells.cli.mgr.backup.delete import delete
from cells.cli.mgr.backup.list import list_backups
from cells.cli.mgr.backup.restore import restore


@click.group()
def backup() -> None:
    """Back up and restore a cell's files and volumes (tar archives).

    \b
    Examples:
      cellmgr backup create web
      cellmgr backup list --json
      cellmgr backup restore web-20261129T041500Z --yes
    """


backup.add_command(create)
backup.add_command(list_backups)
backup.add_command(restore)
backup.add_command(delete)
