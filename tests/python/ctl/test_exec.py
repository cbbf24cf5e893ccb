"""cellctl exec on the sim: cwd is the root, membership is recorded,
the process is replaced, and the sim says it does not isolate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

NOTICE = "cellctl: the sim backend does not isolate: running in {root} without chroot\n"


def run_ctl(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cells.cli.ctl", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def test_command_runs_in_the_cell(
    cellctl: Any, two_cells: dict[str, Path], sim_env: dict[str, str]
) -> None:
    probe = (
        "import os; from cells.kernel import open_kernel; "
        "print(os.getcwd(), open_kernel().current(), os.getpid())"
    )
    proc = run_ctl(sim_env, "exec", "db", "--", sys.executable, "-c", probe)
    assert proc.returncode == 0, proc.stderr
    cwd, cell, _pid = proc.stdout.split()
    assert (cwd, cell) == (str(two_cells["db"]), "2")
    assert proc.stderr == NOTICE.format(root=two_cells["db"])


def test_exit_status_is_the_commands(cellctl: Any, two_cells: Any, sim_env: dict[str, str]) -> None:
    proc = run_ctl(sim_env, "exec", "web", "sh", "-c", "exit 7")
    assert proc.returncode == 7


def test_shell_prompt_names_the_cell(cellctl: Any, two_cells: Any, sim_env: dict[str, str]) -> None:
    proc = run_ctl(sim_env, "exec", "web", stdin="echo inside\nexit 0\n")
    assert proc.returncode == 0
    assert proc.stdout == "inside\n"
    assert "[web]# " in proc.stderr


def test_errors(cellctl: Any, two_cells: Any, sim_env: dict[str, str]) -> None:
    missing = run_ctl(sim_env, "exec", "ghost", "true")
    assert (missing.returncode, missing.stderr) == (
        1,
        "cellctl: error: read cell 'ghost': no cell named 'ghost'\n",
    )
    notfound = run_ctl(sim_env, "exec", "web", "no-such-command-here")
    assert notfound.returncode == 127
    assert notfound.stderr.splitlines()[-1] == (
        "cellctl: error: exec in cell 'web': no-such-command-here: command not found"
    )


def test_a_process_in_a_cell_is_not_host_root(
    cellctl: Any, two_cells: Any, sim_env: dict[str, str]
) -> None:
    proc = run_ctl(sim_env, "exec", "web", "--", sys.executable, "-m", "cells.cli.ctl", "list")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.splitlines()[-1] == (
        "cellctl: error: list cells: operation needs host root (euid 0 outside any cell)"
    )


def test_clean_env_leaves_the_hosts_environment_behind(
    cellctl: Any, two_cells: Any, sim_env: dict[str, str]
) -> None:
    secret = {**sim_env, "CELLS_TEST_SECRET": "s3cret", "TERM": "vt100"}
    kept = run_ctl(secret, "exec", "web", "--", "/usr/bin/env")
    assert "CELLS_TEST_SECRET=s3cret" in kept.stdout.splitlines()  # the default, as jexec
    clean = run_ctl(secret, "exec", "--clean-env", "web", "--", "/usr/bin/env")
    assert clean.returncode == 0, clean.stderr
    env = dict(line.split("=", 1) for line in clean.stdout.splitlines())
    assert "CELLS_TEST_SECRET" not in env
    assert not any(k.startswith("CELLS_") for k in env)
    assert env["PATH"].startswith("/bin:/sbin:/usr/bin")
    assert env["TERM"] == "vt100"
