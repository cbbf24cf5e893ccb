"""One lock against concurrent applies: fcntl on a file in the state dir.

The lock is held for the whole of facts → plan → apply, so two appliers
(two shells, or a shell and the daemon) never interleave.  The holder's pid
is written into the file for the error message.  Callers: apply, daemon.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cells import private
from cells.errors import Busy


@contextmanager
def apply_lock(path: Path) -> Iterator[None]:
    private.private_dir(path.parent)
    fd = private.open_file(path, os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise Busy(
                f"another cellmgr apply holds {path} (pid {holder}); wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
