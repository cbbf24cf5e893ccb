"""Prometheus exposition of kernel statistics and per-cell gauges.

One custom registry and collector, rendered with prometheus_client's
`generate_latest` (HELP and TYPE lines included).  Callers: `cellctl stats
--prometheus`; the metric names are documented in cellctl(8), and the
per-cell ones are shared with the daemon (cells.kernel.metrics).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cells.kernel.api import CellInfo, Stats
from cells.kernel.metrics import cell_families


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
        yield from cell_families(self.cells)


def exposition(stats: Stats, cells: Sequence[CellInfo]) -> bytes:
    """The text exposition format for one snapshot."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CellsCollector(stats, cells))
    return generate_latest(registry)
