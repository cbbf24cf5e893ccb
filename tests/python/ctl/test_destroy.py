"""cellctl destroy."""

from __future__ import annotations

import subprocess
import sys
from typing import Any


def test_destroy_by_name_and_by_id(cellctl: Any, two_cells: Any) -> None:
    assert cellctl("destroy", "web").exit_code == 0
    result = cellctl("destroy", "2")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert cellctl("list", "--json").json()["cells"] == []


def test_unknown_cell(cellctl: Any) -> None:
    by_name = cellctl("destroy", "ghost")
    by_id = cellctl("destroy", "12")
    assert (by_name.exit_code, by_name.stderr) == (
        1,
        "cellctl: error: destroy cell 'ghost': no cell named 'ghost'\n",
    )
    assert (by_id.exit_code, by_id.stderr) == (
        1,
        "cellctl: error: destroy cell '12': no cell with id 12\n",
    )


def test_busy_cell_is_refused(cellctl: Any, two_cells: Any, sim_env: dict[str, str]) -> None:
    member = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cells.cli.ctl",
            "exec",
            "web",
            "--",
            sys.executable,
            "-c",
            "import sys; print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert member.stdout is not None and member.stdout.readline() == "ready\n"
        result = cellctl("destroy", "web")
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == (
            "cellctl: error: destroy cell 'web': the cell still has processes; stop them first\n"
        )
    finally:
        member.communicate("")
    assert cellctl("destroy", "web").exit_code == 0
