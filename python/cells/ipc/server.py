"""The daemon side of the IPC socket: framing, peer check, dispatch, push.

`IpcServer` listens on a Unix stream socket (mode 0600, in a directory
that only root and its owner may write), checks each peer
(`peercred`), reads requests line by line, calls the handler for each one
(concurrently, so a slow `apply` does not block `status`) and writes the
reply.  `publish()` pushes an event to every connection subscribed to its
topic.  The handler raises `CellsError`s; they become error replies with
the matching code.  Caller: cells.mgr.daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import sys
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from cells import private
from cells.errors import (
    AbiMismatch,
    AlreadyExists,
    Busy,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    PortInUse,
)
from cells.failures import describe
from cells.ipc import peercred, protocol
from cells.ipc.protocol import ErrorCode, EventName, ProtocolError


def error_code(exc: BaseException) -> ErrorCode:
    if isinstance(exc, ProtocolError):
        return exc.code
    if isinstance(exc, NotFound):
        return "not_found"
    if isinstance(exc, (Busy, PortInUse)):
        return "busy"
    if isinstance(exc, (InvalidArgument, AlreadyExists)):
        return "invalid"
    if isinstance(exc, PermissionDenied):
        return "permission"
    if isinstance(exc, AbiMismatch):
        return "version"
    if isinstance(exc, PermissionError):
        return "permission"
    if isinstance(exc, (ValueError, RecursionError, re.error)) or type(exc).__module__.startswith(
        "yaml"
    ):
        return "invalid"  # bad input
    return "internal"


class Connection:
    def __init__(self, writer: asyncio.StreamWriter, uid: int | None) -> None:
        self.writer = writer
        self.uid = uid
        self.topics: set[str] = set()
        self.lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.lock:
            self.writer.write(protocol.encode(message))
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.drain()


Handler = Callable[[str, dict[str, Any], Connection], Awaitable[Any]]


class IpcServer:
    def __init__(
        self, path: Path, handler: Handler, *, check_peer: bool = True, debug: bool = False
    ) -> None:
        self.path = path
        self.handler = handler
        self.check_peer = check_peer
        self.debug = debug
        self.connections: set[Connection] = set()
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        # A new socket directory is 0700: the peer check lets only root and
        # the socket's owner talk, and both can reach a 0700 directory of the
        # owner; the directory, unlike the socket's own mode, keeps everyone
        # else away on every system (some ignore a socket's permissions).
        private.socket_dir(self.path.parent)
        if self.path.exists():
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(self.path))
            except OSError:
                pass  # a stale socket of a daemon that is gone
            else:
                raise Busy(
                    f"another cellmgr daemon answers at {self.path}; stop it first or give --socket"
                )
            finally:
                probe.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.path), limit=protocol.MAX_LINE
            )
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # only the socket this server made
            self._server = None

    async def publish(self, name: EventName, data: Any, topic: str) -> None:
        message = protocol.event(name, data)
        for conn in list(self.connections):
            if topic in conn.topics:
                await conn.send(message)

    def subscribers(self, topic: str) -> int:
        return sum(1 for c in self.connections if topic in c.topics)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        uid: int | None = None
        sock = writer.get_extra_info("socket")
        if self.check_peer:
            try:
                uid = peercred.peer_uid(sock)
            except OSError:
                uid = None
            if uid is None or not peercred.allowed(uid, str(self.path)):
                writer.write(
                    protocol.encode(
                        protocol.error(
                            None,
                            "permission",
                            f"uid {uid} may not use {self.path}: only root or the socket's owner",
                        )
                    )
                )
                with contextlib.suppress(ConnectionError, OSError, asyncio.TimeoutError):
                    await writer.drain()
                    # Read what the peer already sent, so closing does not reset
                    # the connection before it has read the reply.
                    await asyncio.wait_for(reader.read(protocol.MAX_LINE), 0.5)
                writer.close()
                return
        conn = Connection(writer, uid)
        self.connections.add(conn)
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    await conn.send(protocol.error(None, "invalid", "message too long"))
                    break
                except (ConnectionError, OSError):
                    break
                if not line:
                    break
                if not line.strip():
                    continue
                task = asyncio.get_running_loop().create_task(self._one(conn, line))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        finally:
            self.connections.discard(conn)
            writer.close()

    async def _one(self, conn: Connection, line: bytes) -> None:
        rid: int | None = None
        method = "?"
        try:
            obj = protocol.decode(line)
            raw = obj.get("id")
            rid = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
            rid, method, params = protocol.check_request(obj)
            result = await self.handler(method, params, conn)
            await conn.send(protocol.ok(rid, result))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # every failure becomes one error reply
            message = describe(e)
            if message is None:  # a bug: say so here too, in one line
                message = f"internal error: {type(e).__name__}: {e}"
                print(f"cellmgr: request {method}: {message}", file=sys.stderr, flush=True)
                if self.debug:
                    traceback.print_exception(e, file=sys.stderr)
            await conn.send(protocol.error(rid, error_code(e), message))
