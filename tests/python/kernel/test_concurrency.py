"""Several processes creating cells in one sim state dir at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cells.kernel.sim import SimKernel

WORKERS = 4
PER_WORKER = 15


def test_concurrent_creates_get_unique_ids_and_none_is_lost(
    state_dir: Path, tmp_path: Path
) -> None:
    code = (
        "import sys\n"
        "from cells.kernel.sim import SimKernel\n"
        "from cells.kernel.api import CellSpec\n"
        "k = SimKernel(sys.argv[1])\n"
        "for i in range(int(sys.argv[3])):\n"
        "    print(k.create(CellSpec(f'w{sys.argv[2]}-{i}', sys.argv[4])).id, flush=True)\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(state_dir), str(w), str(PER_WORKER), str(tmp_path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(WORKERS)
    ]
    ids = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        ids += [int(line) for line in out.split()]
    total = WORKERS * PER_WORKER
    assert sorted(ids) == list(range(1, total + 1))
    cells = SimKernel(state_dir).list()
    assert len(cells) == total
    assert {c.name for c in cells} == {
        f"w{w}-{i}" for w in range(WORKERS) for i in range(PER_WORKER)
    }
