"""Status rows: one per cell, from manifests, the kernel and the supervisor.

The same rows serve `cellmgr status --json`, the daemon's IPC `status` and
its `cells` events (keys documented in docs/ipc.md).  Callers: the CLI
(without a daemon), the daemon.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cells.kernel.api import CellInfo
from cells.mgr.facts import ServiceFact, service_digest
from cells.mgr.model import Cell

_STATE_OF_SERVICE = {
    "starting": "starting",
    "running": "running",
    "backoff": "backoff",
    "stopping": "stopping",
    "failed": "failed",
}

#: Keys of a status row, in output order.
KEYS = (
    "name",
    "id",
    "state",
    "profile",
    "autostart",
    "procs",
    "cpu_1s",
    "cpu_10s",
    "vmsize",
    "age",
    "health",
    "ports",
    "service",
    "restarts",
    "pid",
    "service_digest",
)


def row(
    name: str, cell: Cell | None, info: CellInfo | None, svc: ServiceFact | None
) -> dict[str, Any]:
    if info is None:
        state = "absent"
    elif svc is not None and svc.state in _STATE_OF_SERVICE:
        state = _STATE_OF_SERVICE[svc.state]
    else:
        state = "created"
    health = "none"
    if cell is not None and cell.healthcheck is not None:
        health = svc.health if svc is not None and svc.health != "unknown" else "starting"
        if svc is None or state in ("absent", "created", "failed"):
            health = "none"
    return {
        "name": name,
        "id": info.id if info else None,
        "state": state,
        "profile": info.profile if info else (cell.profile if cell else "high"),
        "autostart": bool(cell and cell.autostart),
        "procs": info.nprocs if info else 0,
        "cpu_1s": info.cpu_1s if info else 0,
        "cpu_10s": info.cpu_10s if info else 0.0,
        "vmsize": info.vmsize if info else 0,
        "age": info.age if info else 0,
        "health": health,
        "ports": list(info.ports if info else (cell.ports if cell else ())),
        "service": svc.state if svc is not None else "none",
        "restarts": svc.restarts if svc is not None else 0,
        "pid": svc.pid if svc is not None else None,
        "service_digest": svc.digest
        if svc is not None
        else (service_digest(cell) if cell is not None and cell.service else ""),
    }


def rows(
    cells: Mapping[str, Cell], infos: list[CellInfo], services: Mapping[str, ServiceFact] | None
) -> list[dict[str, Any]]:
    """Rows for every managed cell (kernel cells cellmgr does not manage are left out)."""
    by_name = {i.name: i for i in infos}
    svcs = services or {}
    return [row(n, cells[n], by_name.get(n), svcs.get(n)) for n in sorted(cells)]
