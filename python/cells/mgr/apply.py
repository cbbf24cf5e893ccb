"""Apply: carry out a plan's actions, journaled, under the apply lock.

`Manager` ties the pieces together for one command or the daemon: load the
manifests, gather facts, plan, and apply.  Apply re-plans under the lock and
refuses a saved plan whose fingerprint no longer matches.  Every action is
written to the journal before (`begin`) and after (`done`/`failed`) its
effects; because the next run starts from fresh facts, an applier killed at
any point converges when run again.  Service actions go to a
`ServiceControl` (the daemon's supervisor, directly or over IPC); without
one they are left to the daemon.  Callers: cellmgr plan/apply, the daemon.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cells.errors import CellsError, InvalidArgument, NotFound
from cells.kernel.api import CellSpec, Kernel
from cells.mgr import preflight, provision, rootfs, volumes
from cells.mgr.facts import Facts, ServiceFact, gather
from cells.mgr.host import Host
from cells.mgr.journal import StateDB
from cells.mgr.loader import Desired, ManifestError, load_dir
from cells.mgr.lock import apply_lock
from cells.mgr.model import Cell, Mount, cell_from_canonical
from cells.mgr.paths import Paths
from cells.mgr.plan import Action, Plan, plan

#: Test hook: exit abruptly after this many journal writes (fault injection).
KILL_ENV = "CELLS_APPLY_KILL_AT"


class StalePlan(InvalidArgument):
    pass


class EmptyDesired(InvalidArgument):
    """No manifests at all, over a host with applied cells or volumes."""


class ServiceControl(Protocol):
    """What apply needs from a supervisor (specs come from the applied state)."""

    def statuses(self) -> Mapping[str, ServiceFact]: ...

    def start(self, names: Sequence[str]) -> None: ...

    def stop(self, names: Sequence[str]) -> None: ...

    def restart(self, names: Sequence[str]) -> None: ...


@dataclass(frozen=True)
class ActionResult:
    key: str
    ok: bool
    detail: str = ""
    changed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.key,
            "ok": self.ok,
            "detail": self.detail,
            "changed": list(self.changed),
        }


@dataclass
class ApplyReport:
    fingerprint: str
    results: list[ActionResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "ok": self.ok,
            "actions": [r.to_dict() for r in self.results],
        }


class ApplyObserver(Protocol):
    """Told about each action as apply goes (the CLI's progress and lines)."""

    def begin(self, index: int, total: int, key: str) -> None: ...

    def done(self, index: int, total: int, result: ActionResult) -> None: ...


class _Journal:
    def __init__(self, db: StateDB, run: int) -> None:
        self.db, self.run = db, run
        kill = os.environ.get(KILL_ENV)
        self.kill_at = int(kill) if kill and kill.isdigit() else None
        self.writes = 0

    def write(self, seq: int, key: str, phase: str, detail: str = "") -> None:
        self.db.step(self.run, seq, key, phase, detail)
        self.writes += 1
        if self.kill_at is not None and self.writes >= self.kill_at:
            os._exit(137)


class Manager:
    """One view of desired and live state, for one command or the daemon."""

    def __init__(
        self,
        paths: Paths,
        kernel: Kernel,
        host: Host,
        services: ServiceControl | None = None,
        progress: Callable[[str], None] | None = None,
        *,
        readonly: bool = False,
        observer: ApplyObserver | None = None,
    ) -> None:
        self.paths = paths
        self.kernel = kernel
        self.host = host
        self.services = services
        self.progress = progress or (lambda _: None)
        # A read-only command (plan, status) on a host that never applied
        # anything creates no database: nothing was applied, nothing recorded.
        fresh = readonly and not os.path.lexists(paths.db)
        self.readonly = readonly
        self.observer = observer
        self.db = StateDB(Path(":memory:") if fresh else paths.db)

    def close(self) -> None:
        self.db.close()

    def load(self) -> Desired:
        return load_dir(self.paths.config_dir)

    def facts(self, desired: Desired) -> Facts:
        live = self.services.statuses() if self.services is not None else None
        return gather(self.kernel, self.paths, self.db, desired, self.host, live)

    def plan(self, targets: Collection[str] | None = None, desired: Desired | None = None) -> Plan:
        """The plan, refused (ManifestError) when apply could not carry it out."""
        desired = desired if desired is not None else self.load()
        p = plan(desired, self.facts(desired), targets)
        self.preflight(desired, p)
        return p

    def preflight(self, desired: Desired, p: Plan) -> None:
        """Raise ManifestError when the host or the cells' files lack what
        the plan's actions need (before any of them runs)."""
        problems = preflight.check(
            self.paths, self.host, desired, ((a.op, a.name) for a in p.actions)
        )
        if problems:
            raise ManifestError(problems)

    def apply(
        self,
        targets: Collection[str] | None = None,
        fingerprint: str | None = None,
        *,
        allow_empty: bool = False,
    ) -> ApplyReport:
        """Plan under the lock and apply; refuse when `fingerprint` is stale,
        and refuse an empty config dir over applied state unless
        `allow_empty` (an unmounted /etc/cells must not destroy every cell)."""
        if self.readonly:
            raise InvalidArgument("this manager was opened read-only; apply needs a writable one")
        desired = self.load()
        with apply_lock(self.paths.lock):
            if not allow_empty:
                self.refuse_empty(desired)
            for run in self.db.interrupted():
                self.db.end_run(run, "interrupted")
                self.progress(f"apply run {run} was interrupted; planning from live state")
            fresh = plan(desired, self.facts(desired), targets)
            self.preflight(desired, fresh)
            if fingerprint is not None and fingerprint != fresh.fingerprint:
                raise StalePlan(
                    "the saved plan is stale: manifests or live state changed since it was "
                    "made; run 'cellmgr plan --out FILE' again"
                )
            return self._execute(desired, fresh)

    def refuse_empty(self, desired: Desired) -> None:
        """Raise EmptyDesired when there are no manifests but applied state."""
        if desired.cells or desired.volumes:
            return
        cells, vols = self.db.applied("Cell"), self.db.applied("Volume")
        if not cells and not vols:
            return
        raise EmptyDesired(
            f"no manifests in {self.paths.config_dir}, and applying that would destroy "
            f"{len(cells)} cell{'s' if len(cells) != 1 else ''} and forget "
            f"{len(vols)} volume{'s' if len(vols) != 1 else ''}; check --config-dir "
            "(is it mounted?), or pass --allow-empty to remove them all"
        )

    def _execute(self, desired: Desired, p: Plan) -> ApplyReport:
        report = ApplyReport(p.fingerprint)
        if not p.actions:
            return report
        journal = _Journal(self.db, self.db.begin_run(p.fingerprint))
        deferred: list[str] = []
        total = len(p.actions)
        for seq, action in enumerate(p.actions):
            key = action.key()
            if self.observer is not None:
                self.observer.begin(seq, total, key)
            journal.write(seq, key, "begin")
            try:
                changed = self._do(desired, action, deferred)
            except (CellsError, OSError) as e:
                detail = str(e) if isinstance(e, CellsError) else f"{key}: {e}"
                journal.write(seq, key, "failed", detail)
                self.db.end_run(journal.run, "failed")
                self._result(report, seq, total, ActionResult(key, False, detail))
                return report
            journal.write(seq, key, "done", "; ".join(changed))
            self._result(report, seq, total, ActionResult(key, True, changed=tuple(changed)))
        if deferred and self.services is not None:
            self.services.start(deferred)
        self.db.end_run(journal.run, "ok")
        return report

    def _result(self, report: ApplyReport, seq: int, total: int, result: ActionResult) -> None:
        report.results.append(result)
        if self.observer is not None:
            self.observer.done(seq, total, result)

    # -- the effects of each op -------------------------------------------
    def _spec(self, cell: Cell) -> CellSpec:
        root = str(self.paths.root(cell.name))
        self.paths.check_root(root, f"create cell '{cell.name}'")
        return CellSpec(
            name=cell.name,
            root=root,
            profile=cell.profile,
            ports=cell.ports,
            bind_addrs=cell.bind_addrs,
            rlimits=cell.rlimits,
            overrides=cell.overrides,
        )

    def _destroy_kernel_cell(self, name: str) -> None:
        with contextlib.suppress(NotFound):
            self.kernel.destroy(name)

    def _running(self, name: str) -> bool:
        if self.services is None:
            return False
        st = self.services.statuses().get(name)
        return st is not None and st.state not in ("stopped", "exited", "failed")

    def _do(self, desired: Desired, a: Action, deferred: list[str]) -> list[str]:
        n = a.name
        cell = desired.cells.get(n)
        applied = (
            (self.db.applied_one("Cell", n) or {})
            if a.op in ("cell.destroy", "cell.mounts")
            else {}
        )
        if a.op == "service.stop":
            if self.services is not None:
                self.services.stop([n])
        elif a.op == "cell.destroy":
            if self._running(n) and self.services is not None:
                self.services.stop([n])
            volumes.unmount_all(self.paths, self.host, n, list(applied.get("mounts", [])))
            rootfs.teardown_root(self.paths, self.host, n)
            self._destroy_kernel_cell(n)
            self.db.forget("Cell", n)
            return [f"kernel cell destroyed; files kept in {self.paths.cell_dir(n)}"]
        elif a.op in ("volume.create", "volume.update"):
            volumes.ensure_volume(self.paths, desired.volumes[n])
            self.db.record("Volume", n, desired.volumes[n].canonical())
        elif a.op == "volume.record":
            self.db.record("Volume", n, desired.volumes[n].canonical())
        elif a.op == "volume.forget":
            self.db.forget("Volume", n)
            return [f"data kept in {self.paths.volume(n)}"]
        elif a.op == "cell.root":
            assert cell is not None
            rootfs.build_root(self.paths, self.host, cell)
        elif a.op == "cell.mounts":
            assert cell is not None
            current = [str(m) for m in _applied_mounts(applied)]
            volumes.sync_mounts(self.paths, self.host, cell, current)
        elif a.op == "cell.create":
            assert cell is not None
            self.kernel.create(self._spec(cell))
        elif a.op == "cell.replace":
            assert cell is not None
            if self._running(n) and self.services is not None:
                self.services.stop([n])
                deferred.append(n)
            elif cell.autostart and cell.service is not None:
                deferred.append(n)
            self._destroy_kernel_cell(n)
            self.kernel.create(self._spec(cell))
        elif a.op == "cell.provision":
            assert cell is not None
            fs = provision.CellFS.of(self.paths, self.host, cell)
            return [
                r.step
                for i, step in enumerate(cell.provision)
                if (r := provision.run_step(i, step, fs)).changed
            ]
        elif a.op == "cell.record":
            assert cell is not None
            self.db.record("Cell", n, cell.canonical())
        elif a.op == "service.start":
            if self.services is not None:
                self.services.start([n])
        elif a.op == "service.restart":
            if self.services is not None:
                self.services.restart([n])
        else:
            raise InvalidArgument(f"unknown action {a.op}")
        return []


def _applied_mounts(doc: Mapping[str, Any]) -> list[Mount]:
    return [Mount.parse(m) for m in doc.get("mounts", [])]


def applied_cells(db: StateDB) -> dict[str, Cell]:
    """The applied manifests as Cells (what the daemon supervises)."""
    return {n: cell_from_canonical(d) for n, d in db.applied("Cell").items()}
