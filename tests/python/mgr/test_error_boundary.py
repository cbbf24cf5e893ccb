"""The error boundary of cellctl and cellmgr: one line, the right hint,
exit 1 (usage 2, closed stdout 141 and quiet), a traceback only with --debug."""

from __future__ import annotations

import errno
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cells.cli.mgr import cli
from cells.failures import describe
from cells.mgr.paths import Paths
from click.testing import CliRunner, Result

_PY = str(Path(__file__).resolve().parents[3] / "python")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli(), list(args), env={"CELLS_QUIET": "1"})


def tool(*args: str, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        env={**os.environ, "PYTHONPATH": _PY, "CELLS_QUIET": "1"},
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/var/db/cells/x"), "free space"),
        (OSError(errno.EMFILE, "Too many open files"), "ulimit -n"),
        (OSError(errno.EACCES, "Permission denied", "/var/db/cells"), "run as root"),
        (sqlite3.OperationalError("database or disk is full"), "the disk is full"),
        (sqlite3.DatabaseError("database disk image is malformed"), "is corrupt"),
        (sqlite3.OperationalError("database is locked"), "is busy"),
        (yaml.YAMLError("bad\nyaml"), "YAML: bad yaml"),
        (re.error("missing )"), "bad regular expression"),
        (RecursionError(), "nested too deeply"),
        (ValueError("No closing quotation"), "invalid value: No closing quotation"),
    ],
)
def test_expected_failures_have_a_fitting_hint(exc: BaseException, expected: str) -> None:
    line = describe(exc, "/var/db/cells")
    assert line is not None and expected in line and "\n" not in line
    if not isinstance(exc, OSError) or exc.errno not in (errno.EACCES, errno.EPERM):
        assert "run as root" not in line  # only where a privilege is what is missing


def test_a_bug_is_not_dressed_up() -> None:
    assert describe(KeyError("x")) is None


def test_a_full_disk_during_apply_is_reported_as_such(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cells.mgr.journal import StateDB

    (paths.config_dir / "a.yaml").write_text("kind: Cell\nname: a\n")

    def full(self: StateDB, *args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(StateDB, "record", full)
    result = run("apply", "--yes")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"cellmgr: error: a state database under {paths.state_dir}: the disk is full "
        "(database or disk is full); free space on that file system and retry"
    )
    assert "Traceback" not in result.output


def _corrupt_state(paths: Paths) -> None:
    (paths.config_dir / "a.yaml").write_text("kind: Cell\nname: a\n")
    assert run("apply", "--yes").exit_code == 0
    paths.db.write_bytes(b"this is not a database" * 100)
    for extra in ("-wal", "-shm"):
        Path(f"{paths.db}{extra}").unlink(missing_ok=True)


def test_a_corrupt_state_database_says_so_with_the_way_out(paths: Paths) -> None:
    _corrupt_state(paths)
    for args in (["plan"], ["apply", "--yes"], ["status"]):
        result = run(*args)
        assert result.exit_code == 1, args
        assert result.stderr == (
            f"cellmgr: error: cannot open the state database {paths.db}: the database is "
            "corrupt (file is not a database); restore it from a copy, or salvage it with "
            f"'sqlite3 {paths.db} .recover | sqlite3 {paths.db}.new' and move {paths.db}.new "
            "into place\n"
        ), args


def test_debug_shows_the_traceback(paths: Paths) -> None:
    _corrupt_state(paths)
    quiet = tool("cells.cli.mgr", "status")
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr
    loud = tool("cells.cli.mgr", "--debug", "status")
    assert loud.returncode == 1
    assert "Traceback (most recent call last)" in loud.stderr


@pytest.mark.parametrize("module", ["cells.cli.mgr", "cells.cli.ctl"])
def test_a_closed_stdout_is_a_quiet_exit(paths: Paths, module: str) -> None:
    (paths.config_dir / "a.yaml").write_text("kind: Cell\nname: a\n")
    assert run("apply", "--yes").exit_code == 0
    verb = "status" if module == "cells.cli.mgr" else "list"
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line: `| head -0`
    try:
        result = tool(module, verb, stdout=write)
    finally:
        os.close(write)
    assert (result.returncode, result.stderr) == (141, "")


def test_events_since_beyond_the_ring_is_a_usage_error(sim_env: dict[str, str]) -> None:
    result = tool("cells.cli.ctl", "events", "--since", "99999999999999999999")
    assert result.returncode == 2
    assert result.stdout == ""  # not even the header
    assert result.stderr.count("\n") == 1 and "--since" in result.stderr


@pytest.mark.parametrize(
    "rlimit", ["nofile= 5", " nofile=5", "nofile=5 ", "nofile=1_0", "nofile=99999999999t"]
)
def test_rlimit_options_are_strict(sim_env: dict[str, str], tmp_path: Path, rlimit: str) -> None:
    result = tool("cells.cli.ctl", "create", "x", "--root", str(tmp_path), "--rlimit", rlimit)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1


def test_a_scoped_bind_address_is_refused(sim_env: dict[str, str], tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    result = tool(
        "cells.cli.ctl", "create", "x", "--root", str(root), "--bind-addr", "fe80::1%eth0"
    )
    assert result.returncode == 1
    assert "has a zone" in result.stderr and result.stderr.count("\n") == 1
    assert json.loads(tool("cells.cli.ctl", "list", "--json").stdout)["cells"] == []


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OSError(errno.EMFILE, "Too many open files"), "ulimit -n"),
        (OSError(errno.ENOSPC, "No space left on device"), "free space"),
        (sqlite3.OperationalError("database or disk is full"), "the disk is full"),
        (sqlite3.DatabaseError("file is not a database"), "the database is corrupt"),
        (OSError(errno.EACCES, "Permission denied"), "run as root or set --state-dir"),
    ],
)
def test_opening_a_state_database_names_the_cause(exc: OSError, expected: str) -> None:
    from cells.failures import state_error

    line = str(state_error("/var/db/cells/cellmgr.db", exc))
    assert line.startswith("cannot open the state database /var/db/cells/cellmgr.db: ")
    assert expected in line
    if expected != "run as root or set --state-dir":
        assert "run as root" not in line


def test_out_of_descriptors_at_open_is_named_as_such(paths: Paths) -> None:
    """SQLite only says 'unable to open database file'; the cause is found."""
    import resource

    from cells.errors import CellsError
    from cells.mgr.journal import StateDB

    paths.state_dir.mkdir()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    held: list[int] = []
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
        with pytest.raises(OSError) as full:
            for _ in range(64):
                held.append(os.open(os.devnull, os.O_RDONLY))
        assert full.value.errno == errno.EMFILE
        with pytest.raises(CellsError) as err:
            StateDB(paths.db)
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert "ulimit -n" in str(err.value), str(err.value)
    assert "run as root" not in str(err.value)


def test_a_really_full_disk_under_the_state_dir_is_named(tmp_path: Path) -> None:
    """A 200 KiB tmpfs as the state dir, filled by an apply: every command
    says the disk is full (not a rollback error, not 'run as root')."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(tiny)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        config = tmp_path / "etc"
        config.mkdir()
        (config / "a.yaml").write_text(
            "".join(
                f"---\nkind: Cell\nname: c{i:03d}\nports: [{1000 + i}]\n"
                f"service: {{command: [sleep, '600'], env: {{X: {'y' * 2000}}}}}\n"
                for i in range(300)
            )
        )
        env = {
            "CELLS_BACKEND": "sim",
            "CELLS_STATE_DIR": str(tiny / "state"),
            "CELLS_CONFIG_DIR": str(config),
            "CELLS_DIR": str(tmp_path / "cells"),
            "CELLS_SOCKET": str(tmp_path / "sock"),
        }
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            result = tool("cells.cli.mgr", "apply", "--yes")
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        assert result.returncode == 1
        last = result.stderr.splitlines()[-1]
        assert "the disk is full" in last or "No space left on device" in last, result.stderr
        assert "rollback" not in result.stderr and "run as root" not in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        subprocess.run(["umount", "-l", str(tiny)], timeout=30, check=False)
