"""What the system says about a process by pid: the one /proc reader.

Fields of /proc/<pid>/stat (Linux, and NetBSD's procfs mounted with
`-o linux`), the start stamp that tells a process from a later one with
the same pid, and existence by kill(pid, 0) where /proc has nothing.
Callers: the sim's membership records (cells.kernel.members) and the
supervisor's run records (cells.supervisor.runrecord).
"""

from __future__ import annotations

import functools
import os


def stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state first),
    or None when /proc has no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    _, sep, rest = data.rpartition(")")
    return rest.split() if sep else None


@functools.cache
def has_proc() -> bool:
    """Whether /proc answers for processes at all (asked once)."""
    return stat_fields(os.getpid()) is not None


def proc_start(pid: int) -> str | None:
    """An opaque start stamp from /proc (field 22), None where it cannot say."""
    fields = stat_fields(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def exists(pid: int) -> bool:
    """Whether `pid` names a process (a zombie too), by kill(pid, 0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
