"""Expected failures as one line each, with a hint that fits the cause.

Every entry point (cellctl, cellmgr, the daemon's request handler, the
metrics endpoint) turns what can go wrong outside the program (files,
disks, descriptors, the state databases, hostile or broken input) into one
line through `describe()`; anything it does not know is a bug, reported as
an internal error (the traceback is shown with --debug).  Where a state
database is opened, `state_error()` names the cause the same way.
Callers: cells.cli.app, cells.mgr.daemon, cells.mgr.journal,
cells.kernel.sim.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import sys
import tarfile

from cells.errors import CellsError

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_NO_FILES = (errno.EMFILE, errno.ENFILE)
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
_STATE_HINT = "run as root or set --state-dir / CELLS_STATE_DIR"


def describe(exc: BaseException, state_dir: str | None = None) -> str | None:
    """One line for an expected failure; None when `exc` is a bug."""
    if isinstance(exc, CellsError):
        return str(exc)
    if isinstance(exc, OSError):
        return describe_os(exc)
    if isinstance(exc, sqlite3.Error):
        where = f"a state database under {state_dir}" if state_dir else "a state database"
        return describe_sqlite(exc, where)
    yaml = sys.modules.get("yaml")  # not loaded: the failure cannot be one of its
    if yaml is not None and isinstance(exc, yaml.YAMLError):
        return f"YAML: {' '.join(str(exc).split())}"
    if isinstance(exc, re.error):
        return f"bad regular expression: {exc}"
    if isinstance(exc, tarfile.TarError):
        return f"archive: {exc}"
    if isinstance(exc, RecursionError):
        return "input nested too deeply to process"
    if isinstance(exc, (ValueError, OverflowError)):
        return f"invalid value: {exc}"
    return None


def describe_os(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    reason = exc.strerror or str(exc)
    if exc.errno in _NO_SPACE:
        return f"{where}{reason}; free space on that file system and retry"
    if exc.errno in _NO_FILES:
        return f"{where}{reason}; raise the descriptor limit (ulimit -n) and retry"
    if exc.errno in _DENIED:
        return f"{where}{reason}; {_STATE_HINT}"
    return f"{where}{reason}"


def describe_sqlite(exc: sqlite3.Error, where: str, file: object = None) -> str:
    """A failure of the database `where` names (at `file`, when known), for
    what it is, with the way out."""
    text = " ".join(str(exc).split())
    lowered = text.lower()
    if "malformed" in lowered or "not a database" in lowered:
        f = "FILE" if file is None else str(file)
        return (
            f"{where}: the database is corrupt ({text}); restore it from a copy, or salvage it "
            f"with 'sqlite3 {f} .recover | sqlite3 {f}.new' and move {f}.new into place"
        )
    if "full" in lowered:
        return f"{where}: the disk is full ({text}); free space on that file system and retry"
    if "locked" in lowered or "busy" in lowered:
        return f"{where}: the database is busy ({text}); another command holds it: retry later"
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        return f"{where}: {text}; {_STATE_HINT}"
    return f"{where}: {text}"


def state_error(
    path: object, exc: OSError | sqlite3.Error, what: str = "cannot open the state database"
) -> CellsError:
    """Opening the database at `path` failed with `exc`: one line naming the cause."""
    if isinstance(exc, sqlite3.Error) and "unable to open" in str(exc).lower():
        # SQLite does not say why; opening the file ourselves does (no
        # descriptors left, no permission, a missing directory).
        probe = _probe(str(path))
        if probe is not None:
            exc = probe
    if isinstance(exc, OSError):
        line = describe_os(exc)
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EEXIST):
            line += "; set --state-dir / CELLS_STATE_DIR to a writable directory"
        return CellsError(f"{what} {path}: {line}")
    return CellsError(describe_sqlite(exc, f"{what} {path}", path))


def _probe(path: str) -> OSError | None:
    """Why `path` cannot be opened for writing, or None when it can."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError as e:
        return e
    os.close(fd)
    return None
