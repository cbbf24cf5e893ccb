"""Injected faults: no file descriptors left, a null byte, a bug in the engine."""

from __future__ import annotations

import errno
import os

import pytest
from cells.supervisor import ServiceSpec, Supervisor, parse_restart
from cells.supervisor import service as service_module
from sup_helpers import Recorder, run


def _start_once(spec: ServiceSpec, rec: Recorder) -> tuple[str, str | None, int]:
    async def scenario() -> tuple[str, str | None, int]:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(spec)
        status = await sup.start(spec.name)
        status = await sup.wait_down(spec.name)
        await sup.close()
        return status.state, status.message, sup.unreaped

    return run(scenario())


def test_running_out_of_descriptors_is_one_line(
    monkeypatch: pytest.MonkeyPatch, rec: Recorder
) -> None:
    calls = {"n": 0}
    real_pipe = os.pipe

    def pipe() -> tuple[int, int]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))
        return real_pipe()

    monkeypatch.setattr(os, "pipe", pipe)
    before = set(os.listdir("/proc/self/fd"))
    spec = ServiceSpec(name="x", argv=("true",), restart=parse_restart("no"))
    state, message, unreaped = _start_once(spec, rec)
    assert (state, message, unreaped) == (
        "failed",
        "cannot start true in the host: Too many open files",
        0,
    )
    assert set(os.listdir("/proc/self/fd")) <= before, "the first pipe was closed again"


def test_a_null_byte_in_the_command_is_one_line(rec: Recorder) -> None:
    spec = ServiceSpec(name="x", argv=("tr\0ue",), restart=parse_restart("no"))
    state, message, _ = _start_once(spec, rec)
    assert state == "failed"
    assert message == "cannot run tr\0ue in the host: embedded null byte"


def test_an_engine_bug_marks_the_service_failed(
    monkeypatch: pytest.MonkeyPatch, rec: Recorder
) -> None:
    def broken(*args: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(service_module, "plan_child_setup", broken)
    spec = ServiceSpec(name="x", argv=("true",), restart=parse_restart("always"))
    state, message, _ = _start_once(spec, rec)
    assert (state, message) == ("failed", "supervisor error: RuntimeError: boom")
