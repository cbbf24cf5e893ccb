"""Prometheus metrics of the daemon: per-cell gauges, deny counters, services.

A custom collector reads the kernel's cell list (the last telemetry sample)
and the supervisor's statuses at scrape time, so nothing is kept twice.
The per-cell families are those of `cellctl stats --prometheus`
(cells.kernel.metrics); `cells_backend_up` is 0 when the cells could not
be read (the scrape still answers, with the services).
Every family has HELP and TYPE lines (prometheus_client writes them).
Served on 127.0.0.1:--metrics-port by the daemon.  Caller: cells.mgr.daemon.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator, Mapping

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
