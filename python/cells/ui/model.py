"""The data cellui shows, and the pure logic over it.

Rows are frozen dataclasses parsed from the daemon's IPC results
(`status`, `volumes.list`, `backup.list`, `plan`); filtering, search,
sorting and the text of every table cell are plain functions of those
rows and the current time.  Nothing here imports Textual or does IO, so it
is unit-tested on its own.  Callers: cells.ui.link (parsing), the widgets
and screens of cells.ui (selection and formatting).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Cell states as docs/ipc.md defines them: absent, created, starting,
#: running, stopping, backoff (service restarting after a crash), failed.
RUNNING_STATES = frozenset({"running", "starting", "stopping"})
FAILED_STATES = frozenset({"failed", "backoff"})
UNHEALTHY = frozenset({"unhealthy"})
#: Sorting by state puts trouble first, then live cells, then idle ones.
STATE_ORDER = ("failed", "backoff", "starting", "running", "stopping", "created", "absent")


class CellFilter(enum.Enum):
    """Which cells the table shows; `next()` is the order the key cycles."""

    ALL = "all"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"

    def next(self) -> CellFilter:
        members = list(CellFilter)
        return members[(members.index(self) + 1) % len(members)]


class SortKey(enum.Enum):
    NAME = "name"
    STATE = "state"
    CPU = "cpu"
    MEMORY = "memory"
    AGE = "age"

    def next(self) -> SortKey:
        members = list(SortKey)
        return members[(members.index(self) + 1) % len(members)]


@dataclass(frozen=True)
class CellRow:
    """One cell as the daemon reports it."""

    name: str
    id: int | None = None
    state: str = "unknown"
    profile: str = "-"
    procs: int = 0
    cpu_1s: float = 0.0
    cpu_10s: float = 0.0
    memory: int = 0
    started: float | None = None
    age: float | None = None
    health: str = "-"
    ports: tuple[int, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    @property
    def failed(self) -> bool:
        return self.state in FAILED_STATES or self.health in UNHEALTHY

    def age_at(self, now: float) -> float | None:
        """Seconds since the cell started, from `started` when the daemon
        gives a timestamp (so ages advance between snapshots), else `age`."""
        if self.started is not None:
            return max(0.0, now - self.started)
        return self.age


@dataclass(frozen=True)
class Snapshot:
    """The whole set of cells at one moment; only the latest is rendered."""

    cells: tuple[CellRow, ...]
    received: float = 0.0

    def by_name(self, name: str) -> CellRow | None:
        for cell in self.cells:
            if cell.name == name:
                return cell
        return None


@dataclass(frozen=True)
class VolumeRow:
    name: str
    mode: str = "-"
    owner: str = "-"
    exists: bool | None = None
    path: str = "-"
    used_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackupRow:
    id: str
    cell: str
    created: float | None = None
    size: int | None = None
    volumes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanAction:
    """One step of a plan: `op` (cell.create, cell.replace, service.start, …)
    on `name`, why (`cause`: new, edit, drift, removed; `reasons`: one
    "field: old → new" each) and which services it restarts."""

    name: str
    op: str
    cause: str = ""
    reasons: tuple[str, ...] = ()
    restarts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What `apply` would do; `fingerprint` is handed back to `apply` so the
    daemon refuses to apply a plan that went stale while it was on screen."""

    actions: tuple[PlanAction, ...]
    drift: tuple[str, ...] = ()
    fingerprint: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.actions


# -- parsing IPC results ---------------------------------------------------


def _text(data: Mapping[str, Any], key: str, default: str = "-") -> str:
    value = data.get(key)
    return default if value is None else str(value)


def _as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_time(value: Any) -> float | None:
    """Seconds since the epoch from an ISO 8601 UTC string (or a number)."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    return _as_float(value)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _items(result: Any, key: str) -> list[Mapping[str, Any]]:
    """The records of a listing result ({key: [...]}); junk is skipped."""
    records = result.get(key) if isinstance(result, Mapping) else None
    return [item for item in _as_list(records) if isinstance(item, Mapping)]


#: Keys of a status row (docs/ipc.md) that have their own columns, and the
#: daemon's change-detection digest, which is not for people; the detail
#: pane shows every other key.
_CELL_KEYS = frozenset(
    {
        "name", "id", "state", "profile", "procs", "cpu_1s", "cpu_10s", "vmsize",
        "age", "health", "ports", "service_digest",
    }
)  # fmt: skip


def parse_cell(data: Mapping[str, Any], received: float | None = None) -> CellRow:
    """One status row (`status` or a `cells` push).  With `received` (when
    the row arrived), its `age` becomes a start time, so the age shown keeps
    advancing between snapshots."""
    raw_id = data.get("id")
    age = _as_float(data.get("age"))
    return CellRow(
        name=_text(data, "name", "?"),
        id=_as_int(raw_id) if raw_id is not None else None,
        state=_text(data, "state", "unknown"),
        profile=_text(data, "profile"),
        procs=_as_int(data.get("procs")),
        cpu_1s=_as_float(data.get("cpu_1s")) or 0.0,
        cpu_10s=_as_float(data.get("cpu_10s")) or 0.0,
        memory=_as_int(data.get("vmsize")),
        started=received - age if age is not None and received is not None else None,
        age=age,
        health=_text(data, "health"),
        ports=tuple(_as_int(p) for p in _as_list(data.get("ports"))),
        extra={k: v for k, v in data.items() if k not in _CELL_KEYS},
    )


def parse_snapshot(result: Any, received: float) -> Snapshot:
    """A `status` result or `cells` push data: {"cells": [...]}."""
    cells = tuple(parse_cell(c, received) for c in _items(result, "cells"))
    return Snapshot(cells, received)


def parse_volumes(result: Any) -> list[VolumeRow]:
    """A `volumes.list` result."""
    return [
        VolumeRow(
            name=_text(v, "name", "?"),
            mode=_text(v, "mode"),
            owner=_text(v, "owner"),
            exists=bool(v["exists"]) if v.get("exists") is not None else None,
            path=_text(v, "path"),
            used_by=tuple(str(c) for c in _as_list(v.get("used_by"))),
        )
        for v in _items(result, "volumes")
    ]


def parse_backups(result: Any) -> list[BackupRow]:
    """A `backup.list` result."""
    return [
        BackupRow(
            id=_text(b, "id", "?"),
            cell=_text(b, "cell"),
            created=_as_time(b.get("created")),
            size=_as_int(b["size"]) if b.get("size") is not None else None,
            volumes=tuple(str(x) for x in _as_list(b.get("volumes"))),
        )
        for b in _items(result, "backups")
    ]


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _reason(item: Any) -> str:
    """ "field: old → new" for a plan reason, or the item as text."""
    if not isinstance(item, Mapping):
        return str(item)
    text = f"{item.get('field', '?')}: {_show(item.get('old'))} → {_show(item.get('new'))}"
    return f"{text} (drift)" if item.get("drift") else text


def parse_plan(result: Any) -> Plan:
    """The plan JSON of the `plan` method (as `cellmgr plan --json`)."""
    actions = tuple(
        PlanAction(
            name=_text(a, "name", "?"),
            op=_text(a, "op", "?"),
            cause=_text(a, "cause", ""),
            reasons=tuple(_reason(r) for r in _as_list(a.get("reasons"))),
            restarts=tuple(str(r) for r in _as_list(a.get("restarts"))),
        )
        for a in _items(result, "actions")
    )
    if not isinstance(result, Mapping):
        return Plan(actions)
    drift = tuple(f"{d.get('name', '?')}: {_reason(d)}" for d in _items(result, "drift"))
    raw = result.get("fingerprint")
    notes = tuple(str(n) for n in _as_list(result.get("notes")))
    return Plan(actions, drift, str(raw) if raw is not None else None, notes)


# -- selection ---------------------------------------------------------------


def matches_filter(cell: CellRow, which: CellFilter) -> bool:
    if which is CellFilter.RUNNING:
        return cell.running
    if which is CellFilter.FAILED:
        return cell.failed
    if which is CellFilter.STOPPED:
        return not cell.running and not cell.failed
    return True


def matches_search(cell: CellRow, text: str) -> bool:
    """Case-insensitive substring over name, id, state, profile, health and
    ports; every space-separated word must match somewhere."""
    words = text.lower().split()
    if not words:
        return True
    hay = " ".join(
        [cell.name, str(cell.id or ""), cell.state, cell.profile, cell.health]
        + [str(p) for p in cell.ports]
    ).lower()
    return all(word in hay for word in words)


def _sort_key(key: SortKey, now: float) -> Any:
    if key is SortKey.STATE:
        rank = {state: i for i, state in enumerate(STATE_ORDER)}
        return lambda c: (rank.get(c.state, len(rank)), c.state, c.name)
    if key is SortKey.CPU:
        return lambda c: (-c.cpu_1s, c.name)
    if key is SortKey.MEMORY:
        return lambda c: (-c.memory, c.name)
    if key is SortKey.AGE:
        return lambda c: (-(c.age_at(now) or 0.0), c.name)
    return lambda c: c.name


def select(
    cells: Iterable[CellRow],
    which: CellFilter = CellFilter.ALL,
    search: str = "",
    order: SortKey = SortKey.NAME,
    now: float = 0.0,
) -> list[CellRow]:
    """The rows the table shows, in the order it shows them."""
    chosen = [c for c in cells if matches_filter(c, which) and matches_search(c, search)]
    chosen.sort(key=_sort_key(order, now))
    return chosen


# -- formatting ----------------------------------------------------------------


def format_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_age(seconds: float | None) -> str:
    """Like ps(1)'s etime, shortened: 42s, 5m03s, 3h07m, 2d04h."""
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def format_cpu(pct: float) -> str:
    return f"{pct:.1f}%"


def format_ports(ports: Sequence[int]) -> str:
    return ",".join(str(p) for p in ports) if ports else "-"


def format_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


#: Column keys and titles of the cell table, in order.
CELL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "NAME"),
    ("state", "STATE"),
    ("profile", "PROFILE"),
    ("procs", "PROCS"),
    ("cpu_1s", "CPU 1s"),
    ("cpu_10s", "CPU 10s"),
    ("memory", "MEM"),
    ("age", "AGE"),
    ("health", "HEALTH"),
    ("ports", "PORTS"),
)


def cell_texts(cell: CellRow, now: float) -> tuple[str, ...]:
    """The text of each column of `CELL_COLUMNS` for one cell."""
    return (
        cell.name,
        cell.state,
        cell.profile,
        str(cell.procs),
        format_cpu(cell.cpu_1s),
        format_cpu(cell.cpu_10s),
        format_bytes(cell.memory),
        format_age(cell.age_at(now)),
        cell.health,
        format_ports(cell.ports),
    )


def detail_lines(cell: CellRow, now: float) -> list[tuple[str, str]]:
    """(label, value) pairs for the detail pane."""
    lines = [
        ("name", cell.name),
        ("id", "-" if cell.id is None else str(cell.id)),
        ("state", cell.state),
        ("health", cell.health),
        ("profile", cell.profile),
        ("processes", str(cell.procs)),
        ("cpu", f"{format_cpu(cell.cpu_1s)} (1 s)  {format_cpu(cell.cpu_10s)} (10 s)"),
        ("memory", format_bytes(cell.memory)),
        ("started", format_time(cell.started)),
        ("age", format_age(cell.age_at(now))),
        ("ports", format_ports(cell.ports)),
    ]
    for key in sorted(cell.extra):
        lines.append((key.replace("_", " "), _value_text(cell.extra[key])))
    return lines


def _value_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "-"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return str(value)
