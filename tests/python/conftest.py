"""Fixtures shared by the Python suite: a temporary sim state dir, an
environment that selects the sim backend, cell roots, an opened sim
kernel, and a cellctl runner with a pinned terminal width.  Tests marked
`netbsd` are skipped (with the reason) unless secmodel_cell is loaded.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cells.mgr.paths import Paths
from click.testing import CliRunner

TERMINAL_WIDTH = "100"


def netbsd_missing() -> str | None:
    """Why the netbsd tier cannot run here, or None when it can."""
    if not sys.platform.startswith("netbsd"):
        return f"needs NetBSD with secmodel_cell loaded (this is {sys.platform})"
    from cells.kernel.netbsd import module_loaded

    if not module_loaded():
        return "needs secmodel_cell loaded (no sysctl security.models.cell.abi_version)"
    if os.geteuid() != 0:
        return "needs host root (euid 0) to create, enter and destroy cells"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = None
    for item in items:
        if item.get_closest_marker("netbsd") is None:
            continue
        if reason is None:
            reason = netbsd_missing() or ""
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir()
    return path


@pytest.fixture
def sim_env(monkeypatch: pytest.MonkeyPatch, state_dir: Path) -> dict[str, str]:
    """CELLS_BACKEND=sim and a private state dir, for this process and children."""
    env = {
        "CELLS_BACKEND": "sim",
        "CELLS_STATE_DIR": str(state_dir),
        "CELLS_QUIET": "1",
        "COLUMNS": TERMINAL_WIDTH,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def make_root(tmp_path: Path) -> Callable[[str], Path]:
    """make_root("web") -> an existing directory to use as a cell root."""

    def make(name: str) -> Path:
        path = tmp_path / "roots" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    return make


@pytest.fixture
def sim_kernel(sim_env: dict[str, str], state_dir: Path) -> Any:
    from cells.kernel import open_kernel

    return open_kernel("sim", state_dir)


@dataclass
class CtlResult:
    exit_code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.stdout)


@pytest.fixture
def cellctl(sim_env: dict[str, str]) -> Iterator[Callable[..., CtlResult]]:
    """cellctl("list", "--json") -> CtlResult, run in-process on the sim."""
    from cells.cli.ctl import cli

    runner = CliRunner()
    group = cli()

    def run(*args: str, input: str | None = None) -> CtlResult:
        result = runner.invoke(
            group,
            list(args),
            input=input,
            env={"COLUMNS": TERMINAL_WIDTH},
            prog_name="cellctl",
            catch_exceptions=False,
        )
        return CtlResult(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)

    yield run


#: cellmgr's paths relocated into the test's temporary directory, with the
#: environment variables that point the tools at them and the sim backend.
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
