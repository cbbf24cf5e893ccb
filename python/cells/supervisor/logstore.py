"""The bounded local log store: one size-capped, rotated file per service.

Writer: a `LogStore` is a log sink (`store(service, stream, line)`); each
line is appended to `<dir>/<service>.log` as `TIME<TAB>STREAM<TAB>LINE`
(TIME in UTC, ISO 8601 with milliseconds).  When a file would grow past
`max_bytes` it is rotated to `<service>.log.1` (older copies shift up to
`keep`), so a service never uses more than `(keep + 1) * max_bytes`.
Reader: `tail()` returns the last N records; `follow()` / `afollow()`
yield records as they are written, across rotations; `tail_and_follow()`
hands over from the one to the other without a gap.  Callers: the
supervisor's sinks on the sim (`cellctl supervise`, the cellmgr daemon) and
`cellmgr logs`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cells import private
from cells.errors import InvalidArgument, NotFound

DEFAULT_MAX_BYTES = 1 << 20
DEFAULT_KEEP = 1


@dataclass(frozen=True)
class LogRecord:
    """One stored output line."""

    time: str
    stream: str
    line: str

    def format(self) -> str:
        return f"{self.time} {self.stream} {self.line}"


def _check_name(service: str) -> None:
    if not service or service in (".", "..") or "/" in service or "\0" in service:
        raise InvalidArgument(f"log store: {service!r} is not a service name")


def _timestamp(now: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
    return f"{seconds}.{int(now * 1000) % 1000:03d}Z"


def _parse(raw: bytes) -> LogRecord:
    text = raw.decode("utf-8", "replace")
    parts = text.split("\t", 2)
    if len(parts) != 3:
        return LogRecord("", "", text)
    return LogRecord(parts[0], parts[1], parts[2])


class LogStore:
    """Writes service output under `directory`; also the reader's entry point."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        keep: int = DEFAULT_KEEP,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_bytes < 256 or keep < 1:
            raise InvalidArgument("log store: max_bytes must be >= 256 and keep >= 1")
        self.directory = os.fspath(directory)
        self.max_bytes = max_bytes
        self.keep = keep
        self._clock = clock
        self._files: dict[str, tuple[BinaryIO, int]] = {}

    def path(self, service: str) -> str:
        _check_name(service)
        return os.path.join(self.directory, f"{service}.log")

    # -- writing ---------------------------------------------------------------

    def __call__(self, service: str, stream: str, line: str) -> None:
        record = f"{_timestamp(self._clock())}\t{stream}\t{line}\n".encode("utf-8", "replace")
        handle, size = self._open(service)
        if size and size + len(record) > self.max_bytes:
            self._rotate(service)
            handle, size = self._open(service)
        handle.write(record)
        handle.flush()
        self._files[service] = (handle, size + len(record))

    def _open(self, service: str) -> tuple[BinaryIO, int]:
        entry = self._files.get(service)
        if entry is not None:
            return entry
        path = self.path(service)
        try:
            # Service output may hold secrets: 0600 files, a new directory 0700.
            private.ensure_dir(self.directory)
            fd = private.open_file(path, os.O_WRONLY | os.O_APPEND)
            handle = os.fdopen(fd, "ab")
        except OSError as exc:
            raise InvalidArgument(
                f"log store: cannot open {path}: {exc.strerror}; check --log-dir"
            ) from None
        entry = (handle, handle.tell())
        self._files[service] = entry
        return entry

    def _rotate(self, service: str) -> None:
        handle, _ = self._files.pop(service)
        handle.close()
        path = self.path(service)
        for index in range(self.keep - 1, 0, -1):
            older = f"{path}.{index}"
            if os.path.exists(older):
                os.replace(older, f"{path}.{index + 1}")
        os.replace(path, f"{path}.1")

    def close(self) -> None:
        for handle, _ in self._files.values():
            handle.close()
        self._files.clear()

    # -- reading ---------------------------------------------------------------

    def services(self) -> list[str]:
        """Services that have a log here."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        return sorted(n[: -len(".log")] for n in names if n.endswith(".log"))

    def tail(self, service: str, count: int) -> list[LogRecord]:
        """The last `count` records of a service, oldest first."""
        path = self.path(service)
        files = [f"{path}.{i}" for i in range(self.keep, 0, -1)] + [path]
        if not any(os.path.exists(f) for f in files):
            raise NotFound(f"no logs for {service!r} in {self.directory}")
        last: deque[LogRecord] = deque(maxlen=max(count, 0))
        if count <= 0:
            return []
        for name in files:
            try:
                with open(name, "rb") as handle:
                    for raw in handle:
                        if raw.endswith(b"\n"):
                            last.append(_parse(raw[:-1]))
            except FileNotFoundError:
                continue
        return list(last)

    def tail_and_follow(self, service: str, count: int) -> tuple[list[LogRecord], LogFollower]:
        """The last `count` records, and a follower that goes on exactly
        where they end: a line written in between is neither lost nor
        repeated.  The live file is opened once, first; the rotated copies
        are read before it, and a copy that is the open file (a rotation
        in between) is skipped."""
        path = self.path(service)
        follower = LogFollower(path, from_start=True)
        live = follower.inode
        last: deque[LogRecord] = deque(maxlen=max(count, 0))
        for name in [f"{path}.{i}" for i in range(self.keep, 0, -1)]:
            try:
                with open(name, "rb") as handle:
                    if os.fstat(handle.fileno()).st_ino == live:
                        continue
                    last.extend(_parse(raw[:-1]) for raw in handle if raw.endswith(b"\n"))
            except FileNotFoundError:
                continue
        if live is None and count > 0 and not last:
            follower.close()
            raise NotFound(f"no logs for {service!r} in {self.directory}")
        last.extend(follower.read())
        return (list(last) if count > 0 else []), follower

    def follower(self, service: str, *, from_start: bool = False) -> LogFollower:
        return LogFollower(self.path(service), from_start=from_start)

    def follow(
        self,
        service: str,
        *,
        from_start: bool = False,
        poll_interval: float = 0.2,
        stop: Callable[[], bool] | None = None,
        follower: LogFollower | None = None,
    ) -> Iterator[LogRecord]:
        """Yield new records as they are written, until `stop()` returns true
        (from `follower` when given, e.g. the one `tail_and_follow()` left)."""
        if follower is None:
            follower = self.follower(service, from_start=from_start)
        try:
            while stop is None or not stop():
                records = follower.read()
                yield from records
                if not records:
                    time.sleep(poll_interval)
        finally:
            follower.close()

    async def afollow(
        self, service: str, *, from_start: bool = False, poll_interval: float = 0.2
    ) -> AsyncIterator[LogRecord]:
        """Async form of `follow()`; ends when the consumer stops iterating."""
        follower = self.follower(service, from_start=from_start)
        try:
            while True:
                records = follower.read()
                for record in records:
                    yield record
                if not records:
                    await asyncio.sleep(poll_interval)
        finally:
            follower.close()


class LogFollower:
    """Reads complete records appended to one log file, across rotations."""

    def __init__(self, path: str, *, from_start: bool) -> None:
        self._path = path
        self._handle: BinaryIO | None = None
        self._inode: int | None = None
        self._partial = b""
        self._reopen(at_end=not from_start)

    @property
    def inode(self) -> int | None:
        """The inode of the file being read (None before it exists)."""
        return self._inode

    def _reopen(self, *, at_end: bool) -> None:
        self.close()
        try:
            handle = open(self._path, "rb")  # noqa: SIM115 - kept open while following
        except FileNotFoundError:
            return
        if at_end:
            handle.seek(0, os.SEEK_END)
        self._handle = handle
        self._inode = os.fstat(handle.fileno()).st_ino
        self._partial = b""

    def read(self) -> list[LogRecord]:
        """Records written since the last call (possibly none)."""
        records: list[LogRecord] = []
        if self._handle is None:
            self._reopen(at_end=False)
            if self._handle is None:
                return records
        records.extend(self._drain())
        try:
            current = os.stat(self._path)
        except FileNotFoundError:
            return records
        assert self._handle is not None
        if current.st_ino != self._inode or current.st_size < self._handle.tell():
            self._reopen(at_end=False)
            records.extend(self._drain())
        return records

    def _drain(self) -> list[LogRecord]:
        assert self._handle is not None
        data = self._partial + self._handle.read()
        lines = data.split(b"\n")
        self._partial = lines.pop()
        return [_parse(raw) for raw in lines]

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
