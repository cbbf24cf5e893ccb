"""`cellmgr logs -f`: the follower goes on exactly where the tail ended."""

from __future__ import annotations

import pytest
from cells.cli.mgr import cli
from cells.cli.mgr.common import MgrApp
from cells.mgr.paths import Paths
from cells.supervisor import LogStore
from click.testing import CliRunner


class Done(Exception):
    """Ends the otherwise endless follow loop."""


def test_a_line_written_right_after_the_tail_is_followed(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LogStore(paths.logs)
    store("web", "stdout", "first")
    printed: list[str] = []

    def out(self: MgrApp, text: str = "") -> None:
        printed.append(text)
        if text.endswith(" first"):
            store("web", "stderr", "second")  # between the tail and the follow
        if text.endswith(" second"):
            raise Done

    polls = 0

    def sleep(seconds: float) -> None:
        nonlocal polls
        polls += 1
        if polls > 20:
            raise Done  # the line never came

    monkeypatch.setattr(MgrApp, "out", out)
    monkeypatch.setattr("cells.supervisor.logstore.time.sleep", sleep)
    result = CliRunner().invoke(cli(), ["logs", "-f", "web"], env={"CELLS_DEBUG": "1"})
    assert isinstance(result.exception, Done)
    assert [line.split(" ", 1)[1] for line in printed] == ["stdout first", "stderr second"]


def test_follow_across_a_rotation_repeats_nothing(paths: Paths) -> None:
    store = LogStore(paths.logs, max_bytes=256)
    for i in range(12):
        store("web", "stdout", f"line {i:02d} " + "x" * 20)
    records, follower = store.tail_and_follow("web", 100)
    store("web", "stdout", "after")
    seen = [r.line for r in records]
    assert seen == sorted(set(seen))
    assert seen[-1].startswith("line 11")
    assert [r.line for r in follower.read()] == ["after"]
    follower.close()


def test_follow_with_no_log_yet_and_a_tail_is_not_found(paths: Paths) -> None:
    result = CliRunner().invoke(cli(), ["logs", "-f", "web"])
    assert result.exit_code == 1
    assert "no logs for 'web'" in result.output
