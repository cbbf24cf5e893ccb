"""Messages the IO worker (cells.ui.link) posts to the app.

Small dataclasses, one per thing that happened on the connection.  Bulky
or high-rate data (cell snapshots, log lines) is not carried in the
message: the link keeps the latest snapshot and a bounded line buffer, and
posts at most one pending notice for each, so a slow terminal renders only
the newest state instead of working through a backlog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass(frozen=True)
class Request:
    """One call to the daemon; `label` names it for people ("stop web").

    `kind` says where the answer goes: "action" and "backup" (a
    notification; "backup" also refreshes the backups list), "apply" (a
    summary of what was applied), "plan" (the plan screen), "volumes" and
    "backups" (the storage screen); "poll", "subscribe" and "tail" are the
    link's own and never reach the app.
    """

    method: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    kind: str = "action"


@dataclass
class Connected(Message):
    """The link is connected and subscribed."""

    path: str
    reconnected: bool
    server: dict[str, Any]


@dataclass
class Disconnected(Message):
    """The daemon cannot be reached; the link retries after `retry_in` s."""

    path: str
    reason: str
    retry_in: float

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Disconnected)


@dataclass
class CellsChanged(Message):
    """A newer snapshot is waiting in the link (`DaemonLink.take_snapshot`)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CellsChanged)


@dataclass
class LinesArrived(Message):
    """Log or audit lines are waiting in the link (`DaemonLink.take_lines`)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LinesArrived)


@dataclass
class Replied(Message):
    """The daemon answered `request` with `result`."""

    request: Request
    result: Any


@dataclass
class Failed(Message):
    """`request` failed; `message` is the one line to show."""

    request: Request
    code: str
    message: str
