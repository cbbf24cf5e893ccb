"""The records of the kernel API that only some operations need: what
`create` takes (`CellSpec`) and what `stats`, `events`, `explain` and
`policy` return.

They belong to `cells.kernel.api` and are reached through it (it loads
this module on first use, so that start-up of the listing commands does
not pay for building these dataclasses).  Callers: cells.kernel.api only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cells.kernel.api import DEFAULT_PROFILE, Profile, Rlimit, Verdict


@dataclass(frozen=True)
class CellSpec:
    """What `create` needs; validated by the core exactly as the kernel does."""

    name: str
    root: str
    profile: Profile = DEFAULT_PROFILE
    ports: tuple[int, ...] = ()
    bind_addrs: tuple[str, ...] = ()
    rlimits: tuple[Rlimit, ...] = ()
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stats:
    backend: str
    enforcing: bool
    abi_version: int
    ncells: int
    max_cells: int
    next_id: int
    hz: int
    audit_head: int
    audit_size: int
    log_suppressed: int
    denies: dict[str, int]
    host_denies: dict[str, int]


@dataclass(frozen=True)
class Event:
    """One kernel audit record (a denial)."""

    seq: int
    time: int
    cell: int
    target: int
    euid: int
    scope: str
    op: str
    reason: str
    action: int
    request: int


@dataclass(frozen=True)
class Decision:
    """What the policy decides for an operation, and why (`explain`)."""

    cell: int
    op: str
    scope: str
    verdict: Verdict
    reason: str
    detail: str


@dataclass(frozen=True)
class PolicyRow:
    """One row of the policy table, read from the compiled core."""

    op: str
    scope: str
    klass: Literal["cross", "profile", "bind", "allow"]
    low: Verdict
    medium: Verdict
    high: Verdict
    relaxed_by: str | None
    doc: str
