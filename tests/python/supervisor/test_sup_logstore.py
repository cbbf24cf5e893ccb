"""The local log store: format, size cap and rotation, tail, follow."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from cells.errors import InvalidArgument, NotFound
from cells.supervisor import LogStore, ServiceSpec, Supervisor, parse_restart
from sup_helpers import Recorder, run


def _clock() -> float:
    return 1795900000.25


def test_records_are_timestamped_and_tagged(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs", clock=_clock)
    store("web", "stdout", "hello\tworld")
    store("web", "stderr", "oops")
    store.close()
    assert (tmp_path / "logs" / "web.log").stat().st_mode & 0o777 == 0o600  # may hold secrets
    text = (tmp_path / "logs" / "web.log").read_text()
    assert text == (
        "2026-11-28T21:06:40.250Z\tstdout\thello\tworld\n2026-11-28T21:06:40.250Z\tstderr\toops\n"
    )
    records = store.tail("web", 10)
    assert [(r.stream, r.line) for r in records] == [("stdout", "hello\tworld"), ("stderr", "oops")]
    assert records[0].format() == "2026-11-28T21:06:40.250Z stdout hello\tworld"


def test_size_is_capped_by_rotation_and_tail_spans_files(tmp_path: Path) -> None:
    store = LogStore(tmp_path, max_bytes=1024, keep=2, clock=_clock)
    for index in range(200):
        store("svc", "stdout", f"line {index:04d}")
    store.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["svc.log", "svc.log.1", "svc.log.2"]
    assert all(os.path.getsize(tmp_path / f) <= 1024 for f in files)
    tail = [r.line for r in store.tail("svc", 5)]
    assert tail == [f"line {i:04d}" for i in range(195, 200)]
    kept = [r.line for r in store.tail("svc", 10_000)]
    assert kept == [f"line {i:04d}" for i in range(200 - len(kept), 200)]
    per_file = 1024 // len("2026-11-28T21:06:40.250Z\tstdout\tline 0000\n")
    assert 2 * per_file <= len(kept) <= 3 * per_file
    assert store.services() == ["svc"]


def test_tail_of_an_unknown_service_says_so(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no logs for 'web' in "):
        LogStore(tmp_path).tail("web", 5)
    with pytest.raises(InvalidArgument):
        LogStore(tmp_path).tail("..", 5)


def test_follow_sees_new_lines_across_rotation(tmp_path: Path) -> None:
    store = LogStore(tmp_path, max_bytes=256, keep=1, clock=_clock)
    store("svc", "stdout", "before")
    follower = store.follower("svc")
    assert follower.read() == []
    written = [f"entry {i:03d}" for i in range(20)]
    seen: list[str] = []
    for line in written:
        store("svc", "stdout", line)
        seen.extend(r.line for r in follower.read())
    store.close()
    follower.close()
    assert seen == written


def test_follow_from_start_and_partial_lines(tmp_path: Path) -> None:
    path = tmp_path / "svc.log"
    path.write_bytes(b"t\tstdout\tone\nt\tstdout\ttw")
    follower = LogStore(tmp_path).follower("svc", from_start=True)
    assert [r.line for r in follower.read()] == ["one"]
    with path.open("ab") as handle:
        handle.write(b"o\n")
    assert [r.line for r in follower.read()] == ["two"]
    follower.close()


def test_supervised_output_lands_in_the_store(tmp_path: Path, rec: Recorder) -> None:
    store = LogStore(tmp_path / "logs")

    async def scenario() -> list[str]:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(
            ServiceSpec(
                name="web",
                argv=("sh", "-c", "echo out; echo err >&2; sleep 0.2; echo late"),
                restart=parse_restart("no"),
                log_sink=store,
            )
        )
        await sup.start("web")
        followed: list[str] = []

        async def follow() -> None:
            async for record in store.afollow("web", from_start=True, poll_interval=0.02):
                followed.append(f"{record.stream}:{record.line}")
                if record.line == "late":
                    return

        await asyncio.wait_for(follow(), 5)
        await sup.wait_down("web")
        await sup.close()
        return followed

    followed = run(scenario())
    store.close()
    assert followed == ["stdout:out", "stderr:err", "stdout:late"] or sorted(followed) == sorted(
        ["stdout:out", "stderr:err", "stdout:late"]
    )
    assert [r.line for r in store.tail("web", 1)] == ["late"]
