"""What several cellctl verbs share: cell records for output (the stable
JSON keys) and the human forms of their fields.  Callers: the verb modules
of cells.cli.ctl.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from cells.cli.app import Column, dash_list, join_list
from cells.kernel.api import CellInfo


def cell_record(info: CellInfo) -> dict[str, Any]:
    """The JSON form of a cell: the fields of `CellInfo`, in order.

    Keys: id, name, root, profile, overrides, state, ports, bind_addrs,
    rlimits (list of {resource, soft, hard}), nprocs, nrefs, created, age,
    vmsize, cpu_1s, cpu_10s, denies ({scope: count}).
    """
    record = asdict(info)
    for key in ("overrides", "ports", "bind_addrs", "rlimits"):
        record[key] = list(record[key])
    return record


def human_age(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


CELL_COLUMNS = (
    Column("ID", "id"),
    Column("NAME", "name"),
    Column("PROFILE", "profile"),
    Column("STATE", "state"),
    Column("PROCS", "nprocs"),
    Column("PORTS", "ports", dash_list, join_list),
    Column("ADDRS", "bind_addrs", dash_list, join_list),
    Column("AGE", "age", human_age),
    Column("ROOT", "root"),
)


def complete_cell(ctx: Any, param: Any, incomplete: str) -> list[Any]:
    """Shell completion for CELL arguments: the names of live cells."""
    import os

    from click.shell_completion import CompletionItem

    from cells.errors import CellsError
    from cells.kernel import open_kernel

    root = ctx.find_root().params
    os.environ.setdefault("CELLS_QUIET", "1")
    try:
        cells = open_kernel(root.get("backend"), root.get("state_dir")).list()
    except CellsError:
        return []
    return [CompletionItem(c.name) for c in cells if c.name.startswith(incomplete)]
