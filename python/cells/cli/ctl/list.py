"""`cellctl list`: every cell, as a table, TSV or JSON."""

from __future__ import annotations

import click

from cells.cli.app import Application, output_options, pass_app


@click.command("list")
@output_options()
@pass_app
def list_cells(app: Application, fmt: str | None) -> None:
    """List cells: id, name, profile, state, processes, reserved ports,
    bind addresses, age and root.

    \b
    --json prints {"backend", "enforcing", "cells": [...]}; each cell has
    the keys id, name, root, profile, overrides, state, ports, bind_addrs,
    rlimits, nprocs, nrefs, created, age, vmsize, cpu_1s, cpu_10s, denies.
    --tsv prints the keys id, name, profile, state, nprocs, ports,
    bind_addrs, age, root as its header (lists comma-separated).

    \b
    Examples:
      cellctl list
      cellctl list --json | jq '.cells[].name'
    """
    from cells.cli.ctl.common import CELL_COLUMNS, cell_record

    kernel = app.kernel()
    records = [cell_record(c) for c in kernel.list()]
    document = {"backend": kernel.backend, "enforcing": kernel.enforcing, "cells": records}
    app.listing(CELL_COLUMNS, records, fmt=fmt or "table", document=document)
