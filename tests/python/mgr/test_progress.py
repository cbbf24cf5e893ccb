"""Apply's progress: one line per result as it happens, N/M and elapsed
time on a terminal, nothing printed twice."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from cells.cli.mgr import cli
from cells.cli.mgr.common import MgrApp, Progress
from cells.mgr.apply import ActionResult, Manager
from cells.mgr.paths import Paths
from click.testing import CliRunner

CELLS = "".join(f"---\nkind: Cell\nname: c{i}\n" for i in range(3))


def test_off_a_terminal_each_result_is_printed_as_it_happens(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    (paths.config_dir / "a.yaml").write_text(CELLS)
    seen: list[str] = []
    original = Manager._do

    def do(self: Manager, *args: Any) -> list[str]:
        seen.append(sys.stdout.buffer.getvalue().decode())  # what was out before this action
        return original(self, *args)

    monkeypatch.setattr(Manager, "_do", do)
    result = CliRunner().invoke(cli(), ["apply", "--yes"], env={"CELLS_QUIET": "1"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(seen) == 9  # root, create, record for each cell
    for i, before in enumerate(seen):
        assert before.splitlines() == lines[:i]
    assert "\r" not in result.output and "\033" not in result.output


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_counter_with_elapsed_time_is_cleared_before_each_result() -> None:
    out, err = io.StringIO(), Terminal()
    progress = Progress(MgrApp("cellmgr", stdout=out, stderr=err))
    ticks = iter([1.25, 2.5])
    progress._clock = lambda: next(ticks)
    progress.started = 0.0
    progress.begin(0, 2, "cell.create a")
    progress.done(0, 2, ActionResult("cell.create a", True))
    progress.begin(1, 2, "cell.record a")
    progress.done(1, 2, ActionResult("cell.record a", False, "boom"))
    assert out.getvalue() == "    ok  cell.create a\nFAILED  cell.record a\n"
    assert err.getvalue() == (
        "\r\033[K[1/2 1.2s] cell.create a\r\033[K\r\033[K[2/2 2.5s] cell.record a\r\033[K"
    )


def test_json_prints_the_report_once(paths: Paths) -> None:
    (paths.config_dir / "a.yaml").write_text(CELLS)
    result = CliRunner().invoke(cli(), ["apply", "--yes", "--json"], env={"CELLS_QUIET": "1"})
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1 and result.stdout.startswith("{")


def test_a_long_step_shows_its_elapsed_time_on_a_terminal_and_one_line_elsewhere() -> None:
    import time

    from cells.cli.mgr.common import working

    err = Terminal()
    with working(
        MgrApp("cellmgr", stdout=io.StringIO(), stderr=err), "importing sets", interval=0.01
    ):
        time.sleep(0.05)
    shown = err.getvalue()
    assert shown.startswith("\r\033[Kimporting sets [0.0s]")
    assert shown.count("importing sets [") >= 2 and shown.endswith("\r\033[K")
    plain = io.StringIO()
    with working(MgrApp("cellmgr", stdout=io.StringIO(), stderr=plain), "importing sets"):
        pass
    assert plain.getvalue() == "cellmgr: importing sets\n"


def test_a_long_step_names_its_parts() -> None:
    import time

    from cells.cli.mgr.common import working

    err = Terminal()
    with working(
        MgrApp("cellmgr", stdout=io.StringIO(), stderr=err), "importing sets", interval=0.01
    ) as part:
        part("[1/2] base: fetching")
        time.sleep(0.05)
    assert "importing sets: [1/2] base: fetching [" in err.getvalue()
    plain = io.StringIO()
    with working(MgrApp("cellmgr", stdout=io.StringIO(), stderr=plain), "importing sets") as part:
        part("[1/2] base: fetching")
        part("[2/2] etc: extracting")
    assert plain.getvalue().splitlines() == [
        "cellmgr: importing sets",
        "cellmgr: importing sets: [1/2] base: fetching",
        "cellmgr: importing sets: [2/2] etc: extracting",
    ]


def test_bootstrap_and_backup_count_their_sets_and_archives(paths: Paths, tmp_path: Path) -> None:
    import hashlib
    import tarfile

    from cells.mgr.backups import Backups
    from cells.mgr.journal import StateDB
    from cells.mgr.rootfs import import_sets

    sets = tmp_path / "sets"
    sets.mkdir()
    sums = []
    for name in ("base", "etc"):
        src = tmp_path / name
        (src / name).mkdir(parents=True)
        (src / name / "f").write_text(name)
        with tarfile.open(sets / f"{name}.tgz", "w:gz") as tar:
            tar.add(src, arcname=".")
        digest = hashlib.sha512((sets / f"{name}.tgz").read_bytes()).hexdigest()
        sums.append(f"SHA512 ({name}.tgz) = {digest}\n")
    (sets / "SHA512").write_text("".join(sums))
    told: list[str] = []
    import_sets(paths, str(sets), "10.1", "amd64", ("base", "etc"), progress=told.append)
    assert told == [
        "[1/2] base: fetching",
        "[1/2] base: checking SHA512",
        "[1/2] base: extracting",
        "[2/2] etc: fetching",
        "[2/2] etc: checking SHA512",
        "[2/2] etc: extracting",
    ]

    (paths.config_dir / "a.yaml").write_text(
        "kind: Volume\nname: data\n---\nkind: Cell\nname: web\nmounts: [data:/data:rw]\n"
    )
    assert CliRunner().invoke(cli(), ["apply", "--yes"], env={"CELLS_QUIET": "1"}).exit_code == 0
    told.clear()
    db = StateDB(paths.db)
    try:
        meta = Backups(paths, db, lambda cell: False).create("web", progress=told.append)
        assert told == ["[1/2] overlay", "[2/2] volume data"]
        told.clear()
        Backups(paths, db, lambda cell: False).restore(meta["id"], yes=True, progress=told.append)
    finally:
        db.close()
    assert sorted(told) == ["[1/2] extracting data.tar.gz", "[2/2] extracting overlay.tar.gz"]
