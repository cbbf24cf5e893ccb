"""Attacks on addressing and roots: a cell named like an id, a root that is
the host's own (cellctl create and cellmgr apply)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest


def test_a_cell_named_4_cannot_exist(cellctl: Any, make_root: Any) -> None:
    # Once a cell could be named "4" and `cellctl destroy 4` took the cell
    # with id 4 instead.  Now no name is a number, so "4" is only an id.
    for name in ("a", "b", "c", "victim"):
        assert cellctl("create", name, "--root", str(make_root(name))).exit_code == 0
    for bad in ("4", "4web", "_4"):
        made = cellctl("create", bad, "--root", str(make_root("x")))
        assert made.exit_code == 1
        assert made.stderr.count("\n") == 1 and "starts with a letter" in made.stderr
    assert [c["name"] for c in cellctl("list", "--json").json()["cells"]] == [
        "a",
        "b",
        "c",
        "victim",
    ]
    assert cellctl("destroy", "4").exit_code == 0  # id 4, unambiguously
    assert [c["id"] for c in cellctl("list", "--json").json()["cells"]] == [1, 2, 3]


def test_unicode_digits_are_not_an_id(sim_kernel: Any) -> None:
    from cells.errors import NotFound

    with pytest.raises(NotFound, match="no cell named"):
        sim_kernel.destroy("\u0664")  # ARABIC-INDIC DIGIT FOUR: a (bad) name, not id 4


@pytest.mark.parametrize(
    ("root", "why"),
    [
        ("/", "the host's root directory"),
        ("/etc", "is the system directory /etc"),
        ("/usr", "is the system directory /usr"),
        ("/var", "is the system directory /var"),
    ],
)
def test_cellctl_refuses_host_directories_as_root(cellctl: Any, root: str, why: str) -> None:
    made = cellctl("create", "x", "--root", root)
    assert (made.exit_code, made.stdout) == (1, "")
    assert made.stderr.count("\n") == 1 and why in made.stderr
    assert cellctl("list", "--json").json()["cells"] == []


def test_cellctl_refuses_symlink_file_and_private_dirs(
    cellctl: Any, tmp_path: Path, state_dir: Path, make_root: Any
) -> None:
    real = make_root("real")
    (tmp_path / "link").symlink_to(real)
    (tmp_path / "file").write_text("")
    cases = {
        str(tmp_path / "link"): "is a symbolic link",
        str(tmp_path / "file"): "is not a directory",
        str(state_dir): "overlaps the control plane's directory",
        str(state_dir / "cells"): "overlaps the control plane's directory",  # inside it
        str(tmp_path): "overlaps the control plane's directory",  # above it
    }
    (state_dir / "cells").mkdir(exist_ok=True)
    for root, why in cases.items():
        made = cellctl("create", "x", "--root", root)
        assert made.exit_code == 1, root
        assert made.stderr.count("\n") == 1 and why in made.stderr, made.stderr
    assert cellctl("list", "--json").json()["cells"] == []
    assert cellctl("create", "x", "--root", str(real)).exit_code == 0


def test_cellmgr_refuses_a_root_inside_its_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cells dir inside the state dir would put every root next to the
    # database: the cell's root could rewrite it.
    from cells.cli.mgr import cli
    from click.testing import CliRunner

    state = tmp_path / "db"
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "web.yaml").write_text("kind: Cell\nname: web\n")
    env = {
        "CELLS_BACKEND": "sim",
        "CELLS_QUIET": "1",
        "CELLS_CONFIG_DIR": str(tmp_path / "etc"),
        "CELLS_STATE_DIR": str(state),
        "CELLS_DIR": str(state / "roots"),
        "CELLS_BACKUP_DIR": str(tmp_path / "backups"),
        "CELLS_SOCKET": str(tmp_path / "run" / "cellmgr.sock"),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    result = CliRunner().invoke(cli(), ["apply", "--yes"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "overlaps the control plane's directory" in result.stderr
    from cells.kernel import open_kernel

    assert open_kernel("sim", state).list() == []
    assert os.path.isdir(state)
