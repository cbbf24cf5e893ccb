"""Stopping: TERM, grace period, KILL, the whole process group, reaping."""

from __future__ import annotations

import signal
import time

from cells.supervisor import ServiceSpec, Supervisor, parse_restart
from sup_helpers import Recorder, dead, new_zombies, proc_state, run


def _spec(rec: Recorder, name: str, script: str, grace: float) -> ServiceSpec:
    return ServiceSpec(
        name=name,
        argv=("sh", "-c", script),
        restart=parse_restart("always"),
        stop_timeout=grace,
        log_sink=rec.sink,
    )


def test_term_then_kill_after_grace_for_a_child_ignoring_term(rec: Recorder) -> None:
    script = 'trap "" TERM; echo ready; while :; do sleep 0.05; done'

    async def scenario() -> tuple[int, float]:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec(rec, "stubborn", script, grace=0.5))
        await sup.start("stubborn")
        await rec.until(lambda: "ready" in rec.lines_of("stubborn"))
        pid = sup.status("stubborn").pid
        assert pid is not None
        began = time.monotonic()
        status = await sup.stop("stubborn")
        took = time.monotonic() - began
        assert status.state == "stopped"
        assert status.exit_signal == signal.SIGKILL
        assert status.pid is None
        await sup.close()
        return pid, took

    pid, took = run(scenario())
    assert 0.5 <= took < 1.5
    assert proc_state(pid) is None, "killed and reaped: no /proc entry, not even a zombie"
    assert rec.states("stubborn")[-2:] == ["stopping", "stopped"]


def test_term_is_enough_for_a_well_behaved_service(rec: Recorder) -> None:
    async def scenario() -> float:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec(rec, "polite", "echo ready; exec sleep 30", grace=5))
        await sup.start("polite")
        await rec.until(lambda: "ready" in rec.lines_of("polite"))
        began = time.monotonic()
        status = await sup.stop("polite")
        assert status.exit_signal == signal.SIGTERM
        await sup.close()
        return time.monotonic() - began

    assert run(scenario()) < 1.0


def test_stop_reaches_the_whole_process_group(rec: Recorder) -> None:
    script = "sleep 60 & echo $!; sleep 60 & echo $!; wait"

    async def scenario() -> list[int]:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec(rec, "tree", script, grace=2))
        await sup.start("tree")
        await rec.until(lambda: len(rec.lines_of("tree")) >= 2)
        await sup.stop("tree")
        await sup.close()
        return [int(line) for line in rec.lines_of("tree")]

    for pid in run(scenario()):
        assert dead(pid), f"grandchild {pid} survived the stop"


def test_leftover_group_is_killed_when_the_main_process_exits(rec: Recorder) -> None:
    script = "sleep 60 & echo $!; exit 0"

    async def scenario() -> int:
        sup = Supervisor(on_event=rec.on_event)
        spec = _spec(rec, "orphan", script, grace=2)
        sup.add(
            ServiceSpec(
                name=spec.name, argv=spec.argv, restart=parse_restart("no"), log_sink=rec.sink
            )
        )
        await sup.start("orphan")
        status = await sup.wait_down("orphan")
        assert status.state == "exited"
        await sup.close()
        return int(rec.lines_of("orphan")[0])

    pid = run(scenario())
    assert dead(pid)


def test_stragglers_that_ignore_term_are_killed_after_grace(rec: Recorder) -> None:
    script = '(trap "" TERM; echo $(sh -c "echo \\$PPID"); exec sleep 60) & wait'

    async def scenario() -> tuple[float, list[str]]:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(_spec(rec, "straggler", script, grace=0.4))
        await sup.start("straggler")
        await rec.until(lambda: len(rec.lines_of("straggler")) >= 1)
        began = time.monotonic()
        await sup.stop("straggler")
        took = time.monotonic() - began
        await sup.close()
        return took, rec.lines_of("straggler")

    took, lines = run(scenario())
    assert 0.4 <= took < 1.4
    assert dead(int(lines[0]))


def test_no_zombies_after_many_restarts_and_stops(rec: Recorder) -> None:
    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        for index in range(5):
            sup.add(
                ServiceSpec(
                    name=f"z{index}",
                    argv=("sh", "-c", "sleep 0.02 & exit 1"),
                    restart=parse_restart("always"),
                    backoff_initial=0.01,
                    backoff_max=0.02,
                )
            )
            await sup.start(f"z{index}")
        await rec.until(lambda: len(rec.times_of("z4", "running")) >= 5)
        await sup.stop_all(["z4", ["z3", "z2"]])
        assert sup.unreaped == 0
        assert new_zombies() == set()
        await sup.close()

    run(scenario())


def test_stop_all_follows_the_given_order(rec: Recorder) -> None:
    async def scenario() -> list[str]:
        sup = Supervisor(on_event=rec.on_event)
        for name in ("db", "app", "web", "extra"):
            sup.add(_spec(rec, name, "exec sleep 30", grace=2))
            await sup.start(name)
        await sup.stop_all(["web", "app", "db"])
        await sup.close()
        return [e.name for _, e in rec.events if e.status.state == "stopped"]

    assert run(scenario()) == ["web", "app", "db", "extra"]
