"""Forward a service's stdout and stderr to its log sink, line by line.

`LineSplitter` cuts a byte stream into lines of at most `max_line` bytes
(a longer line is passed on in pieces, nothing is dropped) and hands back
the partial last line at end of stream.  `OutputPump` reads the two pipe
ends of one process with event-loop readers (no thread, no task per
stream) and calls the sink with each decoded line.  Caller: the
supervisor engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable

from cells.supervisor.spec import Stream

_READ_SIZE = 65536


class LineSplitter:
    """Incremental splitter of bytes into bounded lines (without the newline)."""

    def __init__(self, max_line: int) -> None:
        self._max = max_line
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        lines: list[bytes] = []
        start = 0
        buffer = self._buffer
        while True:
            newline = buffer.find(b"\n", start)
            if newline < 0:
                break
            lines.extend(self._pieces(bytes(buffer[start:newline])))
            start = newline + 1
        rest = buffer[start:]
        while len(rest) >= self._max:
            lines.append(bytes(rest[: self._max]))
            rest = rest[self._max :]
        self._buffer = bytearray(rest)
        return lines

    def _pieces(self, line: bytes) -> list[bytes]:
        if len(line) <= self._max:
            return [line]
        return [line[i : i + self._max] for i in range(0, len(line), self._max)]

    def flush(self) -> list[bytes]:
        """The partial last line, if any (end of stream)."""
        if not self._buffer:
            return []
        rest = bytes(self._buffer)
        self._buffer = bytearray()
        return [rest]


LineCallback = Callable[[Stream, str], None]


class OutputPump:
    """Reads the stdout and stderr pipes of one process until both close."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        streams: dict[Stream, int],
        on_line: LineCallback,
        max_line: int,
    ) -> None:
        self._loop = loop
        self._on_line = on_line
        self._fds: dict[Stream, int] = {}
        self._splitters: dict[Stream, LineSplitter] = {}
        self.closed: asyncio.Future[None] = loop.create_future()
        for stream, fd in streams.items():
            os.set_blocking(fd, False)
            self._fds[stream] = fd
            self._splitters[stream] = LineSplitter(max_line)
            loop.add_reader(fd, self._readable, stream)
        if not self._fds:
            self.closed.set_result(None)

    def _emit(self, stream: Stream, lines: list[bytes]) -> None:
        for raw in lines:
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            self._on_line(stream, raw.decode("utf-8", "replace"))

    def _readable(self, stream: Stream) -> None:
        fd = self._fds.get(stream)
        if fd is None:
            return
        try:
            data = os.read(fd, _READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            self._emit(stream, self._splitters[stream].feed(data))
            return
        self._close_stream(stream)

    def _close_stream(self, stream: Stream) -> None:
        fd = self._fds.pop(stream, None)
        if fd is None:
            return
        self._loop.remove_reader(fd)
        os.close(fd)
        self._emit(stream, self._splitters[stream].flush())
        if not self._fds and not self.closed.done():
            self.closed.set_result(None)

    async def drain(self, timeout: float) -> None:
        """Wait up to `timeout` for end of output, then close what is left.

        Whatever is already buffered in a pipe is forwarded before closing.
        """
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        for stream in list(self._fds):
            fd = self._fds[stream]
            while True:
                try:
                    data = os.read(fd, _READ_SIZE)
                except OSError:
                    break
                if not data:
                    break
                self._emit(stream, self._splitters[stream].feed(data))
            self._close_stream(stream)
