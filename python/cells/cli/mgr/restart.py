"""`cellmgr restart CELL…|--all`: restart services through the daemon."""

from __future__ import annotations

import click

from cells.cli.mgr.common import MgrApp, pass_mgr
from cells.cli.mgr.start import control


@click.command()
@click.argument("cells", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every supervised service.")
@pass_mgr
def restart(app: MgrApp, cells: tuple[str, ...], all_: bool) -> None:
    """Restart the services of CELLS with their applied manifests.

    \b
    Example:
      cellmgr restart web
    """
    control(app, "restart", cells, all_)
