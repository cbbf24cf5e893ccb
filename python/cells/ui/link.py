"""The connection to `cellmgr daemon`: the one piece of cellui that does IO.

`DaemonLink.run()` is the app's single background worker.  It connects to
the daemon's Unix socket (newline-delimited JSON, protocol v1: see
docs/ipc.md), says hello, subscribes to the `cells` and `audit` topics and
to `log:<cell>` for followed cells, reads `status`, and then serves two
streams at once: requests the UI queued with `send()`, and replies and
pushes from the daemon.  When the daemon goes away it fails what was in
flight, posts `Disconnected`, and reconnects with capped exponential
backoff, forever.

Snapshots and log lines are coalesced here: the link keeps only the newest
snapshot and a bounded buffer of lines, and posts one `CellsChanged` /
`LinesArrived` notice until the UI takes the data.  Callers: cells.ui.app.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from textual.message import Message

from cells.ui.messages import (
    CellsChanged,
    Connected,
    Disconnected,
    Failed,
    LinesArrived,
    Replied,
    Request,
)
from cells.ui.model import Snapshot, parse_snapshot

PROTOCOL_VERSION = 1
#: Longest line accepted from the daemon (a status of thousands of cells).
LINE_LIMIT = 16 * 1024 * 1024
HANDSHAKE_TIMEOUT = 5.0
LINE_BUFFER = 5000


class ProtocolError(Exception):
    """The daemon said something this client cannot understand."""


@dataclass(frozen=True)
class LogEntry:
    """A line for the follow view: service output or a kernel audit event."""

    topic: str
    cell: str
    text: str
    time: float | None = None


def format_audit(data: Mapping[str, Any]) -> str:
    """One line for a kernel audit record (a denial)."""
    parts = [str(data.get("op", "?")), "denied"]
    if data.get("scope"):
        parts.insert(0, f"{data['scope']}:")
    if data.get("reason"):
        parts.append(f"({data['reason']})")
    if data.get("euid") is not None:
        parts.append(f"euid={data['euid']}")
    if data.get("target") not in (None, 0, ""):
        parts.append(f"target={data['target']}")
    if data.get("seq") is not None:
        parts.append(f"seq={data['seq']}")
    return " ".join(parts)


class DaemonLink:
    """Owns the IPC connection; see the module docstring."""

    def __init__(
        self,
        path: str,
        post: Callable[[Message], object],
        *,
        backoff: tuple[float, float] = (0.25, 5.0),
        poll_interval: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self._post = post
        self._backoff_min, self._backoff_max = backoff
        self._poll_interval = poll_interval
        self._clock = clock
        self._outbox: asyncio.Queue[Request] = asyncio.Queue()
        self._pending: dict[int, Request] = {}
        self._next_id = 1
        self._snapshot: Snapshot | None = None
        self._snapshot_noticed = False
        self._lines: deque[LogEntry] = deque(maxlen=LINE_BUFFER)
        self._lines_noticed = False
        self._follow: set[str] = set()
        self._last_cells = 0.0
        self.connected = False
        self.server: dict[str, Any] = {}

    # -- called by the UI (same event loop, never blocks) -------------------

    def send(self, request: Request) -> None:
        """Queue a request; the answer arrives as `Replied` or `Failed`."""
        if not self.connected:
            self._post(Failed(request, "unreachable", f"cellmgr daemon unreachable at {self.path}"))
            return
        self._outbox.put_nowait(request)

    def follow(self, cell: str, backlog: int = 200) -> None:
        """Start feeding log lines and audit events of `cell`."""
        self._follow.add(cell)
        if self.connected:
            self._outbox.put_nowait(
                Request("subscribe", {"topics": [f"log:{cell}"]}, f"follow {cell}", "subscribe")
            )
            self._outbox.put_nowait(
                Request("logs.tail", {"cell": cell, "lines": backlog}, f"logs of {cell}", "tail")
            )

    def unfollow(self, cell: str) -> None:
        self._follow.discard(cell)

    def take_snapshot(self) -> Snapshot | None:
        """The newest snapshot; re-arms the `CellsChanged` notice."""
        self._snapshot_noticed = False
        return self._snapshot

    def take_lines(self) -> list[LogEntry]:
        """Every buffered line, oldest first; re-arms `LinesArrived`."""
        self._lines_noticed = False
        lines = list(self._lines)
        self._lines.clear()
        return lines

    def add_tail(self, cell: str, result: Any) -> None:
        """Buffer the backlog a `logs.tail` returned."""
        lines = result.get("lines", []) if isinstance(result, Mapping) else result
        for item in lines if isinstance(lines, list) else []:
            self._add_log(cell, item)

    # -- the worker ----------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve, reconnect; returns only when cancelled."""
        delay = self._backoff_min
        ever_connected = False
        while True:
            reason = await self._one_connection(ever_connected)
            if self.connected:
                ever_connected = True
                delay = self._backoff_min
            self.connected = False
            self._fail_pending("connection to the cellmgr daemon was lost")
            self._post(Disconnected(self.path, reason, delay))
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff_max)

    async def _one_connection(self, reconnecting: bool) -> str:
        try:
            reader, writer = await asyncio.open_unix_connection(self.path, limit=LINE_LIMIT)
        except OSError as exc:
            return exc.strerror or str(exc)
        try:
            await asyncio.wait_for(self._handshake(reader, writer), HANDSHAKE_TIMEOUT)
            self.connected = True
            self._post(Connected(self.path, reconnecting, self.server))
            await self._serve(reader, writer)
            return "the daemon closed the connection"
        except TimeoutError:
            return "the daemon did not answer hello"
        except (OSError, ProtocolError) as exc:
            return str(exc) or type(exc).__name__
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hello = await self._call(
            reader, writer, "hello", {"client": "cellui", "protocol": PROTOCOL_VERSION}
        )
        self.server = dict(hello) if isinstance(hello, Mapping) else {}
        # Subscribe before reading status: a change between the two is then
        # either in the status answer or pushed after it, never lost.
        topics = ["cells", "audit", *(f"log:{c}" for c in sorted(self._follow))]
        await self._call(reader, writer, "subscribe", {"topics": topics})
        self._set_snapshot(await self._call(reader, writer, "status", {}))

    async def _call(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        method: str,
        params: dict[str, Any],
    ) -> Any:
        """A request during the handshake, before the serve loop runs."""
        rid = self._write(writer, Request(method, params, method, "handshake"))
        await writer.drain()
        while True:
            msg = await self._read(reader)
            if msg.get("id") != rid:
                self._dispatch(msg)
                continue
            self._pending.pop(rid, None)
            if not msg.get("ok"):
                error = msg.get("error") or {}
                raise ProtocolError(
                    f"{method}: {error.get('code', 'error')}: {error.get('message', '')}"
                )
            return msg.get("result")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._last_cells = time.monotonic()
        reading: asyncio.Task[dict[str, Any]] = asyncio.ensure_future(self._read(reader))
        queued: asyncio.Task[Request] = asyncio.ensure_future(self._outbox.get())
        try:
            while True:
                done, _ = await asyncio.wait(
                    {reading, queued},
                    timeout=self._poll_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if reading in done:
                    self._dispatch(reading.result())
                    reading = asyncio.ensure_future(self._read(reader))
                if queued in done:
                    self._write(writer, queued.result())
                    queued = asyncio.ensure_future(self._outbox.get())
                if time.monotonic() - self._last_cells >= self._poll_interval and not any(
                    r.kind == "poll" for r in self._pending.values()
                ):
                    self._write(writer, Request("status", {}, "status", "poll"))
                await writer.drain()
        finally:
            reading.cancel()
            if queued.done() and not queued.cancelled():
                self._pending[-1] = queued.result()
            queued.cancel()

    async def _read(self, reader: asyncio.StreamReader) -> dict[str, Any]:
        try:
            line = await reader.readline()
        except ValueError as exc:
            raise ProtocolError(f"line from the daemon too long: {exc}") from None
        if not line:
            raise ConnectionResetError("the daemon closed the connection")
        try:
            msg = json.loads(line)
        except ValueError:
            raise ProtocolError("the daemon sent a line that is not JSON") from None
        if not isinstance(msg, dict):
            raise ProtocolError("the daemon sent a JSON value that is not an object")
        if msg.get("v", PROTOCOL_VERSION) != PROTOCOL_VERSION:
            raise ProtocolError(
                f"the daemon speaks protocol v{msg.get('v')}, cellui speaks"
                f" v{PROTOCOL_VERSION}; install matching versions"
            )
        return msg

    def _write(self, writer: asyncio.StreamWriter, request: Request) -> int:
        rid = self._next_id
        self._next_id += 1
        self._pending[rid] = request
        line = {"v": PROTOCOL_VERSION, "id": rid, "method": request.method}
        line["params"] = request.params
        writer.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
        return rid

    # -- what came in ------------------------------------------------------------

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "event" in msg:
            self._on_event(str(msg["event"]), msg.get("data"))
            return
        rid = msg.get("id")
        request = self._pending.pop(rid, None) if isinstance(rid, int) else None
        if request is None:
            return
        if msg.get("ok"):
            if request.kind == "poll":
                self._set_snapshot(msg.get("result"))
            elif request.kind == "tail":
                self.add_tail(str(request.params.get("cell", "")), msg.get("result"))
            elif request.kind != "subscribe":
                self._post(Replied(request, msg.get("result")))
            return
        error = msg.get("error") if isinstance(msg.get("error"), dict) else {}
        assert isinstance(error, dict)
        text = str(error.get("message") or "request failed").splitlines()[0]
        self._post(Failed(request, str(error.get("code", "internal")), text))

    def _on_event(self, event: str, data: Any) -> None:
        if event == "cells":
            self._set_snapshot(data)
        elif event == "log" and isinstance(data, Mapping):
            self._add_log(str(data.get("cell", "")), data)
        elif event == "audit" and isinstance(data, Mapping):
            cell = self._cell_name(data.get("cell"))
            if cell in self._follow:
                self._append(LogEntry("audit", cell, format_audit(data), _time(data)))

    def _cell_name(self, ref: Any) -> str:
        """Audit records may name the cell by kernel id; map it to a name."""
        if isinstance(ref, int) and self._snapshot is not None:
            for cell in self._snapshot.cells:
                if cell.id == ref:
                    return cell.name
        return str(ref)

    def _add_log(self, cell: str, item: Any) -> None:
        if cell not in self._follow:
            return
        if isinstance(item, Mapping):
            text = str(item.get("line", item.get("message", item.get("text", ""))))
            self._append(LogEntry("log", cell, text, _time(item)))
        else:
            self._append(LogEntry("log", cell, str(item)))

    def _append(self, entry: LogEntry) -> None:
        self._lines.append(entry)
        if not self._lines_noticed:
            self._lines_noticed = True
            self._post(LinesArrived())

    def _set_snapshot(self, data: Any) -> None:
        self._last_cells = time.monotonic()
        self._snapshot = parse_snapshot(data, self._clock())
        if not self._snapshot_noticed:
            self._snapshot_noticed = True
            self._post(CellsChanged())

    def _fail_pending(self, reason: str) -> None:
        """Fail what was sent or queued: an action must not run later, on
        a reconnect the person did not see coming."""
        pending = list(self._pending.values())
        self._pending.clear()
        while not self._outbox.empty():
            pending.append(self._outbox.get_nowait())
        for request in _user_requests(pending):
            self._post(Failed(request, "unreachable", reason))


def _user_requests(requests: Iterable[Request]) -> list[Request]:
    return [r for r in requests if r.kind not in ("poll", "handshake", "subscribe", "tail")]


def _time(data: Mapping[str, Any]) -> float | None:
    value = data.get("time")
    return float(value) if isinstance(value, int | float) else None
