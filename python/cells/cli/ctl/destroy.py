"""`cellctl destroy CELL`: remove a cell that has no processes left."""

from __future__ import annotations

import click

from cells.cli.app import Application, pass_app
from cells.cli.ctl.common import complete_cell


@click.command()
@click.argument("cell", shell_complete=complete_cell)
@pass_app
def destroy(app: Application, cell: str) -> None:
    """Destroy CELL (a name or an id).

    Refused while any process is still in the cell (zombies included);
    stop them first.  The kernel never kills members.

    \b
    Example:
      cellctl destroy web
    """
    app.kernel().destroy(cell)
