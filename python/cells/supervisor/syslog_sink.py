"""The syslog log sink: service output lines to syslogd, tagged per cell.

Each line goes out with the tag `cell/<name>` (or an explicit tag), the
configured facility, and a level per stream (stdout info, stderr err by
default).  The `syslog` module keeps one process-wide identity, so the tag
is set before each message; the supervisor calls sinks from its single
event-loop thread.  Used on NetBSD by `cellctl supervise` and the cellmgr
daemon.
"""

from __future__ import annotations

import syslog
from collections.abc import Mapping

from cells.errors import InvalidArgument

FACILITIES: dict[str, int] = {
    "daemon": syslog.LOG_DAEMON,
    "user": syslog.LOG_USER,
    "local0": syslog.LOG_LOCAL0,
    "local1": syslog.LOG_LOCAL1,
    "local2": syslog.LOG_LOCAL2,
    "local3": syslog.LOG_LOCAL3,
    "local4": syslog.LOG_LOCAL4,
    "local5": syslog.LOG_LOCAL5,
    "local6": syslog.LOG_LOCAL6,
    "local7": syslog.LOG_LOCAL7,
}

LEVELS: dict[str, int] = {
    "emerg": syslog.LOG_EMERG,
    "alert": syslog.LOG_ALERT,
    "crit": syslog.LOG_CRIT,
    "err": syslog.LOG_ERR,
    "warning": syslog.LOG_WARNING,
    "notice": syslog.LOG_NOTICE,
    "info": syslog.LOG_INFO,
    "debug": syslog.LOG_DEBUG,
}

#: The (tag, facility) last given to openlog(3); it is process-wide.
_opened: list[tuple[str, int] | None] = [None]


class SyslogSink:
    """A log sink writing to syslog; `tag` defaults to `cell/<service>`."""

    def __init__(
        self,
        *,
        facility: str = "daemon",
        levels: Mapping[str, str] | None = None,
        tag: str | None = None,
    ) -> None:
        if facility not in FACILITIES:
            raise InvalidArgument(
                f"syslog facility {facility!r}: expected one of " + ", ".join(FACILITIES)
            )
        chosen = {"stdout": "info", "stderr": "err"}
        chosen.update(levels or {})
        for stream, level in chosen.items():
            if level not in LEVELS:
                raise InvalidArgument(
                    f"syslog level {level!r} for {stream}: expected one of " + ", ".join(LEVELS)
                )
        self._facility = FACILITIES[facility]
        self._levels = {stream: LEVELS[level] for stream, level in chosen.items()}
        self._tag = tag

    def __call__(self, service: str, stream: str, line: str) -> None:
        tag = self._tag or f"cell/{service}"
        opened = (tag, self._facility)
        if _opened[0] != opened:
            syslog.openlog(tag, syslog.LOG_NDELAY, self._facility)
            _opened[0] = opened
        syslog.syslog(self._facility | self._levels.get(stream, syslog.LOG_INFO), line)
