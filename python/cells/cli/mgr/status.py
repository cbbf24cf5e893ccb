"""`cellmgr status`: one row per managed cell."""

from __future__ import annotations

from typing import Any

import click

from cells.cli.app import Column, dash_list, join_list, output_options
from cells.cli.ctl.common import human_age
from cells.cli.mgr.common import MgrApp, pass_mgr

COLUMNS = (
    Column("NAME", "name"),
    Column("STATE", "state"),
    Column("PROFILE", "profile"),
    Column("SERVICE", "service"),
    Column("HEALTH", "health"),
    Column("RESTARTS", "restarts"),
    Column("PROCS", "procs"),
    Column("PORTS", "ports", dash_list, join_list),
    Column("AGE", "age", human_age),
)


@click.command()
@output_options()
@pass_mgr
def status(app: MgrApp, fmt: str | None) -> None:
    """Show each managed cell: state, profile, service, health, restarts.

    Asks the daemon when one runs; otherwise reads the applied state and
    the kernel (service columns then say "none").  --json keys: see
    docs/ipc.md (the rows of the IPC status method).

    \b
    Example:
      cellmgr status --json
    """
    client = app.client()
    if client is not None:
        records: list[dict[str, Any]] = client.status()["cells"]
    else:
        records = local_rows(app)
    app.listing(COLUMNS, records, fmt=fmt or "table", document={"cells": records})


def local_rows(app: MgrApp) -> list[dict[str, Any]]:
    from cells.mgr.apply import applied_cells
    from cells.mgr.loader import ManifestError
    from cells.mgr.status import rows

    manager = app.manager(services=False, readonly=True)
    cells = applied_cells(manager.db)
    try:
        for name, cell in manager.load().cells.items():
            cells.setdefault(name, cell)
    except ManifestError:
        app.note("the manifests have problems (see 'cellmgr validate'); showing applied cells")
    return rows(cells, manager.kernel.list(), None)
