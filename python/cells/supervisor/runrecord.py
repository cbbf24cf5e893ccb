"""Run records: which service processes a supervisor has running, on disk.

For every running service the engine keeps `<run dir>/<service>.json`
(pid, process group, process start stamp, the supervisor's own pid and
stamp, the stop timeout), written atomically when the process starts and
removed when it is reaped.  A supervisor killed with SIGKILL leaves its
records behind; the next engine on the same run dir calls
`stop_leftovers()` before it starts anything: a leftover whose process is
still the recorded one has its whole process group sent TERM, then KILL
after the stop timeout, and is polled until gone (it is not our child);
all leftovers are stopped together.
Records whose process is gone or whose pid now names another process are
just removed; records of a supervisor that is still alive are left alone.

The start stamp is field 22 of /proc/<pid>/stat where /proc has it, else
what `ps -o lstart=` prints; where neither answers, pid and process group
liveness decide.  Caller: the supervisor engine and its service runners.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cells import private
from cells.procstat import exists, has_proc, proc_start, stat_fields

#: Stop timeout for a record that does not name one.
DEFAULT_STOP_TIMEOUT = 10.0
_POLL = 0.05
#: How long to wait for a group to go after KILL (a process stuck in the
#: kernel cannot be waited for forever).
_KILL_WAIT = 10.0


@dataclass(frozen=True)
class RunRecord:
    service: str
    pid: int
    pgid: int
    stamp: str | None
    owner: int | None
    owner_stamp: str | None
    stop_timeout: float


def start_stamp(pid: int) -> str | None:
    """When process `pid` started, as an opaque string; None if unknown."""
    if has_proc():
        return proc_start(pid)
    try:
        out = subprocess.run(
            ["ps", "-o", "lstart=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return " ".join(out.stdout.split()) or None


def _alive(pid: int) -> bool:
    """Whether `pid` is a process that is not a zombie."""
    if not has_proc():
        return exists(pid)
    fields = stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _group_alive(pgid: int) -> bool:
    """Whether any process that is not a zombie is left in group `pgid`."""
    if has_proc():
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                fields = stat_fields(int(entry))
                if fields is not None and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
                    return True
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _same(pid: int | None, stamp: str | None) -> bool:
    """Whether `pid` is alive and (where it can be checked) started at `stamp`."""
    if pid is None or not _alive(pid):
        return False
    now = start_stamp(pid)
    return stamp is None or now is None or now == stamp


class RunRecords:
    """The record files of one run dir."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(run_dir)
        self._owner = 0
        self._owner_stamp: str | None = None

    def _path(self, service: str) -> Path:
        return self.dir / f"{service}.json"

    def write(self, service: str, pid: int, stop_timeout: float) -> None:
        """Record a started process (a group leader); raises OSError."""
        if self._owner != os.getpid():
            self._owner = os.getpid()
            self._owner_stamp = start_stamp(self._owner)
        data = {
            "service": service,
            "pid": pid,
            "pgid": pid,
            "stamp": start_stamp(pid),
            "owner": self._owner,
            "owner_stamp": self._owner_stamp,
            "stop_timeout": stop_timeout,
        }
        # Private: whoever can write a record chooses what the next
        # supervisor kills.
        try:
            private.private_dir(self.dir)
        except private.UnsafeDirectory as e:
            raise OSError(errno.EPERM, str(e)) from None
        private.write_file(self._path(service), (json.dumps(data) + "\n").encode())

    def remove(self, service: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(service).unlink()

    def read(self) -> list[tuple[Path, RunRecord | None]]:
        """Every record file, with None for one that cannot be parsed."""
        try:
            paths = sorted(self.dir.glob("*.json"))
        except OSError:
            return []
        out: list[tuple[Path, RunRecord | None]] = []
        for path in paths:
            out.append((path, _parse(path)))
        return out

    async def stop_leftovers(
        self, default_timeout: float = DEFAULT_STOP_TIMEOUT
    ) -> list[tuple[str, str]]:
        """Stop the processes of dead supervisors: (service, line) per group
        stopped.  The groups are stopped together, so a host with many
        leftovers waits one stop timeout, not one per service."""
        found: list[tuple[Path, RunRecord]] = []
        for path, rec in self.read():
            if rec is not None and _same(rec.owner, rec.owner_stamp):
                continue  # its supervisor is still running
            if rec is not None and _same(rec.pid, rec.stamp) and _pgid(rec.pid) == rec.pgid:
                found.append((path, rec))
            else:
                with contextlib.suppress(OSError):
                    path.unlink()

        async def stop(path: Path, rec: RunRecord) -> None:
            timeout = rec.stop_timeout if rec.stop_timeout > 0 else default_timeout
            await _stop_group(rec.pgid, timeout)
            with contextlib.suppress(OSError):
                path.unlink()

        await asyncio.gather(*(stop(path, rec) for path, rec in found))
        return [
            (
                rec.service,
                f"stopped leftover service {rec.service} (pid {rec.pid}) "
                "from a previous supervisor",
            )
            for _, rec in found
        ]


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


async def _stop_group(pgid: int, timeout: float) -> None:
    """TERM the group, KILL it after `timeout`, then poll until it is gone."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, _KILL_WAIT)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + wait
        while _group_alive(pgid):
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(_POLL)
        else:
            return


def _parse(path: Path) -> RunRecord | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pid, pgid = data["pid"], data["pgid"]
        if not isinstance(pid, int) or not isinstance(pgid, int) or pid <= 1 or pgid <= 1:
            return None
        stamp, owner, owner_stamp = data.get("stamp"), data.get("owner"), data.get("owner_stamp")
        timeout = data.get("stop_timeout", 0)
        return RunRecord(
            service=str(data.get("service", path.stem)),
            pid=pid,
            pgid=pgid,
            stamp=stamp if isinstance(stamp, str) else None,
            owner=owner if isinstance(owner, int) else None,
            owner_stamp=owner_stamp if isinstance(owner_stamp, str) else None,
            stop_timeout=float(timeout) if isinstance(timeout, (int, float)) else 0.0,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
