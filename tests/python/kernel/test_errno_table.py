"""The shared errno table against the sim, and against the real module
under the `netbsd` marker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from . import errno_table


@pytest.fixture
def roots(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "file").write_text("")
    return {
        "a": str(tmp_path / "a"),
        "b": str(tmp_path / "b"),
        "file": str(tmp_path / "file"),
        "missing": str(tmp_path / "missing"),
    }


IDS = [name for name, _, _ in errno_table.TABLE]


@pytest.mark.parametrize(("name", "request_", "expected"), errno_table.TABLE, ids=IDS)
def test_sim(
    sim_kernel: Any, roots: dict[str, str], name: str, request_: Any, expected: int
) -> None:
    errno_table.setup(sim_kernel, roots)
    assert errno_table.run(sim_kernel, roots, request_) == expected


@pytest.mark.netbsd
@pytest.mark.parametrize(("name", "request_", "expected"), errno_table.TABLE, ids=IDS)
def test_netbsd(roots: dict[str, str], name: str, request_: Any, expected: int) -> None:
    from cells.kernel.netbsd import NetbsdKernel

    kernel = NetbsdKernel()
    errno_table.setup(kernel, roots)
    try:
        assert errno_table.run(kernel, roots, request_) == expected
    finally:
        for cell in kernel.list():
            if cell.root in roots.values():
                kernel.destroy(cell.id)


@pytest.mark.parametrize(("name", "request_", "expected"), errno_table.TABLE, ids=IDS)
def test_netbsd_backend_on_a_fake_sysctl(
    roots: dict[str, str], name: str, request_: Any, expected: int
) -> None:
    from cells.kernel.netbsd import NetbsdKernel

    from .fake_sysctl import FakeSysctl

    kernel = NetbsdKernel(FakeSysctl())
    errno_table.setup(kernel, roots)
    assert errno_table.run(kernel, roots, request_) == expected
