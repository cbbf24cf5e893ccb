"""Plan: a pure function from desired state and facts to ordered actions.

No I/O.  Each action says what it does to which cell or volume, why (field
by field, old → new), whether the cause is a new manifest, an edit, drift
(live state that no longer matches what was applied) or a removal, and
which services it restarts.  Policy changes (profile, ports, bind addrs,
rlimits, overrides) need a new kernel cell: "replace".  Order: stop and
remove what is gone (dependents first), volumes, then cells in dependency
order, then service starts in dependency order.  The plan carries a
fingerprint of its inputs so a saved plan can be refused when stale.
Callers: cellmgr plan/apply, the daemon (IPC plan/apply), the benchmarks.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from cells.errors import InvalidArgument
from cells.mgr import deps
from cells.mgr.facts import Facts, root_digest, service_digest
from cells.mgr.loader import Desired
from cells.mgr.model import POLICY_FIELDS, Cell, canonical_policy, digest

PLAN_VERSION = 1
DOWN = frozenset({"stopped", "exited", "failed"})

#: Action ops in the order they may appear for one cell.
OPS = (
    "service.stop",
    "cell.destroy",
    "volume.create",
    "volume.update",
    "volume.record",
    "volume.forget",
    "cell.root",
    "cell.mounts",
    "cell.create",
    "cell.replace",
    "cell.provision",
    "cell.record",
    "service.restart",
    "service.start",
)


class PlanError(InvalidArgument):
    pass


@dataclass(frozen=True)
class Reason:
    field: str
    old: Any
    new: Any
    drift: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new, "drift": self.drift}

    def __str__(self) -> str:
        return f"{self.field}: {_show(self.old)} → {_show(self.new)}"


def _show(value: Any) -> str:
    """A value for people: no quotes, empty parts of mappings left out."""
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(map(_show, value)) + "]"
    if isinstance(value, dict):
        parts = [f"{k}: {_show(v)}" for k, v in value.items() if v not in (None, "", {}, [])]
        return "{" + ", ".join(parts) + "}"
    return str(value)


@dataclass(frozen=True)
class Action:
    op: str
    name: str
    cause: str = "edit"
    reasons: tuple[Reason, ...] = ()
    restarts: tuple[str, ...] = ()
    steps: tuple[int, ...] = ()

    @property
    def kind(self) -> str:
        return self.op.split(".")[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "name": self.name,
            "cause": self.cause,
            "reasons": [r.to_dict() for r in self.reasons],
            "restarts": list(self.restarts),
            "steps": list(self.steps),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Action:
        return cls(
            d["op"],
            d["name"],
            d.get("cause", "edit"),
            tuple(Reason(**r) for r in d.get("reasons", ())),
            tuple(d.get("restarts", ())),
            tuple(d.get("steps", ())),
        )

    def key(self) -> str:
        return f"{self.op} {self.name}"


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    fingerprint: str
    notes: tuple[str, ...] = ()

    @property
    def changes(self) -> bool:
        return bool(self.actions)

    @property
    def drift(self) -> list[tuple[str, Reason]]:
        return [(a.name, r) for a in self.actions for r in a.reasons if r.drift]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": PLAN_VERSION,
            "fingerprint": self.fingerprint,
            "changes": self.changes,
            "actions": [a.to_dict() for a in self.actions],
            "drift": [{"name": n, **r.to_dict()} for n, r in self.drift],
            "notes": list(self.notes),
        }


def field_diff(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    keys: Collection[str] | None = None,
    *,
    drift: bool = False,
    prefix: str = "",
) -> list[Reason]:
    """Reasons for every differing key (one level into nested mappings)."""
    out: list[Reason] = []
    old = old or {}
    for key in keys if keys is not None else sorted(set(old) | set(new)):
        if key in ("kind", "name"):
            continue
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict) and key != "rlimits" and not prefix:
            out.extend(field_diff(a, b, drift=drift, prefix=f"{key}."))
        else:
            out.append(Reason(prefix + key, a, b, drift))
    return out


def fingerprint(desired: Desired, facts: Facts, targets: Collection[str] | None) -> str:
    return digest(
        {
            "desired": {
                "cells": {n: c.canonical() for n, c in desired.cells.items()},
                "volumes": {n: v.canonical() for n, v in desired.volumes.items()},
            },
            "facts": facts.canonical(),
            "targets": sorted(targets or ()),
        }
    )


def _tolerant_order(depends: Mapping[str, list[str]]) -> list[str]:
    """Dependency order of stored (applied) cells, ignoring unknown names."""
    known = {n: [d for d in ds if d in depends and d != n] for n, ds in depends.items()}
    try:
        return deps.order(known)
    except deps.DependencyError:
        return sorted(known)


def _volume_actions(desired: Desired, facts: Facts, wanted: set[str]) -> list[Action]:
    out: list[Action] = []
    for name in sorted(wanted):
        vol = desired.volumes[name]
        want = vol.canonical()
        applied = facts.applied_volumes.get(name)
        live = facts.volumes.get(name)
        if live is None:
            if applied is None:
                out.append(Action("volume.create", name, "new"))
            else:
                out.append(
                    Action(
                        "volume.create",
                        name,
                        "drift",
                        (Reason("directory", "missing", "present", True),),
                    )
                )
            continue
        reasons = []
        if live.mode != vol.mode:
            reasons.append(Reason("mode", f"{live.mode:04o}", f"{vol.mode:04o}", applied == want))
        if not live.owner_ok:
            reasons.append(Reason("owner", "(other)", vol.owner, applied == want))
        if reasons:
            out.append(
                Action(
                    "volume.update",
                    name,
                    "drift" if all(r.drift for r in reasons) else "edit",
                    tuple(reasons),
                )
            )
        elif applied != want:
            out.append(
                Action(
                    "volume.record",
                    name,
                    "edit" if applied else "new",
                    tuple(field_diff(applied, want)),
                )
            )
    return out


def _cell_actions(cell: Cell, want: Mapping[str, Any], facts: Facts) -> list[Action]:
    name = cell.name
    applied = facts.applied_cells.get(name)
    is_new = applied is None
    out: list[Action] = []
    root_ok = facts.roots.get(name) == root_digest(cell.root)
    if not root_ok:
        if name not in facts.roots:
            reasons = () if is_new else (Reason("root", "missing", "built", True),)
        else:
            old_root = applied.get("root") if applied else None
            reasons = (Reason("root", old_root, want["root"], old_root == want["root"]),)
        out.append(
            Action(
                "cell.root",
                name,
                "new" if is_new else ("drift" if all(r.drift for r in reasons) else "edit"),
                reasons,
            )
        )
    live_mounts = set(facts.mounts.get(name, ())) if root_ok else set()
    want_mounts = set(want["mounts"])
    if live_mounts != want_mounts:
        reasons_m = tuple(
            [
                Reason("mounts", None, m, applied is not None and m in applied.get("mounts", []))
                for m in sorted(want_mounts - live_mounts)
            ]
            + [Reason("mounts", m, None, False) for m in sorted(live_mounts - want_mounts)]
        )
        out.append(
            Action(
                "cell.mounts",
                name,
                "new" if is_new else ("drift" if all(r.drift for r in reasons_m) else "edit"),
                reasons_m,
            )
        )
    kf = facts.kernel.get(name)
    policy = canonical_policy(cell)
    restarts = (name,) if cell.service is not None else ()
    if kf is None:
        out.append(
            Action(
                "cell.create",
                name,
                "new" if is_new else "drift",
                () if is_new else (Reason("kernel cell", "missing", "created", True),),
            )
        )
    else:
        applied_policy = {k: applied.get(k) for k in POLICY_FIELDS} if applied else None
        reasons_k = field_diff(kf.policy, policy, POLICY_FIELDS, drift=applied_policy == policy)
        if reasons_k:
            out.append(
                Action(
                    "cell.replace",
                    name,
                    "drift" if applied_policy == policy else "edit",
                    tuple(reasons_k),
                    restarts,
                )
            )
    if cell.provision:
        checks = facts.provision.get(name) if root_ok else None
        if checks is None or len(checks) != len(cell.provision):
            checks = (True,) * len(cell.provision)
        changing = tuple(i for i, c in enumerate(checks) if c)
        if changing:
            out.append(Action("cell.provision", name, "new" if is_new else "edit", steps=changing))
    if applied != want:
        out.append(
            Action(
                "cell.record",
                name,
                "new" if is_new else "edit",
                () if is_new else tuple(field_diff(applied, want)),
            )
        )
    return out


def _service_actions(
    cell: Cell, want: Mapping[str, Any], facts: Facts, replaced: bool
) -> list[Action]:
    assert facts.services is not None
    name = cell.name
    sf = facts.services.get(name)
    running = sf is not None and sf.state not in DOWN
    if cell.service is None:
        return (
            [Action("service.stop", name, "edit", (Reason("service", "running", None),))]
            if running
            else []
        )
    if replaced:
        return []
    if running and sf is not None and sf.digest != service_digest(cell):
        applied = facts.applied_cells.get(name) or {}
        reasons = field_diff(
            {k: applied.get(k) for k in ("service", "healthcheck", "mounts")},
            {k: want[k] for k in ("service", "healthcheck", "mounts")},
        )
        return [
            Action(
                "service.restart",
                name,
                "edit",
                tuple(reasons) or (Reason("service", "(running spec)", "(manifest)", True),),
                (name,),
            )
        ]
    if not running and cell.autostart:
        state = sf.state if sf is not None else "not supervised"
        is_new = name not in facts.applied_cells
        return [
            Action(
                "service.start",
                name,
                "new" if is_new else "drift",
                () if is_new else (Reason("service", state, "running", True),),
            )
        ]
    return []


def plan(desired: Desired, facts: Facts, targets: Collection[str] | None = None) -> Plan:
    """The ordered actions that make the host match `desired` (pure)."""
    selected = set(targets or ())
    for name in sorted(selected):
        if name not in desired.cells and name not in facts.applied_cells:
            raise PlanError(f"no cell named {name!r} in the manifests or the applied state")

    def wanted(name: str) -> bool:
        return not selected or name in selected

    order = deps.order({n: list(c.depends_on) for n, c in desired.cells.items()})
    canon = {n: desired.cells[n].canonical() for n in order}
    actions: list[Action] = []
    notes: list[str] = []

    gone = [
        n
        for n in reversed(
            _tolerant_order(
                {n: list(d.get("depends_on", [])) for n, d in facts.applied_cells.items()}
            )
        )
        if n not in desired.cells and wanted(n)
    ]
    for name in gone:
        sf = facts.services.get(name) if facts.services is not None else None
        if sf is not None and sf.state not in DOWN:
            actions.append(Action("service.stop", name, "removed"))
        actions.append(Action("cell.destroy", name, "removed"))

    vols = (
        set(desired.volumes)
        if not selected
        else {m.volume for n in selected if n in desired.cells for m in desired.cells[n].mounts}
    )
    actions.extend(_volume_actions(desired, facts, vols))
    if not selected:
        for name in sorted(set(facts.applied_volumes) - set(desired.volumes)):
            actions.append(Action("volume.forget", name, "removed"))

    replaced: set[str] = set()
    for name in order:
        if wanted(name):
            cell_actions = _cell_actions(desired.cells[name], canon[name], facts)
            if any(a.op == "cell.replace" for a in cell_actions):
                replaced.add(name)
            actions.extend(cell_actions)

    if facts.services is None:
        if any(c.service is not None for c in desired.cells.values()):
            notes.append(
                "no cellmgr daemon is running: services are started and "
                "restarted by 'cellmgr daemon'"
            )
    else:
        service_actions = [
            a
            for n in order
            if wanted(n)
            for a in _service_actions(desired.cells[n], canon[n], facts, n in replaced)
        ]
        stops = [a for a in service_actions if a.op == "service.stop"]
        actions[:0] = list(reversed(stops))
        actions.extend(a for a in service_actions if a.op != "service.stop")
    return Plan(tuple(actions), fingerprint(desired, facts, targets), tuple(notes))
