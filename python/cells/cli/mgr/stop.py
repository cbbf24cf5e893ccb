"""`cellmgr stop CELL…|--all`: stop services through the daemon."""

from __future__ import annotations

import click

from cells.cli.mgr.common import MgrApp, pass_mgr
from cells.cli.mgr.start import control


@click.command()
@click.argument("cells", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every supervised service.")
@pass_mgr
def stop(app: MgrApp, cells: tuple[str, ...], all_: bool) -> None:
    """Stop the services of CELLS, dependents first (TERM, then KILL after the
    stop timeout).

    \b
    Example:
      cellmgr stop --all
    """
    control(app, "stop", cells, all_)
