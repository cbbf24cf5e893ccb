"""Attack: on NetBSD without secmodel_cell loaded (a kernel upgrade, a
failed modload), `auto` once fell back to the sim and rc.d started every
service with no isolation.  Now `auto` there is the module or an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import cells.kernel
import pytest
from cells.errors import ModuleNotLoaded
from cells.kernel import NOT_LOADED, SIM_ON_NETBSD, open_kernel

RC_SCRIPT = Path(__file__).resolve().parents[3] / "rc.d" / "cellmgr"


@pytest.fixture
def netbsd_without_module(monkeypatch: pytest.MonkeyPatch, state_dir: Path) -> None:
    """Python believes it runs on NetBSD; the module's sysctl node is absent."""
    monkeypatch.delenv("CELLS_BACKEND", raising=False)
    monkeypatch.setenv("CELLS_STATE_DIR", str(state_dir))
    monkeypatch.setattr(sys, "platform", "netbsd10")
    monkeypatch.setattr(cells.kernel, "_module_loaded", lambda: False)
    monkeypatch.setattr(cells.kernel, "_noticed", False)


def test_detection_by_uname(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "uname", lambda: os.uname_result(("NetBSD", "h", "10.1", "", "amd64")))
    assert cells.kernel.on_netbsd()


def test_auto_on_netbsd_without_module_is_an_error(netbsd_without_module: None) -> None:
    with pytest.raises(ModuleNotLoaded) as info:
        open_kernel("auto")
    message = str(info.value)
    assert message == NOT_LOADED and "\n" not in message
    assert "modload secmodel_cell" in message and "/etc/modules.conf" in message
    assert "--backend sim" in message


def test_cellctl_and_cellmgr_exit_1_with_one_line(
    netbsd_without_module: None, tmp_path: Path, make_root: Any
) -> None:
    from cells.cli.ctl import cli as ctl
    from cells.cli.mgr import cli as mgr
    from click.testing import CliRunner

    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "web.yaml").write_text("kind: Cell\nname: web\n")
    runner = CliRunner()
    made = runner.invoke(ctl(), ["create", "web", "--root", str(make_root("web"))])
    assert (made.exit_code, made.stdout) == (1, "")
    assert made.stderr == f"cellctl: error: {NOT_LOADED}\n"
    env = {
        "CELLS_CONFIG_DIR": str(tmp_path / "etc"),
        "CELLS_DIR": str(tmp_path / "cells"),
        "CELLS_SOCKET": str(tmp_path / "run" / "s.sock"),
    }
    applied = runner.invoke(mgr(), ["apply", "--yes"], env=env)
    assert (applied.exit_code, applied.stderr) == (1, f"cellmgr: error: {NOT_LOADED}\n")
    assert not (tmp_path / "cells").exists()  # nothing was built for a cell


def test_explicit_sim_on_netbsd_works_but_warns(
    netbsd_without_module: None, capsys: pytest.CaptureFixture[str]
) -> None:
    kernel = open_kernel("sim")
    assert kernel.backend == "sim" and kernel.enforcing is False
    assert capsys.readouterr().err == SIM_ON_NETBSD + "\n"
    assert "isolates nothing" in SIM_ON_NETBSD


def _rc(tmp_path: Path, env: dict[str, str]) -> list[str]:
    """Run rc.d/cellmgr start with stub rc.subr functions and a cellmgr that
    records its arguments."""
    log = tmp_path / "calls"
    fake = tmp_path / "cellmgr"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    fake.chmod(0o755)
    wrapper = (
        "_rc_subr_loaded=:\n"
        f"load_rc_config() {{ cellmgr_command={fake}; pidfile={tmp_path}/pid; }}\n"
        "run_rc_command() { eval ${name}_start; }\n"
        'warn() { echo "warn: $*" >&2; }\n'
        f". {RC_SCRIPT}\n"
    )
    subprocess.run(
        ["sh", "-c", wrapper, "cellmgr", "start"],
        env={"PATH": os.environ["PATH"], **env},
        check=True,
        capture_output=True,
        timeout=30,
    )
    return log.read_text().splitlines()


def test_rc_script_is_valid_sh() -> None:
    assert subprocess.run(["sh", "-n", str(RC_SCRIPT)], timeout=30).returncode == 0


def test_rc_script_names_the_backend(tmp_path: Path) -> None:
    calls = _rc(tmp_path, {})
    assert len(calls) == 2
    assert all(c.startswith("--backend netbsd ") for c in calls), calls
    assert calls[0].endswith("apply --yes") and " daemon " in calls[1]
    again = tmp_path / "sim"
    again.mkdir()
    assert all(c.startswith("--backend sim ") for c in _rc(again, {"cellmgr_backend": "sim"}))
