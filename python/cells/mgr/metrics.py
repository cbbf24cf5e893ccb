"""Prometheus metrics of the daemon: per-cell gauges, deny counters, services.

A custom collector reads the kernel's cell list (the last telemetry sample)
and the supervisor's statuses at scrape time, so nothing is kept twice.
Every family has HELP and TYPE lines (prometheus_client writes them).
Served on 127.0.0.1:--metrics-port by the daemon.  Caller: cells.mgr.daemon.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from cells.kernel.api import Kernel
from cells.mgr.facts import ServiceFact


class CellsCollector(Collector):
    def __init__(self, kernel: Kernel, services: Callable[[], Mapping[str, ServiceFact]]) -> None:
        self.kernel = kernel
        self.services = services

    def collect(self) -> Iterator[Metric]:
        procs = GaugeMetricFamily("cells_cell_procs", "Processes in the cell.", labels=["cell"])
        vmsize = GaugeMetricFamily(
            "cells_cell_vmsize_bytes", "Virtual memory of the cell's processes.", labels=["cell"]
        )
        cpu1 = GaugeMetricFamily(
            "cells_cell_cpu_1s_percent", "CPU use over the last second.", labels=["cell"]
        )
        cpu10 = GaugeMetricFamily(
            "cells_cell_cpu_10s_percent", "CPU use over the last ten seconds.", labels=["cell"]
        )
        age = GaugeMetricFamily(
            "cells_cell_age_seconds", "Seconds since the cell was created.", labels=["cell"]
        )
        denies = CounterMetricFamily(
            "cells_cell_denies", "Operations the policy denied, by scope.", labels=["cell", "scope"]
        )
        for info in self.kernel.list():
            procs.add_metric([info.name], info.nprocs)
            vmsize.add_metric([info.name], info.vmsize)
            cpu1.add_metric([info.name], info.cpu_1s)
            cpu10.add_metric([info.name], info.cpu_10s)
            age.add_metric([info.name], info.age)
            for scope, count in sorted(info.denies.items()):
                denies.add_metric([info.name, scope], count)
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
        yield from (procs, vmsize, cpu1, cpu10, age, denies, up, healthy, restarts)


def registry(
    kernel: Kernel, services: Callable[[], Mapping[str, ServiceFact]]
) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(CellsCollector(kernel, services))
    return reg
