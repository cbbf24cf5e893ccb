"""What a supervised service is: `ServiceSpec` and its parts, and their parsers.

A spec is an immutable value; `validate_spec()` checks it once, when it is
added to a `Supervisor`.  The parsers turn the strings of the command line
and of manifests (`on-failure:3`, `nofile=256:1024`) into typed values and
report bad input as one line.  Callers: the supervisor engine, `cellctl
supervise`, the cellmgr daemon.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from cells.errors import InvalidArgument
from cells.kernel.api import CellRef, Rlimit
from cells.kernel.rlimits import UNLIMITED
from cells.kernel.rlimits import parse_rlimit as parse_rlimit

Stream = Literal["stdout", "stderr"]
RestartMode = Literal["no", "on-failure", "always"]

#: A log sink receives every output line of a service: (service, stream, line).
LogSink = Callable[[str, Stream, str], None]

#: Value of an rlimit meaning "no limit" (cells.kernel.rlimits.UNLIMITED).
RLIM_INFINITY = UNLIMITED

_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class RestartPolicy:
    """`no`, `always`, or `on-failure` with an optional retry bound."""

    mode: RestartMode = "on-failure"
    max_retries: int | None = None

    def __str__(self) -> str:
        if self.mode == "on-failure" and self.max_retries is not None:
            return f"on-failure:{self.max_retries}"
        return self.mode


@dataclass(frozen=True)
class HealthcheckSpec:
    """A command run inside the service's context every `interval` seconds.

    Exit status 0 is healthy.  Failures during `start_period` do not count;
    `retries` consecutive failures after it make the service unhealthy, and
    an unhealthy service is restarted.  After `max_restarts` such restarts
    (without a stable run in between) the service is marked failed.
    """

    argv: tuple[str, ...]
    interval: float = 30.0
    timeout: float = 10.0
    retries: int = 3
    start_period: float = 0.0
    max_restarts: int = 3


@dataclass(frozen=True)
class ServiceSpec:
    """One service: what to run, where, as whom, and how to supervise it.

    `cell` is a cell name or id, or None for a host service.  `cwd` is a
    path inside the cell (default "/", the cell root).  `env` is added to a
    minimal environment for cell services and to the supervisor's own for
    host services.  Backoff between restarts starts at `backoff_initial`,
    doubles, and is capped at `backoff_max`; a run that lasts `stable_after`
    seconds resets the delay and the retry counters.
    """

    name: str
    argv: tuple[str, ...]
    cell: CellRef | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    user: str | None = None
    group: str | None = None
    rlimits: tuple[Rlimit, ...] = ()
    restart: RestartPolicy = RestartPolicy()
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    stable_after: float = 10.0
    stop_timeout: float = 10.0
    log_sink: LogSink | None = None
    healthcheck: HealthcheckSpec | None = None
    max_line: int = 4096


def parse_restart(text: str) -> RestartPolicy:
    """Parse `no`, `always`, `on-failure` or `on-failure:N`."""
    value = text.strip()
    if value in ("no", "always", "on-failure"):
        return RestartPolicy(value)  # type: ignore[arg-type]
    if value.startswith("on-failure:"):
        count = value.split(":", 1)[1]
        if count.isdigit():
            return RestartPolicy("on-failure", int(count))
    raise InvalidArgument(
        f"restart policy {text!r}: expected no, always, on-failure or on-failure:N"
    )


def validate_spec(spec: ServiceSpec) -> None:
    """Raise `InvalidArgument` (one line) when a spec cannot be supervised."""
    where = f"service {spec.name!r}"
    if not _NAME_RE.match(spec.name) or spec.name in (".", ".."):
        raise InvalidArgument(f"{where}: the name must be 1-63 characters of [A-Za-z0-9._-]")
    if not spec.argv or not spec.argv[0]:
        raise InvalidArgument(f"{where}: no command given")
    if spec.restart.max_retries is not None and spec.restart.max_retries < 0:
        raise InvalidArgument(f"{where}: the restart retry bound must be 0 or more")
    if spec.backoff_initial <= 0 or spec.backoff_max < spec.backoff_initial:
        raise InvalidArgument(
            f"{where}: backoff needs 0 < initial <= max "
            f"(got {spec.backoff_initial}, {spec.backoff_max})"
        )
    if spec.stop_timeout < 0:
        raise InvalidArgument(f"{where}: the stop timeout must not be negative")
    if spec.max_line < 64:
        raise InvalidArgument(f"{where}: the maximum line length must be at least 64 bytes")
    if spec.cwd is not None and not spec.cwd.startswith("/"):
        raise InvalidArgument(f"{where}: the working directory {spec.cwd!r} must be absolute")
    seen: set[str] = set()
    for limit in spec.rlimits:
        if limit.resource in seen:
            raise InvalidArgument(f"{where}: rlimit {limit.resource} given twice")
        seen.add(limit.resource)
    check = spec.healthcheck
    if check is not None:
        if not check.argv:
            raise InvalidArgument(f"{where}: the healthcheck has no command")
        if check.interval <= 0 or check.timeout <= 0:
            raise InvalidArgument(f"{where}: healthcheck interval and timeout must be positive")
        if check.retries < 1 or check.start_period < 0 or check.max_restarts < 0:
            raise InvalidArgument(
                f"{where}: healthcheck needs retries >= 1, start_period >= 0, max_restarts >= 0"
            )
