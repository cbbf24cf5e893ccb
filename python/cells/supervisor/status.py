"""What a supervised service is doing: states, health, status snapshots, events.

`ServiceStatus` is an immutable snapshot handed out by `Supervisor.status()`
and carried by every `ServiceEvent` (the cellmgr daemon forwards events to
its UIs, so both have a stable `to_dict()`).  Callers: the supervisor engine,
cellctl, the cellmgr daemon and its IPC.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

#: starting: being spawned; running: the main process is alive; backoff:
#: waiting to restart; stopping: TERM sent, waiting; stopped: stopped on
#: request (or never started); exited: ended and the policy says stay down;
#: failed: cannot run, or a restart bound was reached.
ServiceState = Literal["starting", "running", "backoff", "stopping", "stopped", "exited", "failed"]
SERVICE_STATES: tuple[ServiceState, ...] = (
    "starting",
    "running",
    "backoff",
    "stopping",
    "stopped",
    "exited",
    "failed",
)

#: unknown: no healthcheck or not running; starting: no verdict yet.
Health = Literal["unknown", "starting", "healthy", "unhealthy"]

#: States in which the service is down and stays down until asked.
DOWN_STATES: frozenset[ServiceState] = frozenset({"stopped", "exited", "failed"})


@dataclass(frozen=True)
class ServiceStatus:
    """A snapshot of one service.  Times are Unix timestamps (seconds).

    `message` says why the last change happened; `error` is the last
    failure to start a process (cleared by the next successful start).
    """

    name: str
    cell: str | None
    state: ServiceState
    pid: int | None
    restarts: int
    health_restarts: int
    exit_code: int | None
    exit_signal: int | None
    health: Health
    since: float
    started_at: float | None
    health_since: float | None
    message: str | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; keys are stable."""
        return asdict(self)


@dataclass(frozen=True)
class ServiceEvent:
    """A state or health change of one service, with the status after it.

    `leftover` marks the report that a process of this service left by a
    previous supervisor was stopped (state stopped, `message` says which).
    """

    name: str
    previous: ServiceState
    status: ServiceStatus
    message: str | None = None
    leftover: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "previous": self.previous,
            "status": self.status.to_dict(),
            "message": self.message,
        }
