"""Process liveness for the sim backend's membership records.

A recorded member counts while its process exists, zombies included (the
kernel refuses to destroy a cell while a zombie still holds its
credential).  On systems with /proc the process start time is kept too,
so a recycled pid is not mistaken for the member.  Caller: cells.kernel.sim.
"""

from __future__ import annotations

import os

from cells.procstat import exists, has_proc, proc_start, stat_fields

#: An opaque start stamp for a pid (None where /proc cannot say).
start_time = proc_start


def parent(pid: int) -> int:
    """The parent pid of `pid`, 0 when unknown."""
    if pid == os.getpid():
        return os.getppid()
    fields = stat_fields(pid)
    return int(fields[1]) if fields is not None and len(fields) > 1 else 0


def alive(pid: int, started: str | None) -> bool:
    """True while `pid` exists (a zombie too) and is the process recorded."""
    if not has_proc():
        return exists(pid)
    fields = stat_fields(pid)
    if fields is None:
        return False
    return started is None or (len(fields) > 19 and fields[19] == started)


def lineage(pid: int, limit: int = 64) -> list[int]:
    """`pid` and its ancestors, nearest first (as far as can be seen)."""
    chain = [pid]
    while len(chain) < limit:
        up = parent(chain[-1])
        if up <= 1 or up in chain:
            break
        chain.append(up)
    return chain
