"""Run records: services left by a supervisor killed with SIGKILL are stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cells.supervisor import ServiceSpec, Supervisor
from cells.supervisor.runrecord import start_stamp
from sup_helpers import Recorder, dead, proc_state, run

_PY = str(Path(__file__).resolve().parents[3] / "python")

#: An engine in its own process: starts the two services, prints their pids.
_OLD_ENGINE = """
import asyncio, json, sys
from cells.supervisor import ServiceSpec, Supervisor

async def main() -> None:
    seen = []
    sup = Supervisor(run_dir=sys.argv[1])
    sup.add(ServiceSpec(name="stubborn", argv=("sh", "-c", 'trap "" TERM; echo ready; sleep 60'),
                        stop_timeout=0.5, log_sink=lambda s, st, line: seen.append(line)))
    sup.add(ServiceSpec(name="plain", argv=("sleep", "60")))
    await sup.start("stubborn")
    await sup.start("plain")
    while "ready" not in seen:
        await asyncio.sleep(0.01)
    print(json.dumps({n: sup.status(n).pid for n in ("stubborn", "plain")}), flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def _group(pgid: int) -> list[int]:
    """Live (not zombie) processes in process group `pgid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def _specs(rec: Recorder) -> list[ServiceSpec]:
    return [
        ServiceSpec(
            name="stubborn",
            argv=("sh", "-c", 'trap "" TERM; echo ready; sleep 60'),
            stop_timeout=0.5,
            log_sink=rec.sink,
        ),
        ServiceSpec(name="plain", argv=("sleep", "60")),
    ]


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_services_of_a_killed_engine_are_stopped_by_the_next(rec: Recorder, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    old = subprocess.Popen(
        [sys.executable, "-c", _OLD_ENGINE, str(run_dir)],
        env={**os.environ, "PYTHONPATH": _PY},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert old.stdout is not None
        pids: dict[str, int] = json.loads(old.stdout.readline())
        assert sorted(p.name for p in run_dir.glob("*.json")) == ["plain.json", "stubborn.json"]
    finally:
        old.kill()
        old.wait(10)
    # Killed hard, the engine leaves its services running in their groups.
    groups = {name: _group(pid) for name, pid in pids.items()}
    assert pids["plain"] in groups["plain"]
    assert pids["stubborn"] in groups["stubborn"] and len(groups["stubborn"]) == 2

    async def scenario() -> tuple[dict[str, int], list[str], float]:
        sup = Supervisor(on_event=rec.on_event, run_dir=run_dir)
        for spec in _specs(rec):
            sup.add(spec)
        began = time.monotonic()
        await sup.start("stubborn")
        took = time.monotonic() - began
        await sup.start("plain")
        await rec.until(lambda: "ready" in rec.lines_of("stubborn"))
        new = {name: sup.status(name).pid or 0 for name in pids}
        assert {p.name for p in run_dir.glob("*.json")} == {"plain.json", "stubborn.json"}
        lines = [e.message or "" for _, e in rec.events if e.leftover]
        await sup.close()
        return new, lines, took

    try:
        new, lines, took = run(scenario())
    finally:
        for members in groups.values():
            for pid in members:
                if proc_state(pid) not in (None, "Z", "X"):
                    os.kill(pid, signal.SIGKILL)
    for name, pid in pids.items():
        assert all(dead(member) for member in groups[name]), name
        assert _group(pid) == []
        assert new[name] != pid
    # The stubborn one ignores TERM: it went only with KILL after its stop timeout.
    assert took >= 0.5
    assert sorted(lines) == sorted(
        f"stopped leftover service {name} (pid {pid}) from a previous supervisor"
        for name, pid in pids.items()
    )
    assert all(dead(pid) for pid in new.values())
    assert list(run_dir.glob("*")) == []


def test_stale_records_are_removed_without_killing(rec: Recorder, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    me = os.getpid()
    gone = _dead_pid()
    (run_dir / "gone.json").write_text(
        json.dumps({"service": "gone", "pid": gone, "pgid": gone, "stamp": "1"})
    )
    # Our own pid, recorded with another start stamp: a reused pid.
    (run_dir / "reused.json").write_text(
        json.dumps({"service": "reused", "pid": me, "pgid": os.getpgid(me), "stamp": "-1"})
    )
    (run_dir / "garbage.json").write_text("{not json")
    assert start_stamp(me) not in (None, "-1")
    terms: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda sig, frame: terms.append(sig))
    try:

        async def scenario() -> list[str]:
            sup = Supervisor(on_event=rec.on_event, run_dir=run_dir)
            sup.add(ServiceSpec(name="plain", argv=("sleep", "60")))
            await sup.start("plain")
            assert [p.name for p in run_dir.glob("*.json")] == ["plain.json"]
            again = await sup.stop_leftovers()
            await sup.close()
            return again

        assert run(scenario()) == []
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert terms == []
    assert proc_state(me) is not None
    assert [e for _, e in rec.events if e.leftover] == []
    assert list(run_dir.glob("*")) == []


def test_records_of_a_live_supervisor_are_left_alone(rec: Recorder, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"

    async def scenario() -> None:
        first = Supervisor(run_dir=run_dir)
        first.add(ServiceSpec(name="plain", argv=("sleep", "60")))
        await first.start("plain")
        pid = first.status("plain").pid
        assert pid is not None
        second = Supervisor(on_event=rec.on_event, run_dir=run_dir)
        assert await second.stop_leftovers() == []
        assert first.status("plain").state == "running"
        assert proc_state(pid) not in (None, "Z")
        assert (run_dir / "plain.json").exists()
        await second.close()
        await first.close()
        assert not (run_dir / "plain.json").exists()

    run(scenario())


def test_cellctl_supervise_stops_what_a_killed_one_left(
    sim_env: dict[str, str], state_dir: Path, make_root: Any, cellctl: Any
) -> None:
    result = cellctl("create", "web", "--root", str(make_root("web")))
    assert result.exit_code == 0, result.stderr
    env = {**os.environ, **sim_env, "PYTHONPATH": _PY}
    old = subprocess.Popen(
        [sys.executable, "-m", "cells.cli.ctl", "supervise", "web", "--", "sleep", "60"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert old.stderr is not None
        assert "web: running, pid " in old.stderr.readline()
        record = json.loads((state_dir / "run" / "supervise" / "web.json").read_text())
    finally:
        old.kill()
        old.wait(10)
    pid = record["pid"]
    assert proc_state(pid) not in (None, "Z", "X")
    try:
        result = cellctl("supervise", "web", "--restart", "no", "--", "true")
    finally:
        if proc_state(pid) not in (None, "Z", "X"):
            os.kill(pid, signal.SIGKILL)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"cellctl: stopped leftover service web (pid {pid}) from a previous supervisor"
    )
    assert dead(pid)
    assert list((state_dir / "run" / "supervise").iterdir()) == []
