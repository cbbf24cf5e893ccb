"""CLI start-up: `cellctl --version` and `cellctl list --json` with 100 sim
cells, each as a ratio to a bare `python3 -c pass` measured in the same
run (median of several runs).  Target: both ratios <= 3.  Run by
bench/run.py, or alone: python bench/bench_cli.py.

Modules of the package without current byte code are compiled on every
run (an editable install under PYTHONDONTWRITEBYTECODE, or sources
edited since `pip install -e .`); the benchmark names them on stderr, as
its figures then include that compiling.
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


def stale_bytecode() -> list[str]:
    """Modules of `cells` loaded here whose cached byte code is missing or
    does not match the source (Python would compile them on each run)."""
    stale = []
    for name, module in sorted(sys.modules.items()):
        source, cached = getattr(module, "__file__", None), getattr(module, "__cached__", None)
        if not name.startswith("cells") or not source or not source.endswith(".py"):
            continue
        try:
            with open(cached or "", "rb") as f:
                header = f.read(16)
            st = os.stat(source)
        except OSError:
            stale.append(name)
            continue
        flags = int.from_bytes(header[4:8], "little")
        stamp = (int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)
        read = (int.from_bytes(header[8:12], "little"), int.from_bytes(header[12:16], "little"))
        if flags == 0 and read != stamp:
            stale.append(name)
    return stale


def main() -> int:
    import cells.cli.ctl.common
    import cells.cli.ctl.list  # noqa: F401  (what the measured commands load)
    from cells.kernel.api import CellSpec
    from cells.kernel.sim import SimKernel

    stale = stale_bytecode()
    if stale:
        print(
            f"bench_cli: no current byte code for {', '.join(stale)}; the figures "
            "include compiling them (reinstall: pip install -e .)",
            file=sys.stderr,
        )

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
