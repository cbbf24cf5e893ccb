"""Apply on the sim backend: effects, idempotence, lock, stale plans, replace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cells.errors import Busy
from cells.kernel import open_kernel
from cells.mgr.apply import Manager, StalePlan
from cells.mgr.host import SimHost
from cells.mgr.loader import ManifestError
from cells.mgr.lock import apply_lock
from cells.mgr.paths import Paths

MANIFESTS = """\
kind: Volume
name: data
mode: "0750"
---
kind: Cell
name: db
profile: high
ports: [5432]
mounts: ["data:/var/db/data:rw"]
provision:
  - dir: {path: /var/db/data/base, mode: "0700"}
  - file: {path: /etc/motd, content: "db\\n"}
---
kind: Cell
name: web
profile: medium
ports: [80]
depends_on: [db]
rlimits: {nofile: 256}
"""


def manager(paths: Paths) -> Manager:
    return Manager(paths, open_kernel("sim", paths.state_dir), SimHost())


def write(paths: Paths, text: str) -> None:
    (paths.config_dir / "cells.yaml").write_text(text)


def test_apply_converges_and_second_apply_does_nothing(paths: Paths) -> None:
    write(paths, MANIFESTS)
    m = manager(paths)
    report = m.apply()
    assert report.ok
    keys = [r.key for r in report.results]
    assert keys.index("cell.create db") < keys.index("cell.create web")
    cells = {c.name: c for c in m.kernel.list()}
    assert cells["web"].profile == "medium" and cells["web"].ports == (80,)
    assert cells["web"].root == str(paths.root("web"))
    assert [(r.resource, r.soft) for r in cells["web"].rlimits] == [("nofile", 256)]
    vol = paths.volume("data")
    assert vol.is_dir() and (vol.stat().st_mode & 0o777) == 0o750
    assert (vol / "base").is_dir()  # provision wrote through the mount
    assert (paths.root("db") / "etc/motd").read_text() == "db\n"
    assert (paths.root("db") / "etc/myname").read_text() == "db\n"
    assert m.db.applied("Cell")["web"]["profile"] == "medium"

    again = manager(paths)
    assert again.plan().actions == ()
    assert again.apply().results == []


def test_bad_manifest_changes_nothing(paths: Paths) -> None:
    write(paths, MANIFESTS.replace("profile: medium", "profile: mediun"))
    m = manager(paths)
    with pytest.raises(ManifestError):
        m.apply()
    assert m.kernel.list() == []
    assert not paths.cells_dir.exists()
    assert m.db.applied("Cell") == {}


def test_policy_edit_replaces_the_kernel_cell_and_keeps_files(paths: Paths) -> None:
    write(paths, MANIFESTS)
    manager(paths).apply()
    m = manager(paths)
    old_id = m.kernel.get("web").id
    (paths.root("web") / "etc/keep").write_text("mine")
    write(paths, MANIFESTS.replace("profile: medium", "profile: low"))
    p = m.plan()
    assert [a.key() for a in p.actions] == ["cell.replace web", "cell.record web"]
    assert [str(r) for r in p.actions[0].reasons] == ["profile: medium → low"]
    assert m.apply().ok
    assert m.kernel.get("web").profile == "low"
    assert m.kernel.get("web").id != old_id
    assert (paths.root("web") / "etc/keep").read_text() == "mine"
    assert manager(paths).plan().actions == ()


def test_drift_is_repaired(paths: Paths) -> None:
    write(paths, MANIFESTS)
    manager(paths).apply()
    m = manager(paths)
    m.kernel.destroy("web")
    os.chmod(paths.volume("data"), 0o777)
    p = m.plan()
    assert {a.key() for a in p.actions} == {"cell.create web", "volume.update data"}
    assert all(r.drift for _, r in p.drift) and len(p.drift) == 2
    assert m.apply().ok
    assert manager(paths).plan().actions == ()


def test_removed_cell_is_destroyed_but_its_files_stay(paths: Paths) -> None:
    write(paths, MANIFESTS)
    manager(paths).apply()
    write(paths, MANIFESTS.split("---\nkind: Cell\nname: web")[0])
    m = manager(paths)
    assert [a.key() for a in m.plan().actions] == ["cell.destroy web"]
    assert m.apply().ok
    assert [c.name for c in m.kernel.list()] == ["db"]
    assert (paths.root("web") / "etc/myname").exists()
    assert manager(paths).plan().actions == ()


def test_stale_saved_plan_is_refused(paths: Paths) -> None:
    write(paths, MANIFESTS)
    m = manager(paths)
    saved = m.plan().fingerprint
    write(paths, MANIFESTS.replace("ports: [80]", "ports: [8080]"))
    with pytest.raises(StalePlan, match="stale"):
        m.apply(fingerprint=saved)
    assert m.kernel.list() == []
    assert m.apply(fingerprint=m.plan().fingerprint).ok


def test_concurrent_apply_is_refused(paths: Paths) -> None:
    write(paths, MANIFESTS)
    m = manager(paths)
    with apply_lock(paths.lock), pytest.raises(Busy, match="another cellmgr apply"):
        # flock locks are per open file description: a second open conflicts.
        m.apply()
    assert m.kernel.list() == []


def test_targets_limit_the_apply(paths: Paths) -> None:
    write(paths, MANIFESTS.replace("depends_on: [db]\n", ""))
    m = manager(paths)
    assert m.apply(["web"]).ok
    assert [c.name for c in m.kernel.list()] == ["web"]
    assert not paths.volume("data").exists()


def test_failed_step_is_journaled_and_resumes(paths: Paths, tmp_path: Path) -> None:
    write(
        paths,
        MANIFESTS.replace(
            '  - file: {path: /etc/motd, content: "db\\n"}',
            "  - exec: {command: [sh, -c, 'test -f ../../ok'], creates: /done}",
        ),
    )
    m = manager(paths)
    report = m.apply()
    assert not report.ok
    assert report.results[-1].key == "cell.provision db"
    run = m.db.runs()[0]
    assert run["status"] == "failed"
    assert m.db.steps(run["id"])[-1][2] == "failed"
    (paths.cells_dir / "cells" / "ok").write_text("")
    assert manager(paths).apply().ok
