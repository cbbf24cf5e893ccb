"""Healthchecks: verdicts, restart on failure, the bound, the start period."""

from __future__ import annotations

from pathlib import Path

from cells.supervisor import HealthcheckSpec, ServiceSpec, Supervisor, parse_restart
from sup_helpers import Recorder, run


def _spec(
    rec: Recorder,
    argv: tuple[str, ...],
    check: HealthcheckSpec,
    cwd: str | None = None,
) -> ServiceSpec:
    return ServiceSpec(
        name="svc",
        argv=argv,
        cwd=cwd,
        restart=parse_restart("no"),
        backoff_initial=0.05,
        backoff_max=0.05,
        stop_timeout=1,
        healthcheck=check,
        log_sink=rec.sink,
    )


def test_a_passing_check_makes_the_service_healthy(rec: Recorder) -> None:
    check = HealthcheckSpec(argv=("true",), interval=0.05, timeout=1, retries=1)

    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec(rec, ("sleep", "30"), check))
        status = await sup.start("svc")
        assert status.health == "starting"
        await rec.until(lambda: sup.status("svc").health == "healthy")
        await sup.close()
        assert sup.status("svc").health == "unknown"

    run(scenario())


def test_failing_check_restarts_then_gives_up_after_the_bound(rec: Recorder) -> None:
    check = HealthcheckSpec(argv=("false",), interval=0.05, timeout=1, retries=2, max_restarts=2)

    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec(rec, ("sleep", "30"), check))
        await sup.start("svc")
        status = await sup.wait_down("svc")
        assert status.state == "failed"
        assert status.health_restarts == 2
        assert status.restarts == 2
        assert status.message == "unhealthy; gave up after 2 health restarts"
        await sup.close()

    run(scenario())
    assert len(rec.times_of("svc", "running")) == 3
    unhealthy = [e for _, e in rec.events if e.status.health == "unhealthy"]
    assert unhealthy[0].message == "healthcheck failed 2 times: exited with status 1"


def test_a_hanging_check_times_out_and_is_reaped(rec: Recorder) -> None:
    check = HealthcheckSpec(
        argv=("sleep", "30"), interval=0.05, timeout=0.1, retries=1, max_restarts=0
    )

    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec(rec, ("sleep", "30"), check))
        await sup.start("svc")
        status = await sup.wait_down("svc")
        assert status.state == "failed"
        assert sup.unreaped == 0
        await sup.close()

    run(scenario())
    messages = [e.message for _, e in rec.events]
    assert "healthcheck failed 1 times: timed out after 0.1s" in messages


def _ready_later(tmp_path: Path, period: float, rec: Recorder) -> int:
    check = HealthcheckSpec(
        argv=("test", "-f", "ready"),
        interval=0.05,
        timeout=1,
        retries=1,
        start_period=period,
        max_restarts=0,
    )
    script = ("sh", "-c", "rm -f ready; sleep 0.4; touch ready; exec sleep 30")

    async def scenario() -> int:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec(rec, script, check, cwd=str(tmp_path)))
        await sup.start("svc")
        await rec.until(
            lambda: sup.status("svc").health == "healthy" or sup.status("svc").state == "failed",
            timeout=5,
        )
        state = sup.status("svc")
        await sup.close()
        return state.health_restarts if state.state != "failed" else -1

    return run(scenario())


def test_failures_inside_the_start_period_do_not_count(tmp_path: Path, rec: Recorder) -> None:
    assert _ready_later(tmp_path, 2.0, rec) == 0
    assert any(e.status.health == "healthy" for _, e in rec.events)
    assert not any(e.status.health == "unhealthy" for _, e in rec.events)


def test_without_a_start_period_the_same_service_fails(tmp_path: Path, rec: Recorder) -> None:
    assert _ready_later(tmp_path, 0.0, rec) == -1
