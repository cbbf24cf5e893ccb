"""Client library for the cellmgr daemon socket (async and sync).

`AsyncClient` (asyncio) multiplexes calls by id and queues pushed events;
`Client` is a small blocking wrapper for scripts and the CLI.  Both check
who serves the socket before sending anything: a server that is neither
root nor the calling user raises `UntrustedServer`.  A lost or refused
connection raises `ConnectionLost` (a `CellsError`); callers that want to
survive a daemon restart catch it and call `connect()` again.  A
server-side failure raises `IpcError` with the protocol's error code.
Callers: the cellmgr CLI (status/start/stop/logs when a daemon runs), cellui.

    async with AsyncClient(path) as c:
        hello = await c.hello()
        cells = (await c.status())["cells"]
        await c.subscribe(["cells", "log:web"])
        async for ev in c.events():
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections import deque
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

from cells.errors import CellsError
from cells.ipc import peercred, protocol
from cells.ipc.protocol import ErrorCode, ProtocolError


class ConnectionLost(CellsError):
    """The daemon is not reachable, or went away during a call."""


class UntrustedServer(CellsError):
    """The process on the socket is neither root nor the calling user: it is
    not the daemon (someone may have replaced the socket), and nothing was
    sent to it."""


def check_server(sock: socket.socket, path: str) -> None:
    """Raise UntrustedServer unless root or this user answers on `sock`.

    Called on every new connection before the first byte is sent."""
    try:
        uid = peercred.peer_uid(sock)
    except OSError as e:
        raise UntrustedServer(
            f"refusing to talk to {path}: cannot tell who serves it ({e})"
        ) from None
    if not peercred.server_allowed(uid):
        raise UntrustedServer(
            f"refusing to talk to {path}: it is served by uid {uid}, not by root or by "
            f"you (uid {os.geteuid()}); someone may have replaced the daemon's socket"
        )


class IpcError(CellsError):
    """The daemon answered with an error."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code


def default_socket() -> str:
    from cells.ipc.address import default_socket

    return default_socket()


def _unreachable(path: str, e: BaseException) -> ConnectionLost:
    return ConnectionLost(
        f"cannot reach cellmgr daemon at {path}: {e}; start it with "
        "'cellmgr daemon' or set --socket / CELLS_SOCKET"
    )


def _result(reply: dict[str, Any]) -> Any:
    if reply.get("ok"):
        return reply.get("result")
    err = reply.get("error") or {}
    code = err.get("code", "internal")
    raise IpcError(
        code if code in protocol.ERROR_CODES else "internal",
        str(err.get("message", "unknown error")),
    )


class AsyncClient:
    """One connection to the daemon; safe to use from one event loop."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = str(path) if path is not None else default_socket()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._closed_why = "connection closed"
        self._next_id = 0
        self._task: asyncio.Task[None] | None = None
        self.server: dict[str, Any] = {}

    async def __aenter__(self) -> AsyncClient:
        await self.connect()
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._task is not None and not self._task.done()

    async def connect(self) -> dict[str, Any]:
        """(Re)connect and say hello; returns the server's hello result."""
        await self.close()
        try:
            self._reader, self._writer = await asyncio.open_unix_connection(
                self.path, limit=protocol.MAX_LINE
            )
        except OSError as e:
            raise _unreachable(self.path, e) from None
        try:
            check_server(self._writer.get_extra_info("socket"), self.path)
        except UntrustedServer:
            self._writer.close()
            self._reader = self._writer = None
            raise
        self._events = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._read_loop())
        self.server = await self.hello()
        return self.server

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self._writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._fail_pending("connection closed")
        self._reader = self._writer = self._task = None

    def _fail_pending(self, why: str) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ConnectionLost(f"cellmgr daemon at {self.path}: {why}"))
        self._pending.clear()

    async def _read_loop(self) -> None:
        assert self._reader is not None
        why = "connection closed by the daemon"
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                msg = protocol.decode(line)
                if "event" in msg:
                    self._events.put_nowait(msg)
                    continue
                fut = self._pending.pop(msg.get("id", -1), None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
        except (OSError, ValueError, ProtocolError) as e:
            why = f"connection lost: {e}"
        finally:
            self._closed_why = why
            self._fail_pending(why)
            self._events.put_nowait(None)

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        if self._writer is None or not self.connected:
            raise ConnectionLost(f"not connected to cellmgr daemon at {self.path}")
        self._next_id += 1
        rid = self._next_id
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        try:
            self._writer.write(protocol.encode(protocol.request(rid, method, params)))
            await self._writer.drain()
        except (OSError, ConnectionError) as e:
            self._pending.pop(rid, None)
            raise ConnectionLost(f"cellmgr daemon at {self.path}: {e}") from None
        return _result(await fut)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Pushed events ({"event": name, "data": ...}) until the connection ends;
        then raises ConnectionLost."""
        while True:
            msg = await self._events.get()
            if msg is None:
                raise ConnectionLost(f"cellmgr daemon at {self.path}: {self._closed_why}")
            yield {"event": msg["event"], "data": msg.get("data")}

    # -- methods (docs/ipc.md) -------------------------------------------
    async def hello(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("hello")
        return result

    async def status(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("status")
        return result

    async def start(self, cells: list[str] | None = None, *, all: bool = False) -> Any:
        return await self.call("cell.start", _targets(cells, all))

    async def stop(self, cells: list[str] | None = None, *, all: bool = False) -> Any:
        return await self.call("cell.stop", _targets(cells, all))

    async def restart(self, cells: list[str] | None = None, *, all: bool = False) -> Any:
        return await self.call("cell.restart", _targets(cells, all))

    async def plan(self, cells: list[str] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("plan", {"cells": cells or []})
        return result

    async def apply(
        self, fingerprint: str | None = None, cells: list[str] | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"cells": cells or []}
        if fingerprint:
            params["fingerprint"] = fingerprint
        result: dict[str, Any] = await self.call("apply", params)
        return result

    async def volumes(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self.call("volumes.list"))["volumes"]
        return result

    async def backups(self, cell: str | None = None) -> list[dict[str, Any]]:
        params = {"cell": cell} if cell else {}
        result: list[dict[str, Any]] = (await self.call("backup.list", params))["backups"]
        return result

    async def backup_create(self, cell: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("backup.create", {"cell": cell})
        return result

    async def backup_restore(self, backup_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("backup.restore", {"id": backup_id, "yes": True})
        return result

    async def backup_delete(self, backup_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("backup.delete", {"id": backup_id, "yes": True})
        return result

    async def logs_tail(self, cell: str, lines: int = 100) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (
            await self.call("logs.tail", {"cell": cell, "lines": lines})
        )["lines"]
        return result

    async def subscribe(self, topics: list[str]) -> list[str]:
        result: list[str] = (await self.call("subscribe", {"topics": topics}))["topics"]
        return result


def _targets(cells: list[str] | None, all: bool) -> dict[str, Any]:
    return {"all": True} if all else {"cells": list(cells or [])}


class Client:
    """Blocking client: `call()` plus the same method names as AsyncClient."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, timeout: float | None = 120.0
    ) -> None:
        self.path = str(path) if path is not None else default_socket()
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buf = b""
        self._next_id = 0
        self._events: deque[dict[str, Any]] = deque()
        self.server: dict[str, Any] = {}

    def __enter__(self) -> Client:
        self.connect()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def connect(self) -> dict[str, Any]:
        self.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError as e:
            sock.close()
            raise _unreachable(self.path, e) from None
        try:
            check_server(sock, self.path)
        except UntrustedServer:
            sock.close()
            raise
        self._sock = sock
        self.server = self.hello()
        return self.server

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock, self._buf = None, b""

    def _readline(self) -> bytes:
        assert self._sock is not None
        while b"\n" not in self._buf:
            try:
                chunk = self._sock.recv(65536)
            except OSError as e:
                raise ConnectionLost(f"cellmgr daemon at {self.path}: {e}") from None
            if not chunk:
                raise ConnectionLost(
                    f"cellmgr daemon at {self.path}: connection closed by the daemon"
                )
            self._buf += chunk
            if len(self._buf) > protocol.MAX_LINE:
                raise ConnectionLost(f"cellmgr daemon at {self.path}: reply too long")
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def _read_message(self) -> dict[str, Any]:
        try:
            return protocol.decode(self._readline())
        except ProtocolError as e:
            raise IpcError(e.code, e.message) from None

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        if self._sock is None:
            raise ConnectionLost(f"not connected to cellmgr daemon at {self.path}")
        self._next_id += 1
        rid = self._next_id
        try:
            self._sock.sendall(protocol.encode(protocol.request(rid, method, params)))
        except OSError as e:
            raise ConnectionLost(f"cellmgr daemon at {self.path}: {e}") from None
        while True:
            msg = self._read_message()
            if "event" in msg:
                self._events.append({"event": msg["event"], "data": msg.get("data")})
            elif msg.get("id") == rid:
                return _result(msg)

    def next_event(self) -> dict[str, Any]:
        """Block until the next pushed event (after subscribe)."""
        if self._events:
            return self._events.popleft()
        while True:
            msg = self._read_message()
            if "event" in msg:
                return {"event": msg["event"], "data": msg.get("data")}

    def hello(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("hello")
        return result

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("status")
        return result

    def start(self, cells: list[str] | None = None, *, all: bool = False) -> Any:
        return self.call("cell.start", _targets(cells, all))

    def stop(self, cells: list[str] | None = None, *, all: bool = False) -> Any:
        return self.call("cell.stop", _targets(cells, all))

    def restart(self, cells: list[str] | None = None, *, all: bool = False) -> Any:
        return self.call("cell.restart", _targets(cells, all))

    def plan(self, cells: list[str] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.call("plan", {"cells": cells or []})
        return result

    def apply(
        self, fingerprint: str | None = None, cells: list[str] | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"cells": cells or []}
        if fingerprint:
            params["fingerprint"] = fingerprint
        result: dict[str, Any] = self.call("apply", params)
        return result

    def logs_tail(self, cell: str, lines: int = 100) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("logs.tail", {"cell": cell, "lines": lines})[
            "lines"
        ]
        return result

    def subscribe(self, topics: list[str]) -> list[str]:
        result: list[str] = self.call("subscribe", {"topics": topics})["topics"]
        return result
