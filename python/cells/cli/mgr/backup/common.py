"""The Backups object for the backup verbs, with the "is it running" check."""

from __future__ import annotations

from cells.cli.mgr.common import MgrApp
from cells.mgr.backups import Backups

RUNNING = frozenset({"starting", "running", "backoff", "stopping"})


def backups(app: MgrApp) -> Backups:
    manager = app.manager(services=False)
    client = app.client()

    def running(cell: str) -> bool:
        if client is not None:
            for row in client.status()["cells"]:
                if row["name"] == cell and row["state"] in RUNNING:
                    return True
        return any(c.name == cell and c.nprocs > 0 for c in manager.kernel.list())

    return Backups(manager.paths, manager.db, running)
