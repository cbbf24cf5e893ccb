"""Volumes: named persistent directories, and their mounts into cells.

A volume lives under `<cells dir>/volumes/NAME` with its mode and owner.
Mounts follow the manifest rules (never `/`, `/dev…` or overlapping
targets; checked by the loader) and are made through the `Host` interface
onto targets verified by `cells.mgr.mountpoint` (real directories reached
without a symlink): null mounts on NetBSD, symlinks on the sim.  `sync_mounts` mounts what is
missing and unmounts what is no longer wanted; if one mount fails, the ones
it made are unwound.  Callers: apply, backups, the daemon (volumes.list).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cells import private
from cells.errors import CellsError, InvalidArgument
from cells.mgr import mountpoint
from cells.mgr.facts import owner_ids
from cells.mgr.host import Host
from cells.mgr.model import Cell, Mount, Volume
from cells.mgr.paths import Paths
from cells.mgr.safefs import Dir, UnsafePath, parts_of


def ensure_volume(paths: Paths, vol: Volume) -> None:
    """Create the volume's directory and set its mode and owner through its
    own descriptor (a symlink in its place is refused, never followed)."""
    path = paths.volume(vol.name)
    ids = None
    if vol.owner:
        ids = owner_ids(vol.owner)
        if ids is None:
            raise InvalidArgument(
                f"volume {vol.name}: owner {vol.owner!r} is not a user "
                "on this host; create it or fix the manifest"
            )
    private.private_dir(path.parent)
    try:
        with Dir.open(path.parent) as top, top.sub(vol.name, create=True, mode=0o700) as d:
            if ids is not None:
                os.fchown(d.fd, *ids)
            os.fchmod(d.fd, vol.mode)
    except UnsafePath as e:
        raise CellsError(f"volume {vol.name}: {e}") from None


def _mounted(paths: Paths, host: Host, cell: str, m: Mount) -> bool:
    return mountpoint.is_mounted(host, paths.root(cell), m.target, paths.volume(m.volume))


def _where(paths: Paths, cell: str, m: Mount) -> Path:
    """The host path of a target that `_mounted` just verified."""
    return paths.root(cell).joinpath(*parts_of(m.target))


def sync_mounts(paths: Paths, host: Host, cell: Cell, current: list[str]) -> None:
    """Make the cell's mounts exactly `cell.mounts` (current: as applied)."""
    want = {str(m): m for m in cell.mounts}
    for text in sorted(set(current) - set(want), reverse=True):
        m = Mount.parse(text)
        if _mounted(paths, host, cell.name, m):
            host.unmount(_where(paths, cell.name, m))
    made: list[Path] = []
    try:
        for m in sorted(cell.mounts, key=lambda m: m.target):
            if _mounted(paths, host, cell.name, m):
                continue
            src = paths.volume(m.volume)
            if not src.is_dir() or src.is_symlink():
                raise CellsError(
                    f"cell {cell.name}: volume {m.volume} does not exist at "
                    f"{src}; apply its Volume manifest first"
                )
            ro = m.mode == "ro"
            try:
                made.append(
                    mountpoint.mount(
                        host,
                        paths.root(cell.name),
                        m.target,
                        lambda p, src=src, ro=ro: host.mount_volume(src, p, ro),  # type: ignore[misc]
                    )
                )
            except UnsafePath as e:
                raise CellsError(f"cell {cell.name}: mount {m}: {e}") from None
    except BaseException:
        for target in reversed(made):
            host.unmount(target)
        raise


def unmount_all(paths: Paths, host: Host, cell: str, mounts: list[str]) -> None:
    for text in sorted(mounts, reverse=True):
        m = Mount.parse(text)
        if _mounted(paths, host, cell, m):
            host.unmount(_where(paths, cell, m))


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
