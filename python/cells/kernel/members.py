"""Process liveness for the sim backend's membership records.

A recorded member counts while its process exists, zombies included (the
kernel refuses to destroy a cell while a zombie still holds its
credential).  On systems with /proc the process start time is kept too,
so a recycled pid is not mistaken for the member.  Caller: cells.kernel.sim.
"""

from __future__ import annotations

import os

_PROC = "/proc"


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None."""
    try:
        with open(f"{_PROC}/{pid}/stat", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def start_time(pid: int) -> str | None:
    """An opaque start stamp for `pid` (None where /proc cannot say)."""
    fields = _stat_fields(pid)
    # After the command name: state(0) ppid(1) ... starttime is field 22 of
    # the whole line, index 19 here.
    return fields[19] if fields is not None and len(fields) > 19 else None


def parent(pid: int) -> int:
    """The parent pid of `pid`, 0 when unknown."""
    if pid == os.getpid():
        return os.getppid()
    fields = _stat_fields(pid)
    return int(fields[1]) if fields is not None and len(fields) > 1 else 0


def alive(pid: int, started: str | None) -> bool:
    """True while `pid` exists (a zombie too) and is the process recorded."""
    if os.path.isdir(_PROC) and os.path.exists(f"{_PROC}/self"):
        fields = _stat_fields(pid)
        if fields is None:
            return False
        return started is None or (len(fields) > 19 and fields[19] == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lineage(pid: int, limit: int = 64) -> list[int]:
    """`pid` and its ancestors, nearest first (as far as can be seen)."""
    chain = [pid]
    while len(chain) < limit:
        up = parent(chain[-1])
        if up <= 1 or up in chain:
            break
        chain.append(up)
    return chain
