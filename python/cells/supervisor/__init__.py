"""The service supervisor: many services supervised in one asyncio process.

`Supervisor` (engine) runs `ServiceSpec`s: each service in its cell
(chroot, enter, rlimits, user/group, then exec), restarted by policy with
capped exponential backoff, health-checked, stopped with TERM then KILL
to its whole process group, its output forwarded line by line to a log
sink (`SyslogSink` on NetBSD, `LogStore` on the sim).  Given a run dir,
it records each running service process there (pid, process group, start
stamp); before its first service starts it stops, TERM then KILL, the
process groups that a supervisor on the same run dir killed with SIGKILL
left running, and reports each as a `leftover` event (the cellmgr daemon
does this when it starts and then starts those services again); stale
records are removed.  Callers: `cellctl supervise`, the cellmgr daemon, `cellmgr logs`
(the `LogStore` reader).
"""

from cells.supervisor.engine import EventCallback, Supervisor
from cells.supervisor.logstore import LogRecord, LogStore
from cells.supervisor.spawn import SpawnError
from cells.supervisor.spec import (
    HealthcheckSpec,
    LogSink,
    RestartPolicy,
    ServiceSpec,
    Stream,
    parse_restart,
    parse_rlimit,
    validate_spec,
)
from cells.supervisor.status import (
    SERVICE_STATES,
    Health,
    ServiceEvent,
    ServiceState,
    ServiceStatus,
)
from cells.supervisor.syslog_sink import SyslogSink

__all__ = [
    "SERVICE_STATES",
    "EventCallback",
    "Health",
    "HealthcheckSpec",
    "LogRecord",
    "LogSink",
    "LogStore",
    "RestartPolicy",
    "ServiceEvent",
    "ServiceSpec",
    "ServiceState",
    "ServiceStatus",
    "SpawnError",
    "Stream",
    "Supervisor",
    "SyslogSink",
    "parse_restart",
    "parse_rlimit",
    "validate_spec",
]
