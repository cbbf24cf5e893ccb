"""Data-driven plan tests: desired + facts → expected actions, run twice.

Each case in data/plan/*.yaml gives manifests, facts (canonical form) and
the expected actions.  The plan is then "applied" to the facts by a model of
what each action does to the live state, and planned again: the second plan
must be empty.  Placeholders in facts: ROOT(cell) and SERVICE(cell) are the
digests the desired cell would leave behind, APPLIED(cell, key=value…) its
stored canonical form with some keys changed.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from cells.mgr.facts import Facts, KernelFact, ServiceFact, VolumeFact, root_digest, service_digest
from cells.mgr.loader import Desired, load_files
from cells.mgr.model import canonical_policy
from cells.mgr.plan import DOWN, Plan, PlanError, plan

CASES = sorted((Path(__file__).parent / "data" / "plan").glob("*.yaml"))
_CALL = re.compile(r"^(ROOT|SERVICE|APPLIED)\((\w+)(?:, (.*))?\)$")


def _expand(value: Any, desired: Desired) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, desired) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, desired) for v in value]
    if not isinstance(value, str) or not (m := _CALL.match(value)):
        return value
    what, name, extra = m.groups()
    cell = desired.cells[name]
    if what == "ROOT":
        return root_digest(cell.root)
    if what == "SERVICE":
        return service_digest(cell)
    doc = copy.deepcopy(cell.canonical())
    if extra:
        key, _, raw = extra.partition("=")
        target = doc
        *parents, last = key.split(".")
        for p in parents:
            target = target[p]
        target[last] = yaml.safe_load(raw)
    return doc


def _load_case(file: Path, tmp_path: Path) -> tuple[dict[str, Any], Desired, Facts]:
    case = yaml.safe_load(file.read_text())
    manifest = tmp_path / "cells.yaml"
    manifest.write_text(case["desired"])
    desired = load_files([manifest])
    facts = Facts.from_canonical(_expand(case["facts"] or {}, desired))
    return case, desired, facts


def simulate(desired: Desired, facts: Facts, p: Plan) -> Facts:
    """What the live state looks like after each action did its job."""
    kernel = dict(facts.kernel)
    roots = dict(facts.roots)
    mounts = dict(facts.mounts)
    volumes = dict(facts.volumes)
    applied_cells = dict(facts.applied_cells)
    applied_volumes = dict(facts.applied_volumes)
    prov = dict(facts.provision)
    services = None if facts.services is None else dict(facts.services)
    for a in p.actions:
        n = a.name
        cell = desired.cells.get(n)
        if a.op == "service.stop":
            assert services is not None
            services[n] = ServiceFact("stopped")
        elif a.op == "cell.destroy":
            for m in (kernel, applied_cells, roots, mounts):
                m.pop(n, None)
            if services is not None:
                services.pop(n, None)
        elif a.op in ("volume.create", "volume.update"):
            volumes[n] = VolumeFact(desired.volumes[n].mode, True)
            applied_volumes[n] = desired.volumes[n].canonical()
        elif a.op == "volume.record":
            applied_volumes[n] = desired.volumes[n].canonical()
        elif a.op == "volume.forget":
            applied_volumes.pop(n)
        elif a.op == "cell.root":
            assert cell is not None
            roots[n] = root_digest(cell.root)
        elif a.op == "cell.mounts":
            assert cell is not None
            mounts[n] = tuple(str(m) for m in cell.mounts)
        elif a.op in ("cell.create", "cell.replace"):
            assert cell is not None
            kernel[n] = KernelFact(1, "", canonical_policy(cell))
            was = services.get(n) if services is not None else None
            if (
                services is not None
                and cell.service is not None
                and (cell.autostart or (was is not None and was.state not in DOWN))
            ):
                services[n] = ServiceFact("running", digest=service_digest(cell))
        elif a.op == "cell.provision":
            assert cell is not None
            prov[n] = (False,) * len(cell.provision)
        elif a.op == "cell.record":
            assert cell is not None
            applied_cells[n] = cell.canonical()
        elif a.op in ("service.start", "service.restart"):
            assert cell is not None and services is not None
            services[n] = ServiceFact("running", digest=service_digest(cell))
        else:
            raise AssertionError(f"unknown op {a.op}")
    return Facts(kernel, roots, mounts, volumes, applied_cells, applied_volumes, prov, services)


@pytest.mark.parametrize("file", CASES, ids=lambda p: p.stem)
def test_plan_case(file: Path, tmp_path: Path) -> None:
    case, desired, facts = _load_case(file, tmp_path)
    targets = case.get("targets")
    first = plan(desired, facts, targets)
    assert [a.key() for a in first.actions] == case["expect"]
    by_key = {a.key(): a for a in first.actions}
    for key, reasons in (case.get("reasons") or {}).items():
        assert [str(r) for r in by_key[key].reasons] == reasons
    for key, restarts in (case.get("restarts") or {}).items():
        assert list(by_key[key].restarts) == restarts
    for key, steps in (case.get("steps") or {}).items():
        assert list(by_key[key].steps) == steps
    if "drift" in case:
        assert len(first.drift) == case["drift"]
    assert len(first.notes) == case.get("notes", 0)
    # The plan is a pure function of its inputs.
    assert plan(desired, facts, targets) == first

    after = simulate(desired, facts, first)
    second = plan(desired, after, targets)
    assert second.actions == ()
    assert second.fingerprint != first.fingerprint or not first.actions


def test_unknown_target_is_one_line(tmp_path: Path) -> None:
    _, desired, facts = _load_case(CASES[0], tmp_path)
    with pytest.raises(PlanError, match="no cell named 'nope'"):
        plan(desired, facts, ["nope"])


def test_plan_json_shape(tmp_path: Path) -> None:
    _, desired, facts = _load_case(next(c for c in CASES if c.stem == "profile-change"), tmp_path)
    doc = plan(desired, facts).to_dict()
    assert doc["version"] == 1 and doc["changes"] is True
    replace = doc["actions"][0]
    assert replace == {
        "op": "cell.replace",
        "name": "web",
        "cause": "edit",
        "reasons": [{"field": "profile", "old": "medium", "new": "high", "drift": False}],
        "restarts": ["web"],
        "steps": [],
    }
