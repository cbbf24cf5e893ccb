"""Run every benchmark in this folder (bench_*.py) and print its figures.

Benchmarks report ratios measured in one run; they are not pass/fail tests.
Each bench_*.py is a script whose main() prints its own lines and returns 0
when its targets are met, 1 when a target is missed.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    missed = []
    for script in sorted(here.glob("bench_*.py")):
        print(f"== {script.stem}", flush=True)
        module = runpy.run_path(str(script))
        if module["main"]() != 0:
            missed.append(script.stem)
    if missed:
        print("targets missed: " + ", ".join(missed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
