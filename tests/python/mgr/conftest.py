"""Shared fixtures for the cellmgr tests: relocated paths and a fake kernel."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_PY = Path(__file__).resolve().parents[3] / "python"
#: The hostile archives (tests/corpus/archives/hostile.py), importable as `hostile`.
CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "archives"
for _dir in (_PY, CORPUS):
    if str(_dir) not in sys.path:
        sys.path.insert(0, str(_dir))

from cells.mgr.paths import Paths  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    p = Paths(
        config_dir=tmp_path / "etc",
        state_dir=tmp_path / "db",
        cells_dir=tmp_path / "cells",
        backup_dir=tmp_path / "backups",
        socket=tmp_path / "run" / "cellmgr.sock",
    )
    p.config_dir.mkdir()
    for var, value in (
        ("CELLS_CONFIG_DIR", p.config_dir),
        ("CELLS_STATE_DIR", p.state_dir),
        ("CELLS_DIR", p.cells_dir),
        ("CELLS_BACKUP_DIR", p.backup_dir),
        ("CELLS_SOCKET", p.socket),
    ):
        monkeypatch.setenv(var, str(value))
    monkeypatch.setenv("CELLS_BACKEND", "sim")
    return p
