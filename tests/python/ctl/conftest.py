"""Fixtures for the cellctl tests: frozen time and ready-made cells."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

NOW = 1_800_000_000  # 2027-01-15T08:00:00Z


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> int:
    """Freeze the sim's clock so ages and times print the same every run."""
    import cells.kernel.sim

    monkeypatch.setattr(cells.kernel.sim.time, "time", lambda: float(NOW))
    return NOW


@pytest.fixture
def two_cells(
    cellctl: Callable[..., object], make_root: Callable[[str], Path], frozen: int
) -> dict[str, Path]:
    """web (id 1, high, ports 80 and 443) and db (id 2, low, one bind address)."""
    web, db = make_root("web"), make_root("db")
    r1 = cellctl("create", "web", "--root", str(web), "--port", "80", "--port", "443")
    r2 = cellctl(
        "create",
        "db",
        "--root",
        str(db),
        "--profile",
        "low",
        "--bind-addr",
        "192.0.2.5",
        "--rlimit",
        "nofile=1k:2k",
    )
    assert (r1.exit_code, r1.stdout, r2.exit_code, r2.stdout) == (0, "1\n", 0, "2\n")  # type: ignore[attr-defined]
    return {"web": web, "db": db}
