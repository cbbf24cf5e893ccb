"""Resolve the user and group a service runs as, before any chroot.

Inside a cell, names mean what the cell's own `/etc/passwd` and `/etc/group`
say, so they are read from `<root>/etc/...` in the parent (the child has
no access to the host's files after chroot and must not parse anything).
Host services use the host's databases.  A name that cannot be resolved
falls back to a numeric id; anything else is one clear error.  Caller:
`cells.supervisor.childsetup`.
"""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from cells.errors import InvalidArgument
from cells.mgr import safefs


@dataclass(frozen=True)
class Identity:
    """Who the child becomes: uid, primary gid, supplementary groups."""

    uid: int | None
    gid: int | None
    groups: tuple[int, ...] | None
    user_name: str | None
    home: str | None


@dataclass(frozen=True)
class _PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str


def _read_db(root: str, name: str) -> list[list[str]]:
    """Rows of the cell's `etc/NAME`, read without following a link the cell
    planted and never from a fifo or device (which would block the host)."""
    path = os.path.join(root, "etc", name)
    try:
        with safefs.opened(Path(root), ("etc",)) as etc:
            data = etc.read_bytes(name, limit=4 << 20)
    except FileNotFoundError:
        return []
    except safefs.UnsafePath as exc:
        raise InvalidArgument(f"cannot read {path}: {exc}") from None
    except OSError as exc:
        raise InvalidArgument(f"cannot read {path}: {exc.strerror}") from None
    lines = (data or b"").decode("utf-8", "replace").splitlines()
    rows = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        rows.append(line.split(":"))
    return rows


def _passwd_in(root: str) -> list[_PasswdEntry]:
    entries = []
    for row in _read_db(root, "passwd"):
        if len(row) >= 6 and row[2].isdigit() and row[3].isdigit():
            entries.append(_PasswdEntry(row[0], int(row[2]), int(row[3]), row[5]))
    return entries


def _groups_in(root: str) -> list[tuple[str, int, list[str]]]:
    groups = []
    for row in _read_db(root, "group"):
        if len(row) >= 3 and row[2].isdigit():
            members = [m for m in (row[3].split(",") if len(row) > 3 else []) if m]
            groups.append((row[0], int(row[2]), members))
    return groups


def _host_passwd(user: str) -> _PasswdEntry | None:
    try:
        entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except KeyError:
        return None
    return _PasswdEntry(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


def _host_groups() -> list[tuple[str, int, list[str]]]:
    return [(g.gr_name, g.gr_gid, list(g.gr_mem)) for g in grp.getgrall()]


def resolve_identity(user: str | None, group: str | None, root: str | None, where: str) -> Identity:
    """Resolve `user`/`group` (names or numbers) in the cell at `root`.

    `root` None means the host.  `where` names the service for messages.
    """
    if user is None and group is None:
        return Identity(None, None, None, None, None)
    groups_db = _groups_in(root) if root is not None else _host_groups()
    db_name = os.path.join(root, "etc") if root is not None else "the host"

    entry: _PasswdEntry | None = None
    uid: int | None = None
    if user is not None:
        if root is not None:
            entry = next(
                (e for e in _passwd_in(root) if e.name == user or str(e.uid) == user), None
            )
        else:
            entry = _host_passwd(user)
        if entry is not None:
            uid = entry.uid
        elif user.isdigit():
            uid = int(user)
        else:
            raise InvalidArgument(
                f"{where}: unknown user {user!r} in {db_name}; "
                "add it to the cell's passwd or give a numeric uid"
            )

    gid: int | None = entry.gid if entry is not None else None
    if group is not None:
        match = next((g for g in groups_db if g[0] == group or str(g[1]) == group), None)
        if match is not None:
            gid = match[1]
        elif group.isdigit():
            gid = int(group)
        else:
            raise InvalidArgument(
                f"{where}: unknown group {group!r} in {db_name}; "
                "add it to the cell's group file or give a numeric gid"
            )
    if gid is None and uid is not None:
        gid = uid

    supplementary: list[int] = [] if gid is None else [gid]
    if entry is not None:
        for _, member_gid, members in groups_db:
            if entry.name in members and member_gid not in supplementary:
                supplementary.append(member_gid)
    return Identity(
        uid=uid,
        gid=gid,
        groups=tuple(supplementary),
        user_name=entry.name if entry is not None else None,
        home=entry.home if entry is not None else None,
    )
