"""The kernel API every other part of the control plane uses.

Types (frozen dataclasses) and the `Kernel` protocol that both backends
implement: `netbsd` (sysctl on security.models.cell.*) and `sim` (the same
portable C core in-process, state under the state dir).  `open_kernel()` in
`cells.kernel` picks one.  Callers: cellctl, cellmgr, the supervisor.

Cells are addressed by name or id everywhere (`CellRef`): an int, or a str
that is either a decimal id or a name.  A name starts with a letter (the
core refuses anything else), so a string of digits is always an id and
never a name: `ref_id()` is the one place that tells them apart.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

Profile = Literal["low", "medium", "high"]
PROFILES: tuple[Profile, ...] = ("low", "medium", "high")
DEFAULT_PROFILE: Profile = "high"

RlimitName = Literal["nofile", "as", "core", "nproc"]
RLIMIT_NAMES: tuple[RlimitName, ...] = ("nofile", "as", "core", "nproc")

Verdict = Literal["defer", "deny", "allow"]

#: Create-time overrides (one policy row each); names as in `cellctl create --allow`.
OVERRIDES: tuple[str, ...] = ("rawsock", "sysvipc")

CellRef = int | str


def ref_id(ref: CellRef) -> int | None:
    """The id `ref` names (an int, or a string of ASCII digits), else None:
    then `ref` is a name."""
    if isinstance(ref, int):
        return ref
    if ref.isascii() and ref.isdigit():
        return int(ref)
    return None


@dataclass(frozen=True)
class Rlimit:
    resource: RlimitName
    soft: int
    hard: int


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
class CellInfo:
    """One row of `list`: configuration plus the last telemetry sample."""

    id: int
    name: str
    root: str
    profile: Profile
    overrides: tuple[str, ...]
    state: Literal["active", "dying"]
    ports: tuple[int, ...]
    bind_addrs: tuple[str, ...]
    rlimits: tuple[Rlimit, ...]
    nprocs: int
    nrefs: int
    created: int
    age: int
    vmsize: int
    cpu_1s: int
    cpu_10s: float
    denies: dict[str, int] = field(default_factory=dict)


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


@runtime_checkable
class Kernel(Protocol):
    """The operations of a backend.  Errors are `cells.errors.CellsError`."""

    backend: str
    enforcing: bool

    def create(self, spec: CellSpec) -> CellInfo: ...

    def destroy(self, cell: CellRef) -> None: ...

    def list(self) -> list[CellInfo]: ...

    def get(self, cell: CellRef) -> CellInfo: ...

    def enter(self, cell: CellRef) -> None:
        """Move the calling process into the cell (netbsd: must already be
        chrooted to its root; sim: records the pid as a member)."""
        ...

    def current(self) -> int:
        """The calling process's cell id (0 = host)."""
        ...

    def stats(self) -> Stats: ...

    def events(self, since: int = 0) -> builtins.list[Event]: ...

    def explain(
        self, cell: CellRef, op: str, target: str | None = None, *, euid: int = 0
    ) -> Decision:
        """The policy's verdict for a subject in `cell` ("host" or 0: the
        host, with `euid`) doing `op` to `target`: another cell or "host"
        for cross-cell operations, PORT, ADDR:PORT or [V6]:PORT for
        network.bind."""
        ...

    def policy(self) -> builtins.list[PolicyRow]: ...
