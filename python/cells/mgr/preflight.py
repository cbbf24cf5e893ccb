"""Before any change: what apply needs from the host and the cells' files.

The loader checks each document alone; this checks the documents against
what is on disk, so that a plan that passes either applies or fails before
its first action: the base a cell's root is built from exists with its
sets, every owner a provision step names exists in the cell's own
/etc/passwd and /etc/group (files inside a cell belong to the cell's
users), and no mount lands on a non-empty directory of the cell.  The
cell's passwd is read from its root when it has one, else from the base
it will be built from, plus whatever earlier provision `file` and `line`
steps write to /etc/passwd or /etc/group; owners after an `exec` step (a
useradd) or a patch of those files are left to apply.  Reads only, and a
cell's files only through descriptors opened without following links (no
FIFO, device or link a cell planted is read).  Caller: Manager.plan/apply.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from cells.mgr import safefs
from cells.mgr.host import Host
from cells.mgr.loader import Desired, Problem
from cells.mgr.model import Cell
from cells.mgr.paths import Paths
from cells.mgr.rootfs import read_base

_MAX_READ = 1 << 20


def check(
    paths: Paths, host: Host, desired: Desired, actions: Iterable[tuple[str, str]]
) -> list[Problem]:
    """Every problem of the planned `actions` ((op, name) pairs), placed at
    its cell's manifest (empty: apply may go ahead)."""
    ops: dict[str, set[str]] = {}
    for op, name in actions:
        ops.setdefault(name, set()).add(op)
    out: list[Problem] = []
    for name in sorted(set(desired.cells) & set(ops)):
        cell = desired.cells[name]
        src = cell.source
        for key, message in _cell(paths, host, cell, ops[name]):
            if src is None:
                out.append(Problem(f"cell {name}", 0, 0, key, message))
            else:
                out.append(Problem(src.file, src.line, src.column, key, message))
    return out


def _cell(paths: Paths, host: Host, cell: Cell, ops: set[str]) -> Iterator[tuple[str, str]]:
    base: Path | None = None
    if cell.root is not None:
        base = paths.base(cell.root.release, cell.root.arch)
    if base is not None and cell.root is not None and "cell.root" in ops:
        have = read_base(base)
        if not have:
            yield (
                "root",
                (
                    f"no base for NetBSD {cell.root.release}/{cell.root.arch}; run 'cellmgr "
                    f"bootstrap --release {cell.root.release} --arch {cell.root.arch} --sets "
                    "DIR-OR-URL'"
                ),
            )
        elif absent := [s for s in cell.root.sets if s not in have]:
            yield (
                "root",
                (
                    f"base {base.name} lacks sets {', '.join(absent)}; import them with "
                    "cellmgr bootstrap --sets"
                ),
            )
    root = paths.root(cell.name)
    if "cell.provision" in ops:
        yield from _owners(cell, root, base)
    if "cell.mounts" in ops:
        yield from _mount_targets(host, cell, root)


def _table(text: str) -> dict[str, tuple[int, int]]:
    """name -> (id, primary gid) of a passwd or group file's lines."""
    out: dict[str, tuple[int, int]] = {}
    for line in text.splitlines():
        f = line.split(":")
        if len(f) > 3 and f[2].isdigit():
            out[f[0]] = (int(f[2]), int(f[3]) if f[3].isdigit() else 0)
    return out


def _read(top: Path | None, rel: str) -> str | None:
    """The regular file `rel` below `top` (None when absent); a link, FIFO
    or device on the way is an UnsafePath with the line naming it."""
    if top is None:
        return None
    parts = safefs.parts_of(rel)
    try:
        with safefs.opened(top, parts[:-1]) as d:
            data = d.read_bytes(parts[-1], _MAX_READ)
    except FileNotFoundError:
        return None
    return None if data is None else data.decode("utf-8", "replace")


def _accounts(root: Path, base: Path | None, name: str) -> tuple[str | None, str | None]:
    """The cell's etc/`name` (its root's, else its base's), or the one-line
    reason it cannot be read."""
    for top in (root, base):
        try:
            text = _read(top, f"etc/{name}")
        except (safefs.UnsafePath, OSError) as e:
            return None, str(e)
        if text is not None:
            return text, None
    return None, None


def _owners(cell: Cell, root: Path, base: Path | None) -> Iterator[tuple[str, str]]:
    files: dict[str, str | None] = {}
    unsafe: dict[str, str | None] = {}
    for name in ("passwd", "group"):
        files[name], unsafe[name] = _accounts(root, base, name)
    accounts = ("/etc/passwd", "/etc/group")
    for i, step in enumerate(cell.provision):
        path = step.get("path")
        if step.kind == "file" and path in accounts:
            files[path.rsplit("/", 1)[1]] = str(step.get("content", ""))
            continue
        if step.kind == "line" and path in accounts:
            name = path.rsplit("/", 1)[1]
            files[name] = (files[name] or "") + "\n" + str(step.get("line", ""))
            continue
        if step.kind == "exec" or (step.kind == "patch" and path in accounts):
            return  # a command (useradd) or a diff may add accounts: not known before
        owner = step.get("owner")
        if step.kind not in ("file", "dir") or not owner:
            continue
        user, _, group = str(owner).partition(":")
        for what, name in (("passwd", user), ("group", group)):
            if not name or name.isdigit():
                continue
            text = files[what]
            if text is None and unsafe[what] is not None:
                yield (f"provision[{i}].{step.kind}.owner", f"{owner!r}: {unsafe[what]}")
            elif text is None:
                yield (
                    f"provision[{i}].{step.kind}.owner",
                    (
                        f"{owner!r}: the cell has no /etc/{what} to look {name!r} up in; "
                        "give a numeric id, a root: with a base, or a file step for "
                        f"/etc/{what} before this one"
                    ),
                )
            elif name not in _table(text):
                kind = "user" if what == "passwd" else "group"
                yield (
                    f"provision[{i}].{step.kind}.owner",
                    (f"no {kind} {name!r} in the cell's /etc/{what}; add it, or use a numeric id"),
                )


def _mount_targets(host: Host, cell: Cell, root: Path) -> Iterator[tuple[str, str]]:
    for i, m in enumerate(cell.mounts):
        if host.is_mounted(root / m.target.lstrip("/")):
            continue
        try:
            with safefs.opened(root, safefs.parts_of(m.target)) as d:
                entries = os.listdir(d.fd)
        except (safefs.UnsafePath, OSError):
            continue  # absent, or a link apply will refuse with its own line
        if entries:
            yield (
                f"mounts[{i}]",
                (
                    f"{m.target} is a non-empty directory in the cell; the volume would hide "
                    "its files: move them into the volume, or mount elsewhere"
                ),
            )
