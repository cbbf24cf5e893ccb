"""cellctl create."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def test_create_prints_the_id(cellctl: Any, make_root: Any) -> None:
    result = cellctl("create", "web", "--root", str(make_root("web")))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "1\n", "")


def test_create_json_has_every_option(cellctl: Any, make_root: Any, frozen: int) -> None:
    root = str(make_root("db"))
    result = cellctl(
        "create",
        "db",
        "--root",
        root,
        "--profile",
        "medium",
        "--port",
        "5432",
        "--bind-addr",
        "2001:db8::5",
        "--rlimit",
        "nofile=1024:4096",
        "--rlimit",
        "as=1g",
        "--allow",
        "sysvipc",
        "--allow",
        "rawsock",
        "--allow",
        "sysvipc",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert result.json() == {
        "id": 1,
        "name": "db",
        "root": root,
        "profile": "medium",
        "overrides": ["rawsock", "sysvipc"],
        "state": "active",
        "ports": [5432],
        "bind_addrs": ["2001:db8::5"],
        "rlimits": [
            {"resource": "nofile", "soft": 1024, "hard": 4096},
            {"resource": "as", "soft": 1 << 30, "hard": 1 << 30},
        ],
        "nprocs": 0,
        "nrefs": 0,
        "created": frozen,
        "age": 0,
        "vmsize": 0,
        "cpu_1s": 0,
        "cpu_10s": 0.0,
        "denies": {"process": 0, "system": 0, "network": 0, "device": 0, "machdep": 0, "cred": 0},
    }


def test_default_profile_is_high(cellctl: Any, make_root: Any) -> None:
    cellctl("create", "web", "--root", str(make_root("web")))
    assert cellctl("list", "--json").json()["cells"][0]["profile"] == "high"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["bad name"],
            "create cell 'bad name': bad name 'bad name': "
            "use 1-63 of A-Z a-z 0-9 . _ -, starting with a letter",
        ),
        (["x" * 64], f"create cell '{'x' * 64}': name is 64 bytes; at most 63"),
        (["x", "--port", "0"], "create cell 'x': port 0 cannot be reserved (use 1-65535)"),
        (["x", "--port", "65536"], "create cell 'x': port 65536 is out of range (1-65535)"),
        (["x", "--port", "8", "--port", "8"], "create cell 'x': port 8 is listed twice"),
        (
            ["x", "--bind-addr", "localhost"],
            "create cell 'x': 'localhost' is not an IPv4 or IPv6 address",
        ),
        (["web"], "create cell 'web': a cell with that name already exists"),
        (["x", "--port", "443"], "create cell 'x': port 443 is reserved by cell 'web' (id 1)"),
    ],
)
def test_bad_input_is_one_line(cellctl: Any, make_root: Any, args: list[str], message: str) -> None:
    root = str(make_root("r"))
    assert cellctl("create", "web", "--root", root, "--port", "443").exit_code == 0
    result = cellctl("create", *args, "--root", root)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"cellctl: error: {message}\n"


def test_root_must_exist_and_be_a_directory(cellctl: Any, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    missing = cellctl("create", "x", "--root", str(tmp_path / "nope"))
    assert (missing.exit_code, missing.stderr) == (
        1,
        f"cellctl: error: create cell 'x': root {tmp_path / 'nope'} does not exist\n",
    )
    file = cellctl("create", "x", "--root", str(tmp_path / "file"))
    assert (file.exit_code, file.stderr) == (
        1,
        f"cellctl: error: create cell 'x': root {tmp_path / 'file'} is not a directory\n",
    )
    relative = cellctl("create", "x", "--root", "var/cells/x")
    assert (
        relative.stderr
        == "cellctl: error: create cell 'x': root var/cells/x is not an absolute path\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x"], "Missing option '--root'."),
        (
            ["x", "--root", "/", "--profile", "max"],
            "Invalid value for '--profile': 'max' is not one of 'low', 'medium', 'high'.",
        ),
        (
            ["x", "--root", "/", "--rlimit", "stack=1"],
            "Invalid value for '--rlimit': rlimit 'stack=1': expected NAME=SOFT[:HARD] with NAME "
            "one of nofile, as, core, nproc",
        ),
        (
            ["x", "--root", "/", "--rlimit", "core=9:1"],
            "Invalid value for '--rlimit': rlimit 'core=9:1': the soft limit is above the hard "
            "limit",
        ),
        (
            ["x", "--root", "/", "--port", "http"],
            "Invalid value for '--port': 'http' is not a decimal number",
        ),
        (
            ["x", "--root", "/", "--allow", "ptrace"],
            "Invalid value for '--allow': 'ptrace' is not one of 'rawsock', 'sysvipc'.",
        ),
    ],
)
def test_usage_errors_exit_2_in_one_line(cellctl: Any, args: list[str], message: str) -> None:
    result = cellctl("create", *args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"cellctl: usage error: {message} (see: cellctl create --help)\n"
