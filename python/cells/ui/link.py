"""The connection to `cellmgr daemon`: the one piece of cellui that does IO.

`DaemonLink.run()` is the app's single background worker.  Through
`cells.ipc.client.AsyncClient` (protocol v1, docs/ipc.md) it connects to
the daemon's socket, says hello, subscribes to the `cells`, `audit` and
`daemon` topics and to `log:<cell>` for followed cells, reads `status`, and then
serves two streams at once: requests the UI queued with `send()` (each a
pipelined call), and pushes from the daemon.  When the daemon goes away
it fails what was in flight or queued, posts `Disconnected`, and
reconnects with capped exponential backoff, forever.

Snapshots and log lines are coalesced here: the link keeps only the newest
snapshot and a bounded buffer of lines, and posts one `CellsChanged` /
`LinesArrived` notice until the UI takes the data.  Callers: cells.ui.app.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from textual.message import Message

from cells.ipc.client import AsyncClient, ConnectionLost, IpcError
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

HANDSHAKE_TIMEOUT = 5.0
LINE_BUFFER = 5000
#: Request kinds the link makes for itself; their failures are not shown.
_INTERNAL = frozenset({"poll", "subscribe", "tail"})


@dataclass(frozen=True)
class LogEntry:
    """A line for the follow view: service output or a kernel audit event."""

    topic: str
    cell: str
    text: str
    time: float | None = None
    stream: str = ""


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
        self._inflight: set[asyncio.Task[None]] = set()
        self._raw_snapshot: Any = None
        self._snapshot: Snapshot | None = None
        self._snapshot_noticed = False
        self._lines: deque[LogEntry] = deque(maxlen=LINE_BUFFER)
        self._lines_noticed = False
        self._follow: set[str] = set()
        self._last_cells = 0.0
        self._polling = False
        self._farewell = ""
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
            topics = {"topics": [f"log:{cell}"]}
            self._outbox.put_nowait(Request("subscribe", topics, f"follow {cell}", "subscribe"))
            tail = {"cell": cell, "lines": backlog}
            self._outbox.put_nowait(Request("logs.tail", tail, f"logs of {cell}", "tail"))

    def unfollow(self, cell: str) -> None:
        self._follow.discard(cell)

    def take_snapshot(self) -> Snapshot | None:
        """The newest snapshot; re-arms the `CellsChanged` notice."""
        self._snapshot_noticed = False
        return self._current()

    def _current(self) -> Snapshot | None:
        # Parsed on demand, once per render, not once per push.
        if self._raw_snapshot is not None:
            self._snapshot = parse_snapshot(self._raw_snapshot, self._clock())
            self._raw_snapshot = None
        return self._snapshot

    def take_lines(self) -> list[LogEntry]:
        """Every buffered line, oldest first; re-arms `LinesArrived`."""
        self._lines_noticed = False
        lines = list(self._lines)
        self._lines.clear()
        return lines

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
            self._fail_queued()
            self._post(Disconnected(self.path, reason, delay))
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff_max)

    async def _one_connection(self, reconnecting: bool) -> str:
        client = AsyncClient(self.path)
        self._farewell = ""
        try:
            await asyncio.wait_for(self._handshake(client), HANDSHAKE_TIMEOUT)
            self.connected = True
            self._post(Connected(self.path, reconnecting, self.server))
            await self._serve(client)
            return "the daemon closed the connection"
        except TimeoutError:
            return "the daemon did not answer"
        except ConnectionLost as exc:
            return self._farewell or self._short(str(exc))
        except IpcError as exc:
            return f"{exc.code}: {exc}"
        except Exception as exc:
            # A bug here must not take the whole UI down: say it and retry.
            return f"cellui could not handle the daemon's answer: {type(exc).__name__}: {exc}"
        finally:
            await client.close()

    def _short(self, message: str) -> str:
        """The client's message without the "…daemon at PATH: " the banner says."""
        for prefix in (f"cannot reach cellmgr daemon at {self.path}: ",
                       f"cellmgr daemon at {self.path}: "):  # fmt: skip
            if message.startswith(prefix):
                return message[len(prefix) :]
        return message

    async def _handshake(self, client: AsyncClient) -> None:
        self.server = await client.connect()
        # Subscribe before reading status: a change between the two is then
        # either in the status answer or pushed after it, never lost.
        topics = ["cells", "audit", "daemon", *(f"log:{c}" for c in sorted(self._follow))]
        await client.subscribe(topics)
        self._set_snapshot(await client.status())

    async def _serve(self, client: AsyncClient) -> None:
        events = aiter(client.events())
        pushed: asyncio.Future[dict[str, Any]] = asyncio.ensure_future(anext(events))
        queued: asyncio.Task[Request] = asyncio.ensure_future(self._outbox.get())
        try:
            while True:
                waiting: set[asyncio.Future[Any]] = {pushed, queued}
                done, _ = await asyncio.wait(
                    waiting,
                    timeout=self._poll_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if pushed in done:
                    event = pushed.result()  # ConnectionLost when the daemon goes
                    self._on_event(str(event.get("event")), event.get("data"))
                    pushed = asyncio.ensure_future(anext(events))
                if queued in done:
                    self._start(client, queued.result())
                    queued = asyncio.ensure_future(self._outbox.get())
                if time.monotonic() - self._last_cells >= self._poll_interval and not self._polling:
                    self._polling = True
                    self._start(client, Request("status", {}, "status", "poll"))
        finally:
            pushed.cancel()
            if queued.done() and not queued.cancelled():
                self._outbox.put_nowait(queued.result())
            queued.cancel()

    def _start(self, client: AsyncClient, request: Request) -> None:
        task = asyncio.ensure_future(self._perform(client, request))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _perform(self, client: AsyncClient, request: Request) -> None:
        """One call; its outcome becomes a message (or feeds the link)."""
        try:
            result = await client.call(request.method, request.params)
        except IpcError as exc:
            # A cell that has logged nothing yet has no backlog: not an error.
            quiet = request.kind in _INTERNAL and not (
                request.kind == "tail" and exc.code != "not_found"
            )
            if not quiet:
                self._post(Failed(request, exc.code, str(exc).splitlines()[0]))
            return
        except ConnectionLost:
            if request.kind not in _INTERNAL:
                self._post(
                    Failed(request, "unreachable", "connection to the cellmgr daemon was lost")
                )
            return
        finally:
            if request.kind == "poll":
                self._polling = False
        if request.kind == "poll":
            self._set_snapshot(result)
        elif request.kind == "tail":
            self._add_tail(str(request.params.get("cell", "")), result)
        elif request.kind != "subscribe":
            self._post(Replied(request, result))

    # -- what came in ------------------------------------------------------------

    def _on_event(self, event: str, data: Any) -> None:
        if event == "cells":
            self._set_snapshot(data)
        elif event == "log" and isinstance(data, Mapping):
            self._add_log(str(data.get("cell", "")), data)
        elif event == "daemon" and isinstance(data, Mapping):
            if data.get("state") == "stopping":
                # Said just before the daemon closes every connection.
                self._farewell = f"the daemon is stopping ({data.get('message') or 'no reason'})"
        elif event == "audit" and isinstance(data, Mapping):
            cell = self._cell_name(data.get("cell"))
            if cell in self._follow:
                self._append(LogEntry("audit", cell, format_audit(data), _time(data)))

    def _cell_name(self, ref: Any) -> str:
        """Audit records name the cell by kernel id; map it to a name."""
        if isinstance(ref, int):
            snapshot = self._current()
            for cell in snapshot.cells if snapshot is not None else ():
                if cell.id == ref:
                    return cell.name
        return str(ref)

    def _add_tail(self, cell: str, result: Any) -> None:
        lines = result.get("lines", []) if isinstance(result, Mapping) else result
        for item in lines if isinstance(lines, list) else []:
            self._add_log(cell, item)

    def _add_log(self, cell: str, item: Any) -> None:
        if cell not in self._follow:
            return
        if isinstance(item, Mapping):
            text = str(item.get("line", item.get("message", "")))
            stream = str(item.get("stream", "stdout"))
            self._append(LogEntry("log", cell, text, _time(item), stream))
        else:
            self._append(LogEntry("log", cell, str(item)))

    def _append(self, entry: LogEntry) -> None:
        self._lines.append(entry)
        if not self._lines_noticed:
            self._lines_noticed = True
            self._post(LinesArrived())

    def _set_snapshot(self, data: Any) -> None:
        self._last_cells = time.monotonic()
        self._raw_snapshot = data
        if not self._snapshot_noticed:
            self._snapshot_noticed = True
            self._post(CellsChanged())

    def _fail_queued(self) -> None:
        """Fail what was queued but not sent: an action must not run later,
        on a reconnect the person did not see coming.  (Calls in flight
        fail on their own when the client closes.)"""
        while not self._outbox.empty():
            request = self._outbox.get_nowait()
            if request.kind not in _INTERNAL:
                self._post(
                    Failed(request, "unreachable", "connection to the cellmgr daemon was lost")
                )


def _time(data: Mapping[str, Any]) -> float | None:
    value = data.get("time")
    return float(value) if isinstance(value, int | float) else None
