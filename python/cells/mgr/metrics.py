"""Prometheus metrics of the daemon: per-cell gauges, deny counters, services.

A custom collector reads the kernel's cell list (the last telemetry sample)
and the supervisor's statuses at scrape time, so nothing is kept twice.
The per-cell families are those of `cellctl stats --prometheus`
(cells.kernel.metrics); `cells_backend_up` is 0 when the cells could not
be read (the scrape still answers, with the services).
Every family has HELP and TYPE lines (prometheus_client writes them).

`MetricsServer` serves them on 127.0.0.1:--metrics-port from the daemon's
event loop, with bounds, since any local user can connect: a request head
must arrive within a few seconds and fit in 8 KiB, at most a few
connections are open at once (a new one closes the oldest that is still
sending its request, so a slow-loris cannot lock scrapes out), and one
scrape renders at a time in one worker thread.  So connections cannot
exhaust the daemon's descriptors or threads, and supervision goes on.
Caller: cells.mgr.daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from cells.errors import CellsError
from cells.kernel.api import Kernel
from cells.kernel.metrics import cell_families
from cells.mgr.facts import ServiceFact


class CellsCollector(Collector):
    def __init__(self, kernel: Kernel, services: Callable[[], Mapping[str, ServiceFact]]) -> None:
        self.kernel = kernel
        self.services = services

    def collect(self) -> Iterator[Metric]:
        backend = GaugeMetricFamily(
            "cells_backend_up", "1 when the kernel's cells could be read for this scrape."
        )
        try:
            cells = self.kernel.list()
            backend.add_metric([], 1)
        except (CellsError, OSError, sqlite3.Error) as e:
            # One line, and the scrape still answers: the services are known.
            cells = []
            backend.add_metric([], 0)
            print(f"cellmgr: metrics: cannot read the cells: {e}", file=sys.stderr, flush=True)
        up = GaugeMetricFamily(
            "cells_service_up", "1 when the cell's service is running.", labels=["cell"]
        )
        healthy = GaugeMetricFamily(
            "cells_service_healthy", "1 when the service's healthcheck passes.", labels=["cell"]
        )
        restarts = CounterMetricFamily(
            "cells_service_restarts", "Restarts since the daemon started.", labels=["cell"]
        )
        for name, svc in sorted(self.services().items()):
            up.add_metric([name], 1 if svc.state == "running" else 0)
            healthy.add_metric([name], 1 if svc.health == "healthy" else 0)
            restarts.add_metric([name], svc.restarts)
        yield backend
        yield from cell_families(cells)
        yield from (up, healthy, restarts)


def registry(
    kernel: Kernel, services: Callable[[], Mapping[str, ServiceFact]]
) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(CellsCollector(kernel, services))
    return reg


#: Connections open at once; a new one beyond this closes the oldest.
MAX_CONNECTIONS = 16
#: Seconds a client has to send its request head, and to take the answer.
REQUEST_TIMEOUT = 5.0
#: Bytes of one request line or header line.
MAX_HEAD_LINE = 8192
#: Header lines of one request.
MAX_HEAD_LINES = 64


class MetricsServer:
    """HTTP/1.0 GET /metrics on the running event loop, with bounds."""

    def __init__(
        self,
        kernel: Kernel,
        services: Callable[[], Mapping[str, ServiceFact]],
        port: int,
        *,
        host: str = "127.0.0.1",
        max_connections: int = MAX_CONNECTIONS,
        timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self.kernel, self.services = kernel, services
        self.host, self.port = host, port
        self.max_connections = max_connections
        self.timeout = timeout
        # Open connections, oldest first; value: still reading the request.
        self._open: OrderedDict[asyncio.StreamWriter, bool] = OrderedDict()
        self._render = asyncio.Lock()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=MAX_HEAD_LINE, backlog=64
        )

    @property
    def bound_port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)
        self._server = None

    def _admit(self, writer: asyncio.StreamWriter) -> None:
        while len(self._open) >= self.max_connections:
            victim = next((w for w, reading in self._open.items() if reading), None)
            if victim is None:
                victim = next(iter(self._open))
            self._open.pop(victim)
            victim.transport.abort()
        self._open[writer] = True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._admit(writer)
        try:
            try:
                request = await asyncio.wait_for(self._head(reader), self.timeout)
            except (TimeoutError, ValueError, asyncio.LimitOverrunError, OSError):
                return  # too slow, too long or gone: close without a word
            if writer not in self._open:
                return  # evicted meanwhile
            self._open[writer] = False
            status, body = await self._answer(request)
            head = (
                f"HTTP/1.0 {status}\r\n"
                f"Content-Type: {CONTENT_TYPE_LATEST}\r\n"
                f"Content-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            writer.write(head if request.startswith("HEAD ") else head + body)
            with contextlib.suppress(asyncio.TimeoutError, OSError, ConnectionError):
                await asyncio.wait_for(writer.drain(), self.timeout)
        finally:
            self._open.pop(writer, None)
            writer.close()

    async def _head(self, reader: asyncio.StreamReader) -> str:
        """The request line, after reading the whole head."""
        first = (await reader.readline()).decode("latin-1")
        if not first.endswith("\n"):
            raise ValueError("incomplete request line")
        for _ in range(MAX_HEAD_LINES):
            line = await reader.readline()
            if not line.endswith(b"\n"):
                raise ValueError("incomplete header")
            if line in (b"\r\n", b"\n"):
                return first.strip()
        raise ValueError("too many header lines")

    async def _answer(self, request: str) -> tuple[str, bytes]:
        parts = request.split()
        if len(parts) != 3 or parts[0] not in ("GET", "HEAD"):
            return "400 Bad Request", b"only GET /metrics is served\n"
        if parts[1].split("?")[0] not in ("/", "/metrics"):
            return "404 Not Found", b"metrics are at /metrics\n"
        facts = dict(self.services())  # read in the loop, where the supervisor lives
        async with self._render:
            reg = registry(self.kernel, lambda: facts)
            body: bytes = await asyncio.to_thread(generate_latest, reg)
        return "200 OK", body
