"""Mount points inside a cell root: verified before, at and after the mount.

A mount target is a cell path (``/srv/www``, ``/usr``, ``/dev``) and every
component of it is cell-writable, so a symlink planted there would make
`mount_null` (which follows symlinks) cover a host directory.  `mount`
walks the target from the root with no-follow opens (`cells.mgr.safefs`),
creating what is missing; the final component must be a real directory.
Right before the mount it walks again and checks that the directory and its
parent are still the inodes it verified, then mounts by the verified path.
After the mount it walks once more: the parent must be the same inode and
the target a directory on another file system than its parent (the mount
landed there, not behind a link swapped in meanwhile); otherwise it
unmounts whatever the mount table gained and fails.

What remains: mount(8) and mount(2) take a path, so between the last check
and the kernel's lookup (the fork and exec of mount_null, milliseconds) a
cell could swap a component for a symlink and the mount would land behind
it, possibly on a host directory.  The check after the mount catches that
whether or not the swap is still in place (a plain directory with its
parent's ``st_dev`` is not a mount point); the mount is then undone by the
path the host's mount table gained, which is the resolved host path and
holds no cell-controlled component, and the step fails.  So a host
directory can be covered for at most that window, never left covered.
Unmounting a target goes by its path too, right after the walk that
verified it: a swap in between could only point `umount` at another
mount (a denial of service, not a write), and mount points themselves
cannot be renamed while mounted.

"Is it mounted?" answers no for any target reached through a symlink (the
sim, which "mounts" a volume as a symlink to it, answers yes only for a
symlink to exactly the volume).  Callers: rootfs, volumes, facts.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

from cells.mgr.host import Host
from cells.mgr.safefs import Dir, UnsafePath, parts_of


def _split(target: str) -> tuple[tuple[str, ...], str]:
    parts = parts_of(target)
    if not parts:
        raise UnsafePath(f"{target}: cannot mount over the cell's root")
    return parts[:-1], parts[-1]


def is_mounted(host: Host, root: Path, target: str, src: Path | None = None) -> bool:
    """Is something mounted at the cell path `target`, reached with no symlink?"""
    try:
        parents, name = _split(target)
        with Dir.open(root, "/") as top, top.walk(parents) as parent:
            st = parent.lstat(name)
            if st is None:
                return False
            if host.name == "sim":
                return (
                    src is not None
                    and stat.S_ISLNK(st.st_mode)
                    and parent.readlink(name) == str(src)
                )
            if not stat.S_ISDIR(st.st_mode):
                return False
            return host.is_mounted(parent.path / name)
    except (UnsafePath, OSError):
        return False


def _identities(root: Path, parents: tuple[str, ...], name: str) -> tuple[object, ...]:
    with Dir.open(root, "/") as top, top.walk(parents) as parent, parent.sub(name) as d:
        return parent.identity(), d.identity()


def mount(
    host: Host,
    root: Path,
    target: str,
    do: Callable[[Path], None],
) -> Path:
    """Mount onto the cell path `target` with `do(path)` (a `Host` mount
    call), verified before and after; returns the verified host path."""
    parents, name = _split(target)
    with Dir.open(root, "/") as top, top.walk(parents, create=True) as parent:
        with parent.sub(name, create=True) as d:
            verified = (parent.identity(), d.identity())
        path = parent.path / name
        shown = parent.label.rstrip("/") + "/" + name
        # Just before: the same parent, the same directory, by a fresh walk.
        try:
            now = _identities(root, parents, name)
        except (UnsafePath, OSError) as e:
            raise UnsafePath(f"{shown}: changed before it could be mounted ({e})") from None
        if now != verified:
            raise UnsafePath(f"{shown}: changed before it could be mounted")
        before = host.mount_table()
        try:
            do(path)
        except BaseException:
            if host.name != "sim" and not _sits_on(root, parents, name, verified[0]):
                _undo(host, before)
            raise
        if host.name != "sim" and not _sits_on(root, parents, name, verified[0]):
            _undo(host, before)
            raise UnsafePath(f"{shown}: changed while it was mounted; unmounted it")
        return path


def _sits_on(root: Path, parents: tuple[str, ...], name: str, parent_id: object) -> bool:
    """After a mount: the verified parent, by a fresh walk, holds `name` as
    a directory on another file system (the mount's root)."""
    try:
        with Dir.open(root, "/") as top, top.walk(parents) as again:
            here = again.identity()
            st = again.lstat(name)
    except (UnsafePath, OSError):
        return False
    return (
        here == parent_id and st is not None and stat.S_ISDIR(st.st_mode) and st.st_dev != here[0]
    )


def _undo(host: Host, before: frozenset[str]) -> None:
    """Unmount what the mount table gained, by the kernel's resolved path."""
    for landed in sorted(host.mount_table() - before, reverse=True):
        host.unmount(Path(landed))
