"""The reaper: only our pids, held zombies keep their group id, nothing left over."""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest
from cells.supervisor.reaper import ChildReaper
from sup_helpers import proc_state, run


def _start(*argv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(list(argv), start_new_session=True)


def test_a_held_exit_stays_a_zombie_until_reaped() -> None:
    async def scenario() -> None:
        reaper = ChildReaper()
        proc = _start("sh", "-c", "exit 5")
        watch = reaper.watch(proc, hold=True)
        await asyncio.wait_for(watch.exited, 5)
        assert proc_state(watch.pid) == "Z", "held: the pid (and group id) stay taken"
        assert not watch.reaped.done()
        os.killpg(watch.pid, 0)
        assert reaper.reap(watch) == 5
        assert proc_state(watch.pid) is None
        assert reaper.watched == 0
        await reaper.close()

    run(scenario())


def test_an_unheld_exit_is_reaped_with_its_signal() -> None:
    async def scenario() -> None:
        reaper = ChildReaper()
        proc = _start("sleep", "30")
        watch = reaper.watch(proc)
        reaper.signal(watch, 15)
        assert await asyncio.wait_for(watch.reaped, 5) == -15
        assert proc_state(watch.pid) is None
        await reaper.close()

    run(scenario())


def test_without_waitid_holding_degrades_to_reaping(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        reaper = ChildReaper()
        monkeypatch.setattr(reaper, "_can_peek", False)
        proc = _start("sh", "-c", "exit 3")
        watch = reaper.watch(proc, hold=True)
        await asyncio.wait_for(watch.exited, 5)
        assert reaper.reap(watch) == 3
        await reaper.close()

    run(scenario())


def test_close_kills_and_reaps_what_is_left() -> None:
    async def scenario() -> list[int]:
        reaper = ChildReaper()
        watches = [reaper.watch(_start("sleep", "30"), hold=i % 2 == 0) for i in range(4)]
        await reaper.close()
        assert reaper.watched == 0
        assert all(w.reaped.done() for w in watches)
        return [w.pid for w in watches]

    assert all(proc_state(pid) is None for pid in run(scenario()))


def test_without_sigchld_the_timer_still_reaps() -> None:
    async def scenario() -> None:
        reaper = ChildReaper(use_sigchld=False)
        watch = reaper.watch(_start("true"))
        assert await asyncio.wait_for(watch.reaped, 5) == 0
        await reaper.close()

    run(scenario())


def test_other_children_of_the_process_are_left_alone() -> None:
    async def scenario() -> int | None:
        reaper = ChildReaper()
        theirs = _start("sh", "-c", "exit 9")
        ours = reaper.watch(_start("true"))
        await asyncio.wait_for(ours.reaped, 5)
        await asyncio.sleep(0.1)
        reaper.poll()
        await reaper.close()
        return theirs.wait(timeout=5)

    assert run(scenario()) == 9, "the exit status of a foreign child was not stolen"
