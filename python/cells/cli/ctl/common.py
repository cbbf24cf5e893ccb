"""What several cellctl verbs share: cell records for output (the stable
JSON keys) and the human forms of their fields.  Callers: the verb modules
of cells.cli.ctl.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cells.cli.app import Column, dash_list, join_list

if TYPE_CHECKING:
    from cells.kernel.api import CellInfo


def cell_record(info: CellInfo) -> dict[str, Any]:
    """The JSON form of a cell: the fields of `CellInfo`, in order.

    Keys: id, name, root, profile, overrides, state, ports, bind_addrs,
    rlimits (list of {resource, soft, hard}), nprocs, nrefs, created, age,
    vmsize, cpu_1s, cpu_10s, denies ({scope: count}).
    """
    # Field by field rather than dataclasses.asdict(), which deep-copies
    # every value (a third of the run time of `cellctl list --json`).
    return {
        "id": info.id,
        "name": info.name,
        "root": info.root,
        "profile": info.profile,
        "overrides": list(info.overrides),
        "state": info.state,
        "ports": list(info.ports),
        "bind_addrs": list(info.bind_addrs),
        "rlimits": [
            {"resource": rl.resource, "soft": rl.soft, "hard": rl.hard} for rl in info.rlimits
        ],
        "nprocs": info.nprocs,
        "nrefs": info.nrefs,
        "created": info.created,
        "age": info.age,
        "vmsize": info.vmsize,
        "cpu_1s": info.cpu_1s,
        "cpu_10s": info.cpu_10s,
        "denies": dict(info.denies),
    }


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
