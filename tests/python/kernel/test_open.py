"""open_kernel(): backend choice, environment, and the sim notice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cells.errors import InvalidArgument
from cells.kernel import SIM_NOTICE, open_kernel


def run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )


def base_env(state_dir: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("CELLS_")}
    env["CELLS_STATE_DIR"] = str(state_dir)
    return env


@pytest.mark.skipif(sys.platform.startswith("netbsd"), reason="auto picks netbsd there")
def test_auto_falls_back_to_the_sim_and_says_so(state_dir: Path) -> None:
    code = (
        "from cells.kernel import open_kernel\n"
        "k = open_kernel()\n"
        "open_kernel()  # a second open says nothing more\n"
        "print(k.backend)\n"
    )
    proc = run(code, base_env(state_dir))
    assert proc.stdout == "sim\n"
    assert proc.stderr == SIM_NOTICE + "\n"


def test_quiet_and_explicit_sim_print_nothing(state_dir: Path) -> None:
    code = "from cells.kernel import open_kernel; print(open_kernel().backend)"
    quiet = run(code, {**base_env(state_dir), "CELLS_QUIET": "1"})
    explicit = run(code, {**base_env(state_dir), "CELLS_BACKEND": "sim"})
    assert (quiet.stdout, quiet.stderr) == ("sim\n", "")
    assert (explicit.stdout, explicit.stderr) == ("sim\n", "")


def test_state_dir_from_env(sim_env: dict[str, str], state_dir: Path) -> None:
    kernel = open_kernel()
    assert kernel.backend == "sim"
    assert kernel.state_dir == state_dir  # type: ignore[attr-defined]


def test_unknown_backend() -> None:
    with pytest.raises(InvalidArgument, match=r"^unknown backend 'xen' \(use auto, netbsd, sim\)$"):
        open_kernel("xen")


def test_netbsd_backend_off_netbsd_says_the_module_is_missing() -> None:
    from cells.errors import ModuleNotLoaded

    if sys.platform.startswith("netbsd"):
        pytest.skip("needs a system without secmodel_cell")
    kernel = open_kernel("netbsd")
    with pytest.raises(ModuleNotLoaded) as info:
        kernel.list()
    assert str(info.value) == (
        "the netbsd backend needs NetBSD (no sysctlbyname here); use --backend sim"
    )
