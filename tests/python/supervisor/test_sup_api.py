"""The Supervisor API around the processes: run/shutdown, restart, remove, events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cells.kernel import open_kernel
from cells.kernel.api import CellSpec
from cells.supervisor import HealthcheckSpec, ServiceSpec, Supervisor, parse_restart
from sup_helpers import Recorder, dead, run


def _sleeper(name: str) -> ServiceSpec:
    return ServiceSpec(name=name, argv=("sleep", "30"), restart=parse_restart("always"))


def test_run_until_shutdown_stops_everything(rec: Recorder) -> None:
    async def scenario() -> list[int]:
        sup = Supervisor(on_event=rec.on_event)
        for name in ("a", "b"):
            sup.add(_sleeper(name))
            await sup.start(name)
        pids = [s.pid for s in sup.statuses() if s.pid is not None]
        asyncio.get_running_loop().call_later(0.1, sup.shutdown)
        await sup.run(order=["b", "a"])
        assert [s.state for s in sup.statuses()] == ["stopped", "stopped"]
        assert sup.unreaped == 0
        return pids

    pids = run(scenario())
    assert len(pids) == 2 and all(dead(p) for p in pids)
    stopped = [e.name for _, e in rec.events if e.status.state == "stopped"]
    assert stopped == ["b", "a"]


def test_restart_gives_a_new_process_and_resets_counters(rec: Recorder) -> None:
    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_sleeper("a"))
        first = await sup.start("a")
        again = await sup.start("a")
        assert again.pid == first.pid, "starting a running service does nothing"
        second = await sup.restart("a")
        assert second.state == "running"
        assert second.pid not in (None, first.pid)
        assert second.restarts == 0
        assert first.pid is not None and dead(first.pid)
        await sup.remove("a")
        assert sup.names() == []
        await sup.close()

    run(scenario())


def test_events_are_json_ready_and_a_failing_callback_is_contained(rec: Recorder) -> None:
    seen: list[str] = []

    def callback(event: object) -> None:
        seen.append(json.dumps(event.to_dict()))  # type: ignore[attr-defined]
        raise RuntimeError("ui went away")

    async def scenario() -> int:
        sup = Supervisor(on_event=callback)
        sup.add(ServiceSpec(name="once", argv=("true",), restart=parse_restart("no")))
        await sup.start("once")
        status = await sup.wait_down("once")
        assert status.state == "exited"
        await sup.close()
        return sup.event_errors

    errors = run(scenario())
    assert errors == len(seen) >= 3
    first = json.loads(seen[0])
    assert sorted(first) == ["message", "name", "previous", "status"]
    assert sorted(first["status"]) == sorted(
        [
            "name",
            "cell",
            "state",
            "pid",
            "restarts",
            "health_restarts",
            "exit_code",
            "exit_signal",
            "health",
            "since",
            "started_at",
            "health_since",
            "message",
            "error",
        ]
    )


def test_healthcheck_runs_inside_the_cell(tmp_path: Path, rec: Recorder) -> None:
    root = tmp_path / "root"
    root.mkdir()
    kernel = open_kernel("sim", tmp_path / "state")
    kernel.create(CellSpec(name="app", root=str(root)))
    check = HealthcheckSpec(argv=("test", "-f", "ready"), interval=0.05, retries=1, timeout=1)
    spec = ServiceSpec(
        name="app",
        cell="app",
        argv=("sh", "-c", "touch ready; exec sleep 30"),
        restart=parse_restart("no"),
        healthcheck=check,
    )

    async def scenario() -> None:
        sup = Supervisor(kernel=kernel, on_event=rec.on_event)
        sup.add(spec)
        await sup.start("app")
        await rec.until(lambda: sup.status("app").health == "healthy")
        await sup.close()

    run(scenario())
    assert (root / "ready").exists()
    assert kernel.get("app").nprocs == 0
    kernel.destroy("app")
