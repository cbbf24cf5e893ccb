"""Where cellmgr keeps things, resolved once from options and env vars.

Every path can be moved (tests run in a temp dir): config dir
(CELLS_CONFIG_DIR), state dir (CELLS_STATE_DIR), cells dir (CELLS_DIR),
backups dir (CELLS_BACKUP_DIR) and the daemon socket (CELLS_SOCKET).
Callers: the CLI, the daemon, apply, rootfs, volumes, backups.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cells.ipc.address import DEFAULT_SOCKET

DEFAULT_CONFIG_DIR = "/etc/cells"
DEFAULT_STATE_DIR = "/var/db/cells"
DEFAULT_CELLS_DIR = "/var/cells"
DEFAULT_BACKUP_DIR = "/var/backups/cells"


def _pick(value: str | os.PathLike[str] | None, env: str, default: str) -> Path:
    if value is not None:
        return Path(value)
    return Path(os.environ.get(env) or default)


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    state_dir: Path
    cells_dir: Path
    backup_dir: Path
    socket: Path

    @classmethod
    def resolve(
        cls,
        *,
        config_dir: str | os.PathLike[str] | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        cells_dir: str | os.PathLike[str] | None = None,
        backup_dir: str | os.PathLike[str] | None = None,
        socket: str | os.PathLike[str] | None = None,
    ) -> Paths:
        return cls(
            config_dir=_pick(config_dir, "CELLS_CONFIG_DIR", DEFAULT_CONFIG_DIR),
            state_dir=_pick(state_dir, "CELLS_STATE_DIR", DEFAULT_STATE_DIR),
            cells_dir=_pick(cells_dir, "CELLS_DIR", DEFAULT_CELLS_DIR),
            backup_dir=_pick(backup_dir, "CELLS_BACKUP_DIR", DEFAULT_BACKUP_DIR),
            socket=_pick(socket, "CELLS_SOCKET", DEFAULT_SOCKET),
        )

    @property
    def private_dirs(self) -> tuple[Path, ...]:
        """The control plane's own trees: no cell root may be one of them,
        inside one or above one (`cells.kernel.roots`)."""
        return (self.state_dir, self.config_dir, self.backup_dir)

    def check_root(self, root: str, what: str) -> None:
        """Raise InvalidArgument unless `root` may be a cell root."""
        from cells.kernel.roots import check_root

        check_root(
            root, what, private=self.private_dirs, holders=(self.cells_dir, self.socket.parent)
        )

    @property
    def db(self) -> Path:
        """The journal and applied-state database (SQLite, WAL)."""
        return self.state_dir / "cellmgr.db"

    @property
    def lock(self) -> Path:
        return self.state_dir / "cellmgr.lock"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    def base(self, release: str, arch: str) -> Path:
        """The shared read-only base built from release sets."""
        return self.cells_dir / "base" / f"{release}-{arch}"

    def cell_dir(self, name: str) -> Path:
        return self.cells_dir / "cells" / name

    def holders(self) -> tuple[Path, ...]:
        """The directories holding cell roots and volumes: what a cell
        writes there (a setuid-root program, say) must not be reachable by
        host users, so they are 0700 (`cells.private.private_dir`)."""
        return (self.cells_dir / "cells", self.cells_dir / "volumes")

    def root(self, name: str) -> Path:
        """The directory the cell is chrooted to; its writable files live here."""
        return self.cell_dir(name) / "root"

    def volume(self, name: str) -> Path:
        return self.cells_dir / "volumes" / name
