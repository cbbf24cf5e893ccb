"""Every bad input is one line and exit 1 from every command that reads it.

The malformed-manifest corpus (data/bad) and hostile documents (alias
loops, deep nesting) go through validate, plan and apply; read-only
commands write nothing; a manifest that validates but lacks what apply
needs on disk is refused by plan and apply before any change.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cells.cli.mgr import cli
from cells.mgr.paths import Paths
from click.testing import CliRunner, Result

DATA = Path(__file__).parent / "data"
BAD = sorted((DATA / "bad").glob("*.yaml"))
HOSTILE = {
    "alias-loop": "kind: Cell\nname: a\nports: &p [1, *p]\n",
    "deep-list": "kind: Cell\nname: a\nports: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "deep-map": "kind: Cell\nname: a\nenv: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n",
}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli(), list(args), env={"CELLS_QUIET": "1"})


def assert_one_line_failure(result: Result, what: str) -> None:
    assert result.exit_code == 1, (what, result.output)
    assert "Traceback" not in result.output, (what, result.output)
    assert "internal error" not in result.stderr, (what, result.stderr)
    last = result.stderr.splitlines()[-1]
    assert last.startswith("cellmgr: error: "), (what, result.stderr)


def corpus() -> list[tuple[str, str]]:
    return [(f.stem, f.read_text()) for f in BAD] + sorted(HOSTILE.items())


@pytest.mark.parametrize(("name", "text"), corpus(), ids=[n for n, _ in corpus()])
def test_every_bad_manifest_is_one_line_for_every_reader(
    paths: Paths, name: str, text: str
) -> None:
    (paths.config_dir / "a.yaml").write_text(text)
    for args in (["validate"], ["plan"], ["apply", "--yes"], ["status"]):
        result = run(*args)
        if args == ["status"] and result.exit_code == 0:  # applied cells, and a note
            assert "Traceback" not in result.output, result.output
            continue
        assert_one_line_failure(result, f"{name}: {' '.join(args)}")
    assert not paths.cells_dir.exists(), "a refused apply changed the host"


def test_read_only_commands_create_no_state(paths: Paths) -> None:
    (paths.config_dir / "a.yaml").write_text("kind: Cell\nname: a\n")
    assert run("validate").exit_code == 0
    assert not paths.state_dir.exists()
    for args in (["plan"], ["status"]):
        assert run(*args).exit_code == 0
        assert not paths.state_dir.exists(), args  # neither cellmgr's nor the sim's
    assert not paths.cells_dir.exists()


def _applies(paths: Paths, text: str) -> Result:
    (paths.config_dir / "a.yaml").write_text(text)
    return run("apply", "--yes")


def test_a_provision_owner_missing_in_the_cell_is_refused_before_any_change(
    paths: Paths,
) -> None:
    text = (
        "kind: Cell\nname: a\nprovision:\n  - file: {path: /etc/motd, content: hi, owner: nosuch}\n"
    )
    for args in (["plan"], ["apply", "--yes"]):
        (paths.config_dir / "a.yaml").write_text(text)
        result = run(*args)
        assert_one_line_failure(result, " ".join(args))
        assert (
            "provision[0].file.owner: 'nosuch': the cell has no /etc/passwd to look 'nosuch' up in"
            in result.stderr
        )
    assert not paths.cells_dir.exists()
    # A passwd the cell gets from an earlier step is where the name is looked up.
    with_passwd = text.replace(
        "provision:\n",
        'provision:\n  - file: {path: /etc/passwd, content: "www:*:80:80::/:/sbin/nologin\\n"}\n',
    )
    result = _applies(paths, with_passwd)
    assert_one_line_failure(result, "apply with a passwd lacking the user")
    assert "no user 'nosuch' in the cell's /etc/passwd" in result.stderr
    good = _applies(paths, with_passwd.replace("owner: nosuch", "owner: www"))
    assert good.exit_code == 0, good.output
    assert (paths.root("a") / "etc" / "motd").stat().st_uid == 80


def test_a_root_without_its_base_is_refused_by_plan(paths: Paths) -> None:
    (paths.config_dir / "a.yaml").write_text(
        "kind: Cell\nname: a\nroot: {release: '10.1', arch: amd64}\n"
    )
    result = run("plan")
    assert_one_line_failure(result, "plan")
    assert "root: no base for NetBSD 10.1/amd64; run 'cellmgr bootstrap" in result.stderr
    assert_one_line_failure(run("apply", "--yes"), "apply")
    assert not paths.cells_dir.exists()


def test_a_mount_on_a_non_empty_directory_is_refused_before_any_change(paths: Paths) -> None:
    cell = "kind: Volume\nname: v\n---\nkind: Cell\nname: a\n"
    assert _applies(paths, cell).exit_code == 0
    srv = paths.root("a") / "srv"
    srv.mkdir()
    (srv / "index.html").write_text("kept")
    result = _applies(paths, cell + 'mounts: ["v:/srv:rw"]\n')
    assert_one_line_failure(result, "apply")
    assert "mounts[0]: /srv is a non-empty directory in the cell" in result.stderr
    assert (srv / "index.html").read_text() == "kept"


def test_a_planted_fifo_for_passwd_is_not_read(paths: Paths) -> None:
    cell = "kind: Cell\nname: a\n"
    assert _applies(paths, cell).exit_code == 0
    etc = paths.root("a") / "etc"
    etc.mkdir(exist_ok=True)
    passwd = etc / "passwd"
    if passwd.exists():
        passwd.unlink()
    os.mkfifo(passwd)
    try:
        result = _applies(
            paths, cell + "provision:\n  - dir: {path: /srv, owner: www}\n"
        )  # would block on open() if the FIFO were read
        assert_one_line_failure(result, "apply")
        assert "/etc/passwd: a fifo, not a regular file" in result.stderr
    finally:
        shutil.rmtree(paths.root("a"), ignore_errors=True)


def test_owners_added_by_a_line_step_or_a_command_are_not_refused(paths: Paths) -> None:
    by_line = (
        "kind: Cell\nname: a\nprovision:\n"
        '  - line: {path: /etc/passwd, line: "www:*:80:80::/:/sbin/nologin"}\n'
        "  - dir: {path: /srv, owner: www}\n"
    )
    (paths.config_dir / "a.yaml").write_text(by_line)
    assert run("plan").exit_code == 0
    by_command = (
        "kind: Cell\nname: a\nprovision:\n"
        "  - exec: {command: 'echo www:*:81:81::/:/sbin/nologin >> etc/passwd', creates: /x}\n"
        "  - dir: {path: /srv, owner: www}\n"
    )
    (paths.config_dir / "a.yaml").write_text(by_command)
    assert run("plan").exit_code == 0  # what the command adds is known only when it runs
