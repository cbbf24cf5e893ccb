"""cellctl as a whole: version, help, global options, usage errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cells import __version__


def test_version(cellctl: Any) -> None:
    result = cellctl("--version")
    assert (result.exit_code, result.stdout) == (0, f"cellctl {__version__}\n")
    fast = subprocess.run(
        [sys.executable, "-m", "cells.cli.ctl", "--version"], capture_output=True, text=True
    )
    assert (fast.returncode, fast.stdout, fast.stderr) == (0, f"cellctl {__version__}\n", "")


def test_help_lists_every_verb_with_examples(cellctl: Any) -> None:
    result = cellctl("--help")
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:\n")[1].split("\n\n")[0]
    names = [line.split()[0] for line in commands.splitlines()]
    assert set(names) >= {"create", "destroy", "list", "stats", "exec", "events", "explain"}
    assert "Examples:" in result.stdout and "enforces nothing" in result.stdout


def test_every_verb_has_help_with_examples(cellctl: Any) -> None:
    for verb in ("create", "destroy", "list", "stats", "exec", "events", "explain"):
        result = cellctl(verb, "--help")
        assert result.exit_code == 0, verb
        assert "Example" in result.stdout, verb


def test_unknown_command_and_option(cellctl: Any) -> None:
    unknown = cellctl("jail")
    assert (unknown.exit_code, unknown.stderr) == (
        2,
        "cellctl: usage error: No such command 'jail'. (see: cellctl --help)\n",
    )
    bad = cellctl("list", "--yaml")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("cellctl: usage error: No such option")  # click's wording
    assert bad.stderr.endswith("--yaml'. (see: cellctl list --help)\n") or bad.stderr.endswith(
        "--yaml (see: cellctl list --help)\n"
    )
    assert len(bad.stderr.splitlines()) == 1


def test_state_dir_option_overrides_the_environment(
    cellctl: Any, make_root: Any, tmp_path: Path
) -> None:
    other = tmp_path / "other-state"
    assert (
        cellctl("--state-dir", str(other), "create", "a", "--root", str(make_root("a"))).exit_code
        == 0
    )
    assert (other / "sim.db").is_file()
    assert cellctl("list", "--json").json()["cells"] == []
    assert len(cellctl("--state-dir", str(other), "list", "--json").json()["cells"]) == 1


def test_backend_choice_is_checked(cellctl: Any) -> None:
    result = cellctl("--backend", "xen", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith("cellctl: usage error: Invalid value for '--backend'")


def test_netbsd_backend_here_is_one_line(cellctl: Any) -> None:
    if sys.platform.startswith("netbsd"):
        return
    result = cellctl("--backend", "netbsd", "list")
    assert (result.exit_code, result.stderr) == (
        1,
        "cellctl: error: the netbsd backend needs NetBSD (no sysctlbyname here); "
        "use --backend sim\n",
    )


def test_unwritable_state_dir_is_one_line(cellctl: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = cellctl("--state-dir", str(blocker / "x"), "list")
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"cellctl: error: cannot open the sim state {blocker / 'x'}")


def test_auto_backend_notice_goes_to_stderr(state_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELLS_")}
    env["CELLS_STATE_DIR"] = str(state_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "cells.cli.ctl", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0
    assert (
        proc.stderr == "cells: secmodel_cell not loaded; using the sim backend (enforces nothing)\n"
    )


def test_an_optional_verb_that_is_not_installed_is_left_out(cellctl: Any, monkeypatch: Any) -> None:
    import cells.cli.ctl as ctl

    monkeypatch.setitem(ctl.COMMANDS, "jail", "jail:jail")
    monkeypatch.setattr(ctl, "OPTIONAL", {*ctl.OPTIONAL, "jail"})
    result = cellctl("--help")
    assert result.exit_code == 0
    assert "  jail" not in result.stdout and "  explain" in result.stdout
    assert cellctl("list").exit_code == 0


def test_a_broken_verb_module_is_not_hidden(monkeypatch: Any) -> None:
    import cells.cli.ctl as ctl

    monkeypatch.setitem(ctl.COMMANDS, "jail", "jail:jail")
    with pytest.raises(ModuleNotFoundError):
        ctl.cli().get_command(None, "jail")


def test_cell_names_complete_in_the_shell(
    cellctl: Any, make_root: Any, sim_env: dict[str, str]
) -> None:
    for name in ("web", "webmail", "db"):
        assert cellctl("create", name, "--root", str(make_root(name))).exit_code == 0
    env = {
        **os.environ,
        **sim_env,
        "COMP_WORDS": "cellctl destroy we",
        "COMP_CWORD": "2",
        "_CELLCTL_COMPLETE": "bash_complete",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "cells.cli.ctl"], env=env, capture_output=True, text=True
    )
    assert proc.stdout.splitlines() == ["plain,web", "plain,webmail"]
