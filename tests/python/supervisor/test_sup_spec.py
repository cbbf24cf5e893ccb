"""Spec parsing and validation: every bad input is one clear line."""

from __future__ import annotations

import re
import syslog

import pytest
from cells.errors import AlreadyExists, InvalidArgument, NotFound
from cells.kernel.api import Rlimit
from cells.supervisor import (
    HealthcheckSpec,
    RestartPolicy,
    ServiceSpec,
    Supervisor,
    SyslogSink,
    parse_restart,
    parse_rlimit,
    validate_spec,
)
from cells.supervisor.spec import RLIM_INFINITY


def test_restart_policies_parse() -> None:
    assert parse_restart("no") == RestartPolicy("no")
    assert parse_restart("always") == RestartPolicy("always")
    assert parse_restart("on-failure") == RestartPolicy("on-failure", None)
    assert parse_restart("on-failure:5") == RestartPolicy("on-failure", 5)
    assert str(parse_restart("on-failure:5")) == "on-failure:5"


def test_rlimits_parse() -> None:
    assert parse_rlimit("nofile=256") == Rlimit("nofile", 256, 256)
    assert parse_rlimit("nofile=256:1024") == Rlimit("nofile", 256, 1024)
    assert parse_rlimit("as=1g") == Rlimit("as", 1 << 30, 1 << 30)
    assert parse_rlimit("core=unlimited") == Rlimit("core", RLIM_INFINITY, RLIM_INFINITY)
    assert parse_rlimit("nproc=10:unlimited") == Rlimit("nproc", 10, RLIM_INFINITY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("files=3", "expected NAME=SOFT[:HARD] with NAME one of nofile, as, core, nproc"),
        ("nofile", "expected NAME=SOFT[:HARD]"),
        ("nofile=lots", "'lots' is not a number"),
        ("nofile=10:5", "the soft limit is above the hard limit"),
    ],
)
def test_bad_rlimits_are_one_line(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(message)) as info:
        parse_rlimit(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ServiceSpec(name="a b", argv=("x",)), "the name must be 1-63 characters"),
        (ServiceSpec(name="..", argv=("x",)), "the name must be 1-63 characters"),
        (ServiceSpec(name="a", argv=()), "no command given"),
        (ServiceSpec(name="a", argv=("x",), backoff_initial=5, backoff_max=1), "backoff"),
        (ServiceSpec(name="a", argv=("x",), stop_timeout=-1), "stop timeout"),
        (ServiceSpec(name="a", argv=("x",), cwd="srv"), "must be absolute"),
        (
            ServiceSpec(
                name="a", argv=("x",), rlimits=(Rlimit("core", 0, 0), Rlimit("core", 1, 1))
            ),
            "rlimit core given twice",
        ),
        (
            ServiceSpec(name="a", argv=("x",), healthcheck=HealthcheckSpec(argv=(), interval=1)),
            "the healthcheck has no command",
        ),
        (
            ServiceSpec(name="a", argv=("x",), healthcheck=HealthcheckSpec(argv=("t",), retries=0)),
            "retries >= 1",
        ),
    ],
)
def test_bad_specs_are_refused(spec: ServiceSpec, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        validate_spec(spec)


def test_names_are_unique_and_must_exist() -> None:
    sup = Supervisor()
    sup.add(ServiceSpec(name="a", argv=("true",)))
    with pytest.raises(AlreadyExists, match="service 'a' is already supervised"):
        sup.add(ServiceSpec(name="a", argv=("true",)))
    with pytest.raises(NotFound, match="no service named 'b'"):
        sup.status("b")
    assert sup.status("a").state == "stopped"
    with pytest.raises(InvalidArgument, match="runs in cell web: give the supervisor a kernel"):
        sup.add(ServiceSpec(name="c", argv=("true",), cell="web"))


def test_syslog_sink_tags_and_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(syslog, "openlog", lambda *a: calls.append(("open", *a)))
    monkeypatch.setattr(syslog, "syslog", lambda *a: calls.append(("log", *a)))
    sink = SyslogSink(facility="local3", levels={"stdout": "notice"})
    sink("web", "stdout", "hello")
    sink("web", "stderr", "bad")
    sink("db", "stdout", "up")
    local3 = syslog.LOG_LOCAL3
    assert calls == [
        ("open", "cell/web", syslog.LOG_NDELAY, local3),
        ("log", local3 | syslog.LOG_NOTICE, "hello"),
        ("log", local3 | syslog.LOG_ERR, "bad"),
        ("open", "cell/db", syslog.LOG_NDELAY, local3),
        ("log", local3 | syslog.LOG_NOTICE, "up"),
    ]
    with pytest.raises(InvalidArgument, match="syslog facility 'kern7'"):
        SyslogSink(facility="kern7")
    with pytest.raises(InvalidArgument, match="syslog level 'loud' for stderr"):
        SyslogSink(levels={"stderr": "loud"})
