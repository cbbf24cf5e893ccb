"""Whether a directory may be a cell root: a dedicated directory, never the host's.

Root in a cell owns every file under its root.  So a root must be a real
directory (not a symlink, not a file) that holds nothing of the host: it
may not be `/`, a system directory or an ancestor of one, and it may be
neither inside nor above the control plane's own directories (state,
config, backups), where a cell could rewrite the database, plant a
manifest or read another cell's backup, nor above the socket's directory
or the cells directory.  The kernel only checks that the
root is an absolute path to a directory; this is the control plane's rule,
applied before every create.  Callers: cellctl create, cellmgr apply.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

from cells.errors import InvalidArgument

#: Directories of the host a root may neither be nor contain (hier(7)).
SYSTEM_DIRS = (
    "/altroot",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/kern",
    "/lib",
    "/libexec",
    "/proc",
    "/rescue",
    "/root",
    "/sbin",
    "/stand",
    "/tmp",
    "/usr",
    "/usr/pkg",
    "/var",
    "/var/db",
    "/var/log",
    "/var/run",
)


def _real(path: str) -> str:
    return os.path.realpath(path)


def _within(path: str, top: str) -> bool:
    """`path` is `top` or below it (both resolved)."""
    return path == top or path.startswith(top.rstrip("/") + "/")


def check_root(
    root: str,
    what: str,
    *,
    private: Iterable[str | os.PathLike[str]] = (),
    holders: Iterable[str | os.PathLike[str]] = (),
) -> None:
    """Raise InvalidArgument unless `root` may be a cell root; the message
    starts with `what` (e.g. "create cell 'web'").

    `private`: the control plane's directories whose whole tree is its own
    (state, config, backups); a root may not be one of them, inside one or
    above one.  `holders`: directories a root may be below but neither be
    nor contain (the cells dir, which holds roots; the socket's directory,
    where a cell must not be able to replace the socket).  A root that does not exist is
    left to the backend, which reports it as the kernel does.
    """
    where = f"{what}: root {root}"
    if not root.startswith("/"):
        raise InvalidArgument(f"{where} is not an absolute path")
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        return
    except OSError as e:
        raise InvalidArgument(f"{where}: {e.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise InvalidArgument(
            f"{where} is a symbolic link; give the directory itself ({_real(root)})"
        )
    if not stat.S_ISDIR(st.st_mode):
        raise InvalidArgument(f"{where} is not a directory")
    real = _real(root)
    if real == "/":
        raise InvalidArgument(
            f"{where} is the host's root directory; give a dedicated directory "
            "such as /var/cells/NAME"
        )
    systems = [(system, _real(system)) for system in SYSTEM_DIRS]
    for system, resolved in systems:
        if resolved == real:
            raise InvalidArgument(
                f"{where} is the system directory {system}; give a dedicated directory"
            )
    for system, resolved in systems:
        if _within(resolved, real):
            raise InvalidArgument(
                f"{where} contains the system directory {system}; give a dedicated directory"
            )
    for p in private:
        mine = _real(os.fspath(p))
        if _within(mine, real) or _within(real, mine):
            raise InvalidArgument(
                f"{where} overlaps the control plane's directory {mine}; "
                "give a directory outside it"
            )
    for h in holders:
        top = _real(os.fspath(h))
        if _within(top, real):
            raise InvalidArgument(
                f"{where} contains the control plane's directory {top}; "
                "give a dedicated directory below it"
            )
