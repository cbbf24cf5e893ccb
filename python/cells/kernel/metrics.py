"""Prometheus families of the kernel's per-cell records: one vocabulary.

`cellctl stats --prometheus` and the daemon's metrics endpoint both expose
the cells through `cell_families()`, so a dashboard reads the same names,
labels and units from either: `cells_cell_processes`,
`cells_cell_vmsize_bytes`, `cells_cell_cpu_ticks_per_second` (10 s
average), `cells_cell_age_seconds` and `cells_cell_denies_total`, labelled
`cell` and `id` (and `scope`).  Callers: cells.cli.ctl.metrics,
cells.mgr.metrics.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from cells.kernel.api import CellInfo

LABELS = ["cell", "id"]


def cell_families(cells: Sequence[CellInfo]) -> list[Metric]:
    """The per-cell gauges and deny counters for one snapshot."""
    procs = GaugeMetricFamily("cells_cell_processes", "Live processes in the cell.", labels=LABELS)
    vmsize = GaugeMetricFamily(
        "cells_cell_vmsize_bytes", "Virtual memory of the cell.", labels=LABELS
    )
    cpu = GaugeMetricFamily(
        "cells_cell_cpu_ticks_per_second", "CPU ticks per second, 10 s average.", labels=LABELS
    )
    age = GaugeMetricFamily("cells_cell_age_seconds", "Age of the cell.", labels=LABELS)
    denies = CounterMetricFamily(
        "cells_cell_denies", "Denials by scope for the cell.", labels=[*LABELS, "scope"]
    )
    for c in cells:
        key = [c.name, str(c.id)]
        procs.add_metric(key, c.nprocs)
        vmsize.add_metric(key, c.vmsize)
        cpu.add_metric(key, c.cpu_10s)
        age.add_metric(key, c.age)
        for scope, n in sorted(c.denies.items()):
            denies.add_metric([*key, scope], n)
    return [procs, vmsize, cpu, age, denies]
