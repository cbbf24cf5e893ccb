"""Steps run under a time limit; an overrun is killed and reported."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from ci.qemu.errors import StepTimeout
from ci.qemu.steps import StepLog, run_step


def test_a_step_within_its_limit() -> None:
    log = StepLog()
    assert run_step("quick", 5.0, lambda: 42, log) == 42
    assert [(r.name, r.status) for r in log.records] == [("quick", "ok")]


def test_an_overrunning_subprocess_is_killed_and_reported() -> None:
    log = StepLog()
    procs: list[subprocess.Popen[bytes]] = []

    def slow() -> int:
        procs.append(subprocess.Popen(["sleep", "30"]))
        return procs[0].wait()

    def kill() -> None:
        procs[0].kill()
        procs[0].wait()

    start = time.monotonic()
    with pytest.raises(StepTimeout) as exc:
        run_step("install", 0.3, slow, log, kill)
    assert time.monotonic() - start < 5
    assert procs[0].returncode == -signal.SIGKILL
    assert "step 'install' exceeded its limit of 0.3 s" in str(exc.value)
    rec = log.records[-1]
    assert (rec.name, rec.status, rec.detail) == ("install", "timeout", "killed")
    assert "timeout" in log.lines()[-1]


def test_a_busy_python_loop_is_interrupted_too() -> None:
    def spin() -> None:
        while True:
            pass

    with pytest.raises(StepTimeout):
        run_step("spin", 0.2, spin, StepLog())


def test_failures_are_recorded_and_reraised() -> None:
    log = StepLog()

    def boom() -> None:
        raise RuntimeError("install set base does not exist")

    with pytest.raises(RuntimeError):
        run_step("install", 5.0, boom, log)
    assert log.records[-1].status == "failed"
    assert log.records[-1].detail == "install set base does not exist"


def test_the_alarm_is_disarmed_and_the_handler_restored() -> None:
    before = signal.getsignal(signal.SIGALRM)
    run_step("quick", 0.5, lambda: None, StepLog())
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before
    time.sleep(0.6)  # a stray alarm would kill the test process here


def test_log_written_as_json(tmp_path: object) -> None:
    import json
    from pathlib import Path

    log = StepLog()
    run_step("quick", 1.0, lambda: None, log)
    path = Path(str(tmp_path)) / "steps.json"
    log.write(path)
    assert json.loads(path.read_text())[0]["name"] == "quick"
