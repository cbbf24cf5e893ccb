"""Fixtures for the attack tests: relocated cellmgr paths, as in the
cellmgr tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from cells.mgr.paths import Paths


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
