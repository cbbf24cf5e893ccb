"""Volumes: named persistent directories, and their mounts into cells.

A volume lives under `<cells dir>/volumes/NAME` with its mode and owner.
Mounts follow the manifest rules (never `/`, `/dev…` or overlapping
targets; checked by the loader) and are made through the `Host` interface:
null mounts on NetBSD, symlinks on the sim.  `sync_mounts` mounts what is
missing and unmounts what is no longer wanted; if one mount fails, the ones
it made are unwound.  Callers: apply, backups, the daemon (volumes.list).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cells.errors import CellsError, InvalidArgument
from cells.mgr.facts import owner_ids
from cells.mgr.host import Host
from cells.mgr.model import Cell, Mount, Volume
from cells.mgr.paths import Paths


def ensure_volume(paths: Paths, vol: Volume) -> None:
    path = paths.volume(vol.name)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, vol.mode)
    if vol.owner:
        ids = owner_ids(vol.owner)
        if ids is None:
            raise InvalidArgument(
                f"volume {vol.name}: owner {vol.owner!r} is not a user "
                "on this host; create it or fix the manifest"
            )
        os.chown(path, *ids)


def _target(paths: Paths, cell: str, mount: Mount) -> Path:
    return paths.root(cell) / mount.target.lstrip("/")


def sync_mounts(paths: Paths, host: Host, cell: Cell, current: list[str]) -> None:
    """Make the cell's mounts exactly `cell.mounts` (current: as applied)."""
    want = {str(m): m for m in cell.mounts}
    for text in sorted(set(current) - set(want), reverse=True):
        m = Mount.parse(text)
        if host.is_mounted(_target(paths, cell.name, m)):
            host.unmount(_target(paths, cell.name, m))
    made: list[Path] = []
    try:
        for m in sorted(cell.mounts, key=lambda m: m.target):
            target = _target(paths, cell.name, m)
            if host.is_mounted(target):
                continue
            src = paths.volume(m.volume)
            if not src.is_dir():
                raise CellsError(
                    f"cell {cell.name}: volume {m.volume} does not exist at "
                    f"{src}; apply its Volume manifest first"
                )
            host.mount_volume(src, target, m.mode == "ro")
            made.append(target)
    except BaseException:
        for target in reversed(made):
            host.unmount(target)
        raise


def unmount_all(paths: Paths, host: Host, cell: str, mounts: list[str]) -> None:
    for text in sorted(mounts, reverse=True):
        target = _target(paths, cell, Mount.parse(text))
        if host.is_mounted(target):
            host.unmount(target)


def describe(
    paths: Paths, volumes: dict[str, Volume], users: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """Rows for `volumes.list` (IPC) and listings."""
    out = []
    for name in sorted(volumes):
        vol = volumes[name]
        path = paths.volume(name)
        out.append(
            {
                "name": name,
                "mode": f"{vol.mode:04o}",
                "owner": vol.owner,
                "path": str(path),
                "exists": path.is_dir(),
                "used_by": sorted(users.get(name, [])),
            }
        )
    return out
