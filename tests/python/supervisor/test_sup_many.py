"""Fifty services in one engine: all start, all log, all stop, nothing left over."""

from __future__ import annotations

import threading
import time

from cells.supervisor import ServiceSpec, Supervisor, parse_restart
from sup_helpers import Recorder, dead, new_zombies, run

COUNT = 50


def test_fifty_services_at_once(rec: Recorder) -> None:
    async def scenario() -> tuple[list[int], float, int]:
        sup = Supervisor(on_event=rec.on_event)
        for index in range(COUNT):
            sup.add(
                ServiceSpec(
                    name=f"svc{index:02d}",
                    argv=("sh", "-c", f"echo up {index}; exec sleep 60"),
                    restart=parse_restart("always"),
                    stop_timeout=2,
                    log_sink=rec.sink,
                )
            )
        threads = threading.active_count()
        for name in sup.names():
            await sup.start(name)
        await rec.until(lambda: len(rec.lines) == COUNT, timeout=10)
        statuses = sup.statuses()
        assert {s.state for s in statuses} == {"running"}
        assert threading.active_count() == threads, "no thread per service"
        pids = [s.pid for s in statuses if s.pid is not None]
        began = time.monotonic()
        await sup.stop_all()
        took = time.monotonic() - began
        assert {s.state for s in sup.statuses()} == {"stopped"}
        assert sup.unreaped == 0
        await sup.close()
        return pids, took, len(set(pids))

    pids, took, distinct = run(scenario(), timeout=30)
    assert distinct == COUNT
    assert sorted(rec.lines) == sorted((f"svc{i:02d}", "stdout", f"up {i}") for i in range(COUNT))
    assert took < 3.0, "services are stopped concurrently"
    assert all(dead(pid) for pid in pids)
    assert new_zombies() == set()
