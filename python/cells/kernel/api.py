"""The kernel API every other part of the control plane uses.

Types (frozen dataclasses) and the `Kernel` protocol that both backends
implement: `netbsd` (sysctl on security.models.cell.*) and `sim` (the same
portable C core in-process, state under the state dir).  `open_kernel()` in
`cells.kernel` picks one.  Callers: cellctl, cellmgr, the supervisor.

`CellSpec`, `Stats`, `Event`, `Decision` and `PolicyRow` are defined in
`cells.kernel._records` and appear here on first use: building a frozen
dataclass costs about half a millisecond, and `cellctl list` needs only
`CellInfo` and `Rlimit`.  Import them from here.

Cells are addressed by name or id everywhere (`CellRef`): an int, or a str
that is either a decimal id or a name.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from cells.kernel._records import CellSpec as CellSpec
    from cells.kernel._records import Decision as Decision
    from cells.kernel._records import Event as Event
    from cells.kernel._records import PolicyRow as PolicyRow
    from cells.kernel._records import Stats as Stats

Profile = Literal["low", "medium", "high"]
PROFILES: tuple[Profile, ...] = ("low", "medium", "high")
DEFAULT_PROFILE: Profile = "high"

RlimitName = Literal["nofile", "as", "core", "nproc"]
RLIMIT_NAMES: tuple[RlimitName, ...] = ("nofile", "as", "core", "nproc")

Verdict = Literal["defer", "deny", "allow"]

#: Create-time overrides (one policy row each); names as in `cellctl create --allow`.
OVERRIDES: tuple[str, ...] = ("rawsock", "sysvipc")

CellRef = int | str


@dataclass(frozen=True)
class Rlimit:
    resource: RlimitName
    soft: int
    hard: int


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


#: Records of this API that are built on first use (see the module docstring).
_DEFERRED = frozenset({"CellSpec", "Decision", "Event", "PolicyRow", "Stats"})

if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name in _DEFERRED:
            from cells.kernel import _records

            value = getattr(_records, name)
            globals()[name] = value
            return value
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*globals(), *_DEFERRED})
