"""`cellmgr start CELL…|--all`: start services through the daemon."""

from __future__ import annotations

import click

from cells.cli.mgr.common import MgrApp, pass_mgr


@click.command()
@click.argument("cells", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every applied cell with a service.")
@pass_mgr
def start(app: MgrApp, cells: tuple[str, ...], all_: bool) -> None:
    """Start the services of CELLS, dependencies first (healthy before dependents).

    \b
    Example:
      cellmgr start web
    """
    control(app, "start", cells, all_)


def control(app: MgrApp, verb: str, cells: tuple[str, ...], all_: bool) -> None:
    if not cells and not all_:
        app.abort(f"name the cells to {verb}, or give --all", 2)
    client = app.need_client()
    method = {"start": client.start, "stop": client.stop, "restart": client.restart}[verb]
    result = method([app.cell_name(c) for c in cells], all=all_)
    for name in result.get("cells", []):
        app.out(f"{verb} {name}: ok")
