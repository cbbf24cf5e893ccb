"""Cost of the module in a real kernel: ratios of medians over several boots.

Three variants, each booted `boots` times (a fresh kernel every time, so
caches and the process table start alike): no module, the module with 2
cells, the module with 1,000 cells.  In each boot cellktest (mode=bench)
times a kill(pid, 0) loop and a socket+bind+close loop inside a cell (in
the no-module variant: a host process); kill0 signals a process with a
credential of its own, kill0_shared its own child, which shares the
caller's credential (the common case inside a service's process tree).  Printed: the median ns per
operation of each variant and the ratios module/none and 1000/2, with the
targets (<= 1.10 and <= 1.05).  A benchmark, not a test: it prints, and
its exit status says only whether every boot produced its figures.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from ci.ktest import image
from ci.ktest.boot import boot
from ci.ktest.results import parse

VARIANTS = (("none", "none", 0), ("2 cells", "modctl", 2), ("1000 cells", "modctl", 1000))
METRICS = ("kill0", "kill0_shared", "bind")
TARGETS = {"module/none": 1.10, "1000/2": 1.05}


def run(kernel: Path, work: Path, kmod: Path, init: Path, boots: int, timeout: float) -> int:
    medians: dict[str, dict[str, float]] = {}
    for label, load, cells in VARIANTS:
        samples: dict[str, list[int]] = {m: [] for m in METRICS}
        vwork = work / "bench" / label.replace(" ", "-")
        vwork.mkdir(parents=True, exist_ok=True)
        img = image.make_root(vwork, init, kmod, image.conf_text(load, "bench", cells))
        iso = image.make_iso(vwork, kernel, kmod, preload=False)
        for i in range(boots):
            log = vwork / f"console-{i}.log"
            result = boot(iso, img, log, timeout)
            got = parse(result.console).bench
            if result.status != "done" or set(got) != set(METRICS):
                print(f"ktest-bench: {label}: boot {i}: {result.status}, no figures ({log})")
                print(result.tail())
                return 1
            for m in METRICS:
                samples[m].append(got[m])
        medians[label] = {m: statistics.median(v) for m, v in samples.items()}
        print(
            f"ktest-bench: {label:10s} "
            + "  ".join(f"{m} {medians[label][m]:.0f} ns (n={boots})" for m in METRICS)
        )
    for m in METRICS:
        r1 = medians["2 cells"][m] / medians["none"][m]
        r2 = medians["1000 cells"][m] / medians["2 cells"][m]
        print(
            f"ktest-bench: {m}: module/none {r1:.3f} (target <= {TARGETS['module/none']:.2f}),"
            f" 1000/2 {r2:.3f} (target <= {TARGETS['1000/2']:.2f})"
        )
    return 0
