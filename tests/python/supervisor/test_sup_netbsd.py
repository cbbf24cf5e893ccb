"""The supervisor against the real secmodel_cell (QEMU tier): a service is
chrooted into its cell, entered, and runs as the user of the cell's passwd."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cells.kernel import open_kernel
from cells.kernel.api import CellSpec
from cells.supervisor import ServiceSpec, Supervisor, parse_restart, parse_rlimit
from sup_helpers import Recorder, dead, run

pytestmark = pytest.mark.netbsd

#: Statically linked multi-call binaries that work inside a bare root.
RESCUE = Path("/rescue")


def _cell_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "etc").mkdir()
    for tool in ("sh", "sleep"):
        shutil.copy2(RESCUE / tool, root / "bin" / tool)
    (root / "etc" / "passwd").write_text("root:*:0:0::/:/bin/sh\nwww:*:80:80::/:/bin/sh\n")
    (root / "etc" / "group").write_text("wheel:*:0:root\nwww:*:80:\n")
    return root


def test_service_is_chrooted_entered_limited_and_unprivileged(
    tmp_path: Path, rec: Recorder
) -> None:
    kernel = open_kernel("netbsd")
    root = _cell_root(tmp_path)
    name = "supervisor-test"
    kernel.create(CellSpec(name=name, root=str(root)))
    script = (
        'echo "cwd $(pwd)"; if test -e /rescue; then echo escaped; else echo confined; fi; '
        "ulimit -n; exec /bin/sleep 30"
    )
    spec = ServiceSpec(
        name=name,
        cell=name,
        argv=("/bin/sh", "-c", script),
        user="www",
        rlimits=(parse_rlimit("nofile=64"),),
        restart=parse_restart("no"),
        stop_timeout=2,
        log_sink=rec.sink,
    )

    async def scenario() -> int:
        sup = Supervisor(kernel=kernel, on_event=rec.on_event)
        sup.add(spec)
        status = await sup.start(name)
        assert status.state == "running", status.message
        assert status.pid is not None
        await rec.until(lambda: len(rec.lines_of(name)) >= 3)
        assert kernel.get(name).nprocs == 1
        uid = subprocess.run(
            ["ps", "-o", "uid=", "-p", str(status.pid)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert uid == "80"
        await sup.close()
        return status.pid

    try:
        pid = run(scenario())
        assert rec.lines_of(name) == ["cwd /", "confined", "64"]
        assert dead(pid)
        assert kernel.get(name).nprocs == 0
    finally:
        kernel.destroy(name)
