"""Crash safety: kill the applier at every journal write in turn, re-run, converge.

The applier is `cellmgr apply --yes` in a subprocess with
CELLS_APPLY_KILL_AT=k, which makes it exit abruptly (os._exit) right after
the k-th journal write, the way SIGKILL would.  A second apply must then
succeed, a third plan must be empty, and no manifest, volume or overlay
data may be lost.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cells.kernel import open_kernel
from cells.mgr.apply import KILL_ENV, Manager
from cells.mgr.host import SimHost
from cells.mgr.paths import Paths

V1 = """\
kind: Volume
name: data
---
kind: Cell
name: web
profile: medium
ports: [80]
mounts: ["data:/srv:rw"]
---
kind: Cell
name: old
"""

V2 = """\
kind: Volume
name: data
mode: "0700"
---
kind: Volume
name: cache
---
kind: Cell
name: web
profile: high
ports: [80, 443]
mounts: ["data:/srv:rw"]
provision:
  - line: {path: /etc/rc.conf, line: "web=YES"}
---
kind: Cell
name: cache
depends_on: [web]
mounts: ["cache:/var/cache:rw"]
provision:
  - file: {path: /etc/motd, content: "cache\\n"}
"""

PY = str(Path(__file__).resolve().parents[3] / "python")


def _manager(paths: Paths) -> Manager:
    return Manager(paths, open_kernel("sim", paths.state_dir), SimHost())


def _setup(paths: Paths) -> None:
    (paths.config_dir / "cells.yaml").write_text(V1)
    assert _manager(paths).apply().ok
    (paths.volume("data") / "precious").write_text("volume data")
    (paths.root("web") / "etc" / "local.conf").write_text("overlay data")
    (paths.config_dir / "cells.yaml").write_text(V2)


def _apply_killed_at(k: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, KILL_ENV: str(k), "PYTHONPATH": PY, "CELLS_QUIET": "1"}
    return subprocess.run(
        [sys.executable, "-m", "cells.cli.mgr", "apply", "--yes"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_kill_at_every_journal_step_converges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def paths_for(k: int) -> Paths:
        base = tmp_path / f"k{k}"
        p = Paths(base / "etc", base / "db", base / "cells", base / "bk", base / "sock")
        p.config_dir.mkdir(parents=True)
        for var, value in (
            ("CELLS_CONFIG_DIR", p.config_dir),
            ("CELLS_STATE_DIR", p.state_dir),
            ("CELLS_DIR", p.cells_dir),
            ("CELLS_SOCKET", p.socket),
        ):
            monkeypatch.setenv(var, str(value))
        monkeypatch.setenv("CELLS_BACKEND", "sim")
        return p

    probe = paths_for(0)
    _setup(probe)
    actions = _manager(probe).plan().actions
    ops = {a.op for a in actions}
    assert {
        "cell.replace",
        "cell.create",
        "cell.destroy",
        "volume.update",
        "cell.mounts",
        "cell.provision",
        "cell.record",
    } <= ops
    writes = 2 * len(actions)

    for k in range(1, writes + 1):
        paths = paths_for(k)
        _setup(paths)
        killed = _apply_killed_at(k)
        assert killed.returncode == 137, (k, killed.stderr)
        m = _manager(paths)
        assert m.db.interrupted(), k
        report = m.apply()
        assert report.ok, (k, report.to_dict())
        assert _manager(paths).plan().actions == (), k
        assert (paths.volume("data") / "precious").read_text() == "volume data"
        assert (paths.root("web") / "etc" / "local.conf").read_text() == "overlay data"
        assert (paths.root("web") / "srv" / "precious").exists()
        assert sorted(m.db.applied("Cell")) == ["cache", "web"]
        assert sorted(c.name for c in m.kernel.list()) == ["cache", "web"]
        assert m.kernel.get("web").profile == "high"
