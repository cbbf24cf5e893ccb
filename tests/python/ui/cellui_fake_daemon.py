"""A protocol-faithful stand-in for `cellmgr daemon`, for cellui tests.

It listens on a real Unix socket and speaks IPC protocol v1 (docs/ipc.md:
newline-delimited JSON requests, responses and subscription pushes, framed
and validated by cells.ipc.protocol, the daemon's own module) from its own
thread and event loop, so the app under test connects to it exactly as it
would to the daemon.  It keeps a small in-memory world (cells, volumes,
backups, logs, a pending plan), records every call, and can inject
failures: an error answer for a method, a stop (the daemon goes away), a
restart, a wrong protocol version.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cells.ipc import protocol

T = TypeVar("T")

FROZEN_NOW = 1_800_000_000.0


def cell(
    name: str,
    cid: int,
    state: str = "running",
    *,
    profile: str = "high",
    procs: int = 2,
    cpu: tuple[int, float] = (1, 0.3),
    memory: int = 24 * 1024 * 1024,
    age: float = 3725.0,
    health: str = "healthy",
    ports: tuple[int, ...] = (),
) -> dict[str, Any]:
    """One cell record as `status` reports it."""
    running = state == "running"
    return {
        "name": name,
        "id": cid,
        "state": state,
        "profile": profile,
        "autostart": True,
        "procs": procs if running else 0,
        "cpu_1s": cpu[0] if running else 0,
        "cpu_10s": cpu[1] if running else 0.0,
        "vmsize": memory if running else 0,
        "age": int(age),
        "health": health if running else "none",
        "ports": list(ports),
        "service": "running" if running else "stopped",
        "restarts": 0,
        "pid": 1000 + cid if running else None,
    }


def sample_cells() -> list[dict[str, Any]]:
    return [
        cell("web", 1, ports=(80, 443), cpu=(3, 2.9), memory=58 * 1024 * 1024),
        cell("db", 2, ports=(5432,), cpu=(12, 8.1), memory=412 * 1024 * 1024, age=86400 * 3),
        cell("cache", 3, profile="medium", ports=(6379,), age=42),
        cell("mail", 4, state="created", ports=(25, 587), age=7200),
        cell("build", 5, state="failed", profile="low", age=300),
        cell("dns", 6, ports=(53,), health="unhealthy", age=610),
    ]


@dataclass
class _Client:
    writer: asyncio.StreamWriter
    topics: set[str] = field(default_factory=set)


class FakeDaemon:
    """See the module docstring.  Public helpers are thread-safe."""

    def __init__(self, path: str, cells: list[dict[str, Any]] | None = None) -> None:
        self.path = path
        self.cells: dict[str, dict[str, Any]] = {
            c["name"]: c for c in (sample_cells() if cells is None else cells)
        }
        self.volumes: list[dict[str, Any]] = [
            {"name": "www", "mode": "0755", "owner": "www", "exists": True,
             "path": "/var/cells/volumes/www", "used_by": ["web"]},
            {"name": "pgdata", "mode": "0700", "owner": "pgsql", "exists": True,
             "path": "/var/cells/volumes/pgdata", "used_by": ["db"]},
        ]  # fmt: skip
        self.backups: list[dict[str, Any]] = [
            {"id": "db-20261128T030000Z", "cell": "db", "created": "2026-11-28T03:00:00Z",
             "size": 512 * 1024 * 1024, "path": "/var/backups/cells/db-20261128T030000Z.tar",
             "volumes": ["pgdata"]},
        ]  # fmt: skip
        self.logs: dict[str, list[dict[str, Any]]] = {
            "web": [
                {"time": FROZEN_NOW - 5, "stream": "daemon", "line": "service started, pid 1001"},
                {"time": FROZEN_NOW - 1, "stream": "stdout", "line": 'GET / HTTP/1.1" 200'},
            ]
        }
        #: cells a `plan`/`apply` would create (name -> record)
        self.desired: dict[str, dict[str, Any]] = {}
        self.failures: dict[str, tuple[str, str]] = {}
        #: cells whose creation fails during apply (name -> detail)
        self.broken: dict[str, str] = {}
        self.protocol = 1
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.connections = 0
        self._clients: list[_Client] = []
        self._server: asyncio.AbstractServer | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._plans = 0

    # -- control from the test thread -------------------------------------------

    def _run(self, fn: Callable[[], T]) -> T:
        future: Future[T] = Future()

        def call() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(call)
        return future.result(timeout=5)

    def _await(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=5)

    def start(self) -> FakeDaemon:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

        async def listen() -> None:
            self._server = await asyncio.start_unix_server(
                self._serve, self.path, limit=16 * 1024 * 1024
            )

        self._await(listen())
        return self

    def stop(self, farewell: bool = False) -> None:
        """The daemon goes away: listener closed, every connection dropped;
        with `farewell`, after a `daemon` "stopping" event, as on SIGTERM."""

        async def close() -> None:
            if farewell:
                self._push("daemon", {"state": "stopping", "message": "daemon stops"}, "daemon")
                await asyncio.sleep(0.05)
            if self._server is not None:
                self._server.close()
                self._server = None
            for client in self._clients:
                client.writer.close()
            self._clients.clear()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

        self._await(close())

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def fail(self, method: str, code: str, message: str) -> None:
        """Answer every later `method` call with this error."""
        self._run(lambda: self.failures.__setitem__(method, (code, message)))

    def update_cell(self, name: str, **fields: Any) -> None:
        """Change a cell and push the new snapshot to subscribers."""

        def change() -> None:
            self.cells[name].update(fields)
            self._push_cells()

        self._run(change)

    def push_snapshots(self, count: int, name: str) -> None:
        """Push `count` snapshots in a row, cpu_1s = 0 .. count-1 for `name`."""

        def burst() -> None:
            for i in range(count):
                self.cells[name]["cpu_1s"] = i
                self._push_cells()

        self._run(burst)

    def push(self, event: str, data: Any, topic: str | None = None) -> None:
        self._run(lambda: self._push(event, data, topic or event))

    def send_garbage(self) -> None:
        """Write a line that is not JSON to every client."""

        def garble() -> None:
            for client in self._clients:
                client.writer.write(b"this is not json\n")

        self._run(garble)

    def plan_elsewhere(self) -> None:
        """Another client plans: every plan handed out before is stale."""

        def bump() -> None:
            self._plans += 1

        self._run(bump)

    def subscribed(self, topic: str) -> bool:
        return self._run(lambda: any(topic in c.topics for c in self._clients))

    def methods(self) -> list[str]:
        return self._run(lambda: [m for m, _ in self.calls])

    # -- the protocol ---------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer)
        self._clients.append(client)
        self.connections += 1
        try:
            while line := await reader.readline():
                self._send(client, self._answer(client, line))
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if client in self._clients:
                self._clients.remove(client)
            writer.close()

    def _send(self, client: _Client, msg: dict[str, Any]) -> None:
        msg["v"] = self.protocol
        client.writer.write(protocol.encode(msg))

    def _answer(self, client: _Client, line: bytes) -> dict[str, Any]:
        rid = None
        try:
            request = protocol.decode(line)
            rid = request.get("id")
            rid, method, params = protocol.check_request(request)
        except protocol.ProtocolError as exc:
            return protocol.error(rid if isinstance(rid, int) else None, exc.code, exc.message)
        self.calls.append((method, params))
        if method in self.failures:
            code, message = self.failures[method]
            return protocol.error(rid, code, message)  # type: ignore[arg-type]
        try:
            return protocol.ok(rid, self._method(client, method, params))
        except protocol.ProtocolError as exc:
            return protocol.error(rid, exc.code, exc.message)
        except LookupError as exc:
            return protocol.error(rid, "not_found", str(exc.args[0]))

    def _targets(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        names = list(self.cells) if params.get("all") else list(params.get("cells", []))
        if not names:
            raise protocol.ProtocolError("invalid", "name cells or set all")
        for name in names:
            if name not in self.cells:
                raise LookupError(f"no cell named {name!r}")
        return [self.cells[n] for n in names]

    def _method(self, client: _Client, method: str, params: dict[str, Any]) -> Any:
        if method == "hello":
            return {"server": "cellmgr", "version": "0.1.0", "protocol": 1,
                    "backend": "sim", "enforcing": False, "pid": os.getpid()}  # fmt: skip
        if method == "status":
            return {"cells": copy.deepcopy(list(self.cells.values()))}
        if method == "subscribe":
            for topic in params.get("topics", []):
                client.topics.add(protocol.check_topic(topic))
            return {"topics": sorted(client.topics)}
        if method in ("cell.start", "cell.restart"):
            targets = self._targets(params)
            for c in targets:
                c.update(state="running", procs=2, age=0, health="starting", service="running")
            self._push_cells()
            return {"cells": [c["name"] for c in targets]}
        if method == "cell.stop":
            targets = self._targets(params)
            for c in targets:
                c.update(state="created", procs=0, cpu_1s=0, cpu_10s=0.0, service="stopped",
                         health="none", pid=None)  # fmt: skip
            self._push_cells()
            return {"cells": [c["name"] for c in targets]}
        if method == "plan":
            self._plans += 1
            actions = [
                {"op": "cell.create", "name": n, "cause": "new",
                 "reasons": [{"field": "profile", "old": None, "new": c["profile"],
                              "drift": False}],
                 "restarts": [], "steps": []}
                for n, c in sorted(self.desired.items())
            ]  # fmt: skip
            return {"version": 1, "fingerprint": f"fp-{self._plans}",
                    "changes": bool(actions), "actions": actions, "drift": [],
                    "notes": []}  # fmt: skip
        if method == "apply":
            if "fingerprint" in params and params["fingerprint"] != f"fp-{self._plans}":
                raise protocol.ProtocolError("invalid", "the plan is stale; plan again")
            results = [
                {"action": f"cell.create {n}", "changed": [], "ok": n not in self.broken,
                 "detail": self.broken.get(n, "")}
                for n in sorted(self.desired)
            ]  # fmt: skip
            self.cells.update({n: c for n, c in self.desired.items() if n not in self.broken})
            self.desired = {n: c for n, c in self.desired.items() if n in self.broken}
            self._push_cells()
            ok = all(r["ok"] for r in results)
            return {"fingerprint": f"fp-{self._plans}", "ok": ok, "actions": results}
        if method == "volumes.list":
            return {"volumes": copy.deepcopy(self.volumes)}
        if method == "backup.list":
            return {"backups": copy.deepcopy(self.backups)}
        if method == "backup.create":
            (c,) = self._targets({"cells": [params.get("cell")]})
            bid = f"{c['name']}-{len(self.backups) + 1}"
            backup = {"id": bid, "cell": c["name"], "created": "2027-01-15T08:00:00Z",
                      "size": 1024, "path": f"/var/backups/{bid}.tar", "volumes": []}  # fmt: skip
            self.backups.append(backup)
            return backup
        if method in ("backup.restore", "backup.delete"):
            if params.get("yes") is not True:
                raise protocol.ProtocolError("invalid", f"{method} needs yes: true")
            found = [b for b in self.backups if b["id"] == params.get("id")]
            if not found:
                raise LookupError(f"no backup {params.get('id')!r}")
            if method == "backup.delete":
                self.backups.remove(found[0])
                return {"id": found[0]["id"]}
            return found[0]
        if method == "logs.tail":
            name = str(params.get("cell"))
            if name not in self.cells:
                raise LookupError(f"no cell named {name!r}")
            return {"lines": self.logs.get(name, [])[-int(params.get("lines", 100)) :]}
        raise protocol.ProtocolError("invalid", f"unknown method {method!r}")

    def _push_cells(self) -> None:
        self._push("cells", {"cells": copy.deepcopy(list(self.cells.values()))}, "cells")

    def _push(self, event: str, data: Any, topic: str) -> None:
        for client in self._clients:
            if topic in client.topics:
                self._send(client, protocol.event(event, data))  # type: ignore[arg-type]
