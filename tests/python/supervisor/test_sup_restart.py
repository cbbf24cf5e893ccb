"""Restart policies and the capped exponential backoff, with real processes."""

from __future__ import annotations

import itertools

import pytest
from cells.supervisor import ServiceSpec, Supervisor, parse_restart
from sup_helpers import Recorder, new_zombies, run


def _spec(name: str, script: str, policy: str, **kw: float) -> ServiceSpec:
    return ServiceSpec(
        name=name,
        argv=("sh", "-c", script),
        restart=parse_restart(policy),
        backoff_initial=kw.get("initial", 0.05),
        backoff_max=kw.get("maximum", 0.2),
    )


def test_backoff_doubles_and_is_capped(rec: Recorder) -> None:
    async def scenario() -> list[float]:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec("flaky", "exit 1", "always", initial=0.15, maximum=0.6))
        await sup.start("flaky")
        await rec.until(lambda: len(rec.times_of("flaky", "starting")) >= 6, timeout=5)
        await sup.close()
        starts = rec.times_of("flaky", "starting")
        return [b - a for a, b in itertools.pairwise(starts)]

    gaps = run(scenario())
    # Each gap is the delay plus the short life of `sh -c "exit 1"`.
    expected = [0.15, 0.3, 0.6, 0.6, 0.6]
    for gap, want in zip(gaps[:5], expected, strict=True):
        assert want - 0.01 <= gap <= want + 0.1, (gaps, expected)


def test_on_failure_n_gives_up_after_n_restarts(rec: Recorder) -> None:
    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec("bad", "exit 3", "on-failure:2"))
        await sup.start("bad")
        status = await sup.wait_down("bad")
        assert status.state == "failed"
        assert status.restarts == 2
        assert status.exit_code == 3
        assert status.message == "exited with status 3; gave up after 2 restarts"
        await sup.close()

    run(scenario())
    assert len(rec.times_of("bad", "running")) == 3


def test_on_failure_does_not_restart_after_success(rec: Recorder) -> None:
    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec("ok", "exit 0", "on-failure"))
        await sup.start("ok")
        status = await sup.wait_down("ok")
        assert (status.state, status.restarts, status.exit_code) == ("exited", 0, 0)
        await sup.close()

    run(scenario())


def test_always_restarts_after_exit_zero(rec: Recorder) -> None:
    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec("loop", "exit 0", "always"))
        await sup.start("loop")
        await rec.until(lambda: len(rec.times_of("loop", "running")) >= 3)
        assert sup.status("loop").restarts >= 2
        await sup.close()
        assert sup.status("loop").state == "stopped"

    run(scenario())


def test_no_policy_does_not_restart(rec: Recorder) -> None:
    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec("once", "exit 7", "no"))
        await sup.start("once")
        status = await sup.wait_down("once")
        assert (status.state, status.restarts, status.exit_code) == ("exited", 0, 7)
        assert status.message == "exited with status 7"
        await sup.close()

    run(scenario())
    assert rec.states("once") == ["starting", "running", "exited"]


def test_killed_by_signal_is_reported(rec: Recorder) -> None:
    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec("sig", "kill -KILL $$", "no"))
        await sup.start("sig")
        status = await sup.wait_down("sig")
        assert (status.exit_code, status.exit_signal) == (None, 9)
        assert status.message == "killed by SIGKILL"
        await sup.close()

    run(scenario())


def test_stable_run_resets_the_retry_count(rec: Recorder) -> None:
    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        spec = _spec("slow", "sleep 0.15; exit 1", "on-failure:1")
        sup.add(
            ServiceSpec(
                name=spec.name,
                argv=spec.argv,
                restart=spec.restart,
                backoff_initial=0.02,
                backoff_max=0.02,
                stable_after=0.1,
            )
        )
        await sup.start("slow")
        await rec.until(lambda: len(rec.times_of("slow", "running")) >= 4)
        assert sup.status("slow").state != "failed"
        await sup.close()

    run(scenario())


def test_manual_stop_during_backoff_is_prompt(rec: Recorder) -> None:
    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec("wait", "exit 1", "always", initial=30, maximum=30))
        await sup.start("wait")
        await rec.until(lambda: sup.status("wait").state == "backoff")
        await sup.stop("wait")
        assert sup.status("wait").state == "stopped"
        await sup.close()

    run(scenario(), timeout=5)
    assert new_zombies() == set()


@pytest.mark.parametrize("text", ["sometimes", "on-failure:x", "on-failure:-1", ""])
def test_bad_restart_policy_is_one_line(text: str) -> None:
    with pytest.raises(Exception) as info:
        parse_restart(text)
    assert "\n" not in str(info.value)
    assert "expected no, always, on-failure or on-failure:N" in str(info.value)
