"""Prometheus exposition of kernel statistics and per-cell gauges.

One custom registry and collector, rendered with prometheus_client's
`generate_latest` (HELP and TYPE lines included).  Callers: `cellctl stats
--prometheus`; the metric names are documented in cellctl(8).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cells.kernel.api import CellInfo, Stats


class CellsCollector(Collector):
    """Metrics for one snapshot of the kernel's state."""

    def __init__(self, stats: Stats, cells: Sequence[CellInfo]) -> None:
        self.stats = stats
        self.cells = cells

    def collect(self) -> Iterator[Metric]:
        st = self.stats
        info = GaugeMetricFamily(
            "cells_backend_info", "Kernel backend in use (1).", labels=["backend", "enforcing"]
        )
        info.add_metric([st.backend, "true" if st.enforcing else "false"], 1)
        yield info
        yield GaugeMetricFamily("cells_cells", "Live cells.", value=st.ncells)
        yield GaugeMetricFamily("cells_max_cells", "Most live cells at once.", value=st.max_cells)
        yield CounterMetricFamily(
            "cells_audit_events", "Denials appended to the audit ring.", value=st.audit_head
        )
        yield CounterMetricFamily(
            "cells_log_suppressed", "Deny log lines rate-limited.", value=st.log_suppressed
        )
        for name, doc, counts in (
            ("cells_denies", "Denials by scope, all subjects.", st.denies),
            ("cells_host_denies", "Denials by scope, host subjects.", st.host_denies),
        ):
            family = CounterMetricFamily(name, doc, labels=["scope"])
            for scope, n in counts.items():
                family.add_metric([scope], n)
            yield family
        labels = ["cell", "id"]
        gauges = {
            "procs": GaugeMetricFamily(
                "cells_cell_processes", "Live processes in the cell.", labels=labels
            ),
            "vmsize": GaugeMetricFamily(
                "cells_cell_vmsize_bytes", "Virtual memory of the cell.", labels=labels
            ),
            "cpu": GaugeMetricFamily(
                "cells_cell_cpu_ticks_per_second",
                "CPU ticks per second, 10 s average.",
                labels=labels,
            ),
            "age": GaugeMetricFamily("cells_cell_age_seconds", "Age of the cell.", labels=labels),
        }
        denies = CounterMetricFamily(
            "cells_cell_denies", "Denials by scope for the cell.", labels=[*labels, "scope"]
        )
        for c in self.cells:
            key = [c.name, str(c.id)]
            gauges["procs"].add_metric(key, c.nprocs)
            gauges["vmsize"].add_metric(key, c.vmsize)
            gauges["cpu"].add_metric(key, c.cpu_10s)
            gauges["age"].add_metric(key, c.age)
            for scope, n in c.denies.items():
                denies.add_metric([*key, scope], n)
        yield from gauges.values()
        yield denies


def exposition(stats: Stats, cells: Sequence[CellInfo]) -> bytes:
    """The text exposition format for one snapshot."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CellsCollector(stats, cells))
    return generate_latest(registry)
