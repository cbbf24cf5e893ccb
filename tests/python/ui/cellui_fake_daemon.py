"""A protocol-faithful stand-in for `cellmgr daemon`, for cellui tests.

It listens on a real Unix socket and speaks IPC protocol v1 (newline-
delimited JSON requests, responses and subscription pushes) from its own
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
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

FROZEN_NOW = 1_800_000_000.0


def cell(
    name: str,
    cid: int,
    state: str = "running",
    *,
    profile: str = "high",
    procs: int = 2,
    cpu: tuple[float, float] = (0.5, 0.3),
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
        "procs": procs if running else 0,
        "cpu_1s": cpu[0] if running else 0.0,
        "cpu_10s": cpu[1] if running else 0.0,
        "memory": memory if running else 0,
        "started": FROZEN_NOW - age if running else None,
        "health": health if running else "-",
        "ports": list(ports),
        "volumes": ["www:/var/www:ro"] if name == "web" else [],
        "service": f"/usr/pkg/sbin/{name}d",
    }


def sample_cells() -> list[dict[str, Any]]:
    return [
        cell("web", 1, ports=(80, 443), cpu=(3.2, 2.9), memory=58 * 1024 * 1024),
        cell("db", 2, ports=(5432,), cpu=(12.5, 8.1), memory=412 * 1024 * 1024, age=86400 * 3),
        cell("cache", 3, profile="medium", ports=(6379,), age=42),
        cell("mail", 4, state="stopped", ports=(25, 587)),
        cell("build", 5, state="failed", profile="low"),
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
            {"name": "www", "mode": "0755", "owner": "www", "size": 3 * 1024 * 1024,
             "path": "/var/cells/volumes/www", "used_by": ["web"]},
            {"name": "pgdata", "mode": "0700", "owner": "pgsql", "size": 900 * 1024 * 1024,
             "path": "/var/cells/volumes/pgdata", "used_by": ["db"]},
        ]  # fmt: skip
        self.backups: list[dict[str, Any]] = [
            {"id": "db-20261128T0300Z", "cell": "db", "created": FROZEN_NOW - 7200,
             "size": 512 * 1024 * 1024, "volumes": ["pgdata"]},
        ]  # fmt: skip
        self.logs: dict[str, list[dict[str, Any]]] = {
            "web": [
                {"cell": "web", "time": FROZEN_NOW - 5, "line": "httpd: started, pid 1234"},
                {"cell": "web", "time": FROZEN_NOW - 1, "line": 'GET / HTTP/1.1" 200'},
            ]
        }
        #: cells a `plan`/`apply` would create (name -> record)
        self.desired: dict[str, dict[str, Any]] = {}
        self.failures: dict[str, tuple[str, str]] = {}
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

    def stop(self) -> None:
        """The daemon goes away: listener closed, every connection dropped."""

        async def close() -> None:
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
                self.cells[name]["cpu_1s"] = float(i)
                self._push_cells()

        self._run(burst)

    def push(self, event: str, data: Any, topic: str | None = None) -> None:
        self._run(lambda: self._push(event, data, topic or event))

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
                request = json.loads(line)
                self._send(client, self._answer(client, request))
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if client in self._clients:
                self._clients.remove(client)
            writer.close()

    def _send(self, client: _Client, msg: dict[str, Any]) -> None:
        client.writer.write(json.dumps(msg).encode() + b"\n")

    def _answer(self, client: _Client, request: dict[str, Any]) -> dict[str, Any]:
        rid = request.get("id")
        method = str(request.get("method"))
        params = request.get("params") or {}
        self.calls.append((method, params))
        head = {"v": self.protocol, "id": rid}
        if request.get("v") != 1:
            return {**head, "ok": False, "error": {"code": "version", "message": "need v1"}}
        if method in self.failures:
            code, message = self.failures[method]
            return {**head, "ok": False, "error": {"code": code, "message": message}}
        try:
            result = self._method(client, method, params)
        except LookupError as exc:
            return {**head, "ok": False, "error": {"code": "not_found", "message": exc.args[0]}}
        except ValueError as exc:
            return {**head, "ok": False, "error": {"code": "invalid", "message": str(exc)}}
        return {**head, "ok": True, "result": result}

    def _cell(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("cell")
        if name not in self.cells:
            raise LookupError(f"no such cell: {name}")
        return self.cells[str(name)]

    def _method(self, client: _Client, method: str, params: dict[str, Any]) -> Any:
        if method == "hello":
            return {"server": "cellmgr", "version": "0.1.0", "protocol": 1}
        if method == "status":
            return {"cells": copy.deepcopy(list(self.cells.values()))}
        if method == "subscribe":
            client.topics.update(params.get("topics", []))
            return {"topics": sorted(client.topics)}
        if method in ("cell.start", "cell.restart"):
            c = self._cell(params)
            c.update(state="running", procs=2, started=FROZEN_NOW, health="starting")
            self._push_cells()
            return {"cell": c["name"], "state": "running"}
        if method == "cell.stop":
            c = self._cell(params)
            c.update(state="stopped", procs=0, started=None, cpu_1s=0.0, cpu_10s=0.0)
            self._push_cells()
            return {"cell": c["name"], "state": "stopped"}
        if method == "plan":
            self._plans += 1
            return {
                "token": f"plan-{self._plans}",
                "actions": [
                    {"cell": n, "action": "create", "reasons": ["not created yet"]}
                    for n in sorted(self.desired)
                ],
                "drift": [],
            }
        if method == "apply":
            if params.get("plan") != f"plan-{self._plans}":
                raise ValueError("the saved plan is stale; run plan again")
            self.cells.update(self.desired)
            applied = sorted(self.desired)
            self.desired = {}
            self._push_cells()
            return {"applied": applied}
        if method == "volumes.list":
            return {"volumes": copy.deepcopy(self.volumes)}
        if method == "backup.list":
            return {"backups": copy.deepcopy(self.backups)}
        if method == "backup.create":
            c = self._cell(params)
            bid = f"{c['name']}-{len(self.backups) + 1}"
            self.backups.append({"id": bid, "cell": c["name"], "created": FROZEN_NOW,
                                 "size": 1024, "volumes": []})  # fmt: skip
            return {"id": bid}
        if method in ("backup.restore", "backup.delete"):
            found = [b for b in self.backups if b["id"] == params.get("id")]
            if not found:
                raise LookupError(f"no such backup: {params.get('id')}")
            if method == "backup.delete":
                self.backups.remove(found[0])
            return {"id": found[0]["id"]}
        if method == "logs.tail":
            name = str(params.get("cell"))
            return {"lines": self.logs.get(name, [])[-int(params.get("lines", 100)) :]}
        raise ValueError(f"unknown method {method}")

    def _push_cells(self) -> None:
        self._push("cells", {"cells": copy.deepcopy(list(self.cells.values()))}, "cells")

    def _push(self, event: str, data: Any, topic: str) -> None:
        for client in self._clients:
            if topic in client.topics:
                self._send(client, {"v": self.protocol, "event": event, "data": data})
