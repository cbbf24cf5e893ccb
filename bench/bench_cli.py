"""CLI start-up: `cellctl --version` and `cellctl list --json` with 100 sim
cells, each as a ratio to a bare `python3 -c pass` measured in the same
run (median of several runs).  Target: both ratios <= 3.  Run by
bench/run.py, or alone: python bench/bench_cli.py.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 9
CELLS = 100
TARGET = 3.0


def cellctl() -> list[str]:
    script = Path(sys.executable).parent / "cellctl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cells.cli.ctl"]


def median_seconds(argv: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    from cells.kernel.api import CellSpec
    from cells.kernel.sim import SimKernel

    with tempfile.TemporaryDirectory() as tmp:
        kernel = SimKernel(tmp)
        for i in range(CELLS):
            kernel.create(CellSpec(f"cell{i}", tmp, ports=(10000 + i,)))
        env = {**os.environ, "CELLS_BACKEND": "sim", "CELLS_STATE_DIR": tmp}
        base = median_seconds([sys.executable, "-c", "pass"], env)
        version = median_seconds([*cellctl(), "--version"], env)
        listing = median_seconds([*cellctl(), "list", "--json"], env)
    ok = True
    print(f"python3 -c pass:                {base * 1000:7.1f} ms")
    listing_label = f"cellctl list --json ({CELLS})"
    for label, seconds in (("cellctl --version", version), (listing_label, listing)):
        ratio = seconds / base
        met = ratio <= TARGET
        ok = ok and met
        print(
            f"{label + ':':31} {seconds * 1000:7.1f} ms  {ratio:4.1f}x "
            f"(target <= {TARGET:g}x) {'ok' if met else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
