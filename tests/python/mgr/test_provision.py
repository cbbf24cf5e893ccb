"""Provision steps: each kind changes once, then reports unchanged; paths stay inside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cells.mgr.host import SimHost
from cells.mgr.model import cell_from_doc
from cells.mgr.provision import CellFS, StepError, run_step, would_change

DIFF = """\
--- a/etc/app.conf
+++ b/etc/app.conf
@@ -1,2 +1,2 @@
 name=app
-debug=yes
+debug=no
"""


def steps(*docs: dict[str, object]) -> list:  # type: ignore[type-arg]
    return list(cell_from_doc({"kind": "Cell", "name": "c", "provision": list(docs)}).provision)


@pytest.fixture
def fs(tmp_path: Path) -> CellFS:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/app.conf").write_text("name=app\ndebug=yes\n")
    (root / "etc/rc.conf").write_text("sshd=YES\nhttpd=NO\n")
    return CellFS(root, SimHost())


CASES = [
    (
        {"file": {"path": "/etc/motd", "content": "hi\n", "mode": "0600"}},
        lambda r: (
            (r / "etc/motd").read_text() == "hi\n"
            and (r / "etc/motd").stat().st_mode & 0o777 == 0o600
        ),
    ),
    (
        {"dir": {"path": "/var/www/htdocs", "mode": "0750"}},
        lambda r: (r / "var/www/htdocs").is_dir(),
    ),
    (
        {"line": {"path": "/etc/rc.conf", "line": "httpd=YES", "match": "^httpd="}},
        lambda r: (r / "etc/rc.conf").read_text() == "sshd=YES\nhttpd=YES\n",
    ),
    (
        {"line": {"path": "/etc/rc.conf", "line": "ntpd=YES"}},
        lambda r: (r / "etc/rc.conf").read_text().endswith("httpd=NO\nntpd=YES\n"),
    ),
    (
        {"symlink": {"path": "/etc/localtime", "target": "/usr/share/zoneinfo/UTC"}},
        lambda r: os.readlink(r / "etc/localtime") == "/usr/share/zoneinfo/UTC",
    ),
    (
        {"patch": {"path": "/etc/app.conf", "diff": DIFF}},
        lambda r: (r / "etc/app.conf").read_text() == "name=app\ndebug=no\n",
    ),
    ({"pkg": "nginx"}, lambda r: (r / "var/db/pkg/nginx").is_dir()),
    (
        {"exec": {"command": ["sh", "-c", "echo x >> ran"], "creates": "/ran"}},
        lambda r: (r / "ran").read_text() == "x\n",
    ),
    (
        {"exec": {"command": ["sh", "-c", "echo y >> log"], "unless": "grep -q y log"}},
        lambda r: (r / "log").read_text() == "y\n",
    ),
]


@pytest.mark.parametrize(
    ("doc", "effect"), CASES, ids=lambda x: next(iter(x)) if isinstance(x, dict) else ""
)
def test_step_changes_once(fs: CellFS, doc: dict[str, object], effect: object) -> None:
    (step,) = steps(doc)
    assert would_change(step, fs)
    assert run_step(0, step, fs).changed
    assert callable(effect) and effect(fs.root)
    assert not would_change(step, fs)
    assert not run_step(0, step, fs).changed
    assert callable(effect) and effect(fs.root)


def test_paths_cannot_escape_the_root(fs: CellFS, tmp_path: Path) -> None:
    (fs.root / "etc/out").symlink_to(tmp_path)
    (step,) = steps({"file": {"path": "/etc/out/x", "content": "no"}})
    with pytest.raises(StepError, match="/etc/out: is a symlink; refusing to follow it"):
        run_step(0, step, fs)
    assert not (tmp_path / "x").exists()


def test_mounted_volume_paths_are_allowed(fs: CellFS, tmp_path: Path) -> None:
    vol = tmp_path / "vol"
    vol.mkdir()
    (fs.root / "data").symlink_to(vol)
    (step,) = steps({"dir": {"path": "/data/base"}})
    assert run_step(0, step, CellFS(fs.root, fs.host, (("/data", vol, False),))).changed
    assert (vol / "base").is_dir()


def test_read_only_mounts_are_not_written(fs: CellFS, tmp_path: Path) -> None:
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "app.conf").write_text("name=app\ndebug=yes\n")
    ro = CellFS(fs.root, fs.host, (("/data", vol, True),))
    for doc in (
        {"file": {"path": "/data/x", "content": "x"}},
        {"patch": {"path": "/data/app.conf", "diff": DIFF}},
    ):
        (step,) = steps(doc)
        with pytest.raises(StepError, match=r": /data/\S+: is on the read-only mount /data$"):
            run_step(0, step, ro)
    assert sorted(os.listdir(vol)) == ["app.conf"]
    assert (vol / "app.conf").read_text() == "name=app\ndebug=yes\n"


def test_patch_that_does_not_apply_is_one_line(fs: CellFS) -> None:
    (fs.root / "etc/app.conf").write_text("something else\n")
    (step,) = steps({"patch": {"path": "/etc/app.conf", "diff": DIFF}})
    with pytest.raises(StepError, match="the diff does not apply"):
        would_change(step, fs)


def test_failing_exec_reports_status_and_output(fs: CellFS) -> None:
    (step,) = steps(
        {"exec": {"command": ["sh", "-c", "echo nope >&2; exit 4"], "creates": "/never"}}
    )
    with pytest.raises(StepError, match="exit status 4: nope"):
        run_step(0, step, fs)


def test_owner_is_resolved_in_the_cell(fs: CellFS) -> None:
    uid, gid = os.getuid(), os.getgid()
    (fs.root / "etc/passwd").write_text(f"svc:*:{uid}:{gid}::/home/svc:/bin/sh\n")
    (fs.root / "etc/group").write_text(f"svc:*:{gid}:\n")
    (step,) = steps({"dir": {"path": "/srv", "owner": "svc:svc"}})
    assert run_step(0, step, fs).changed
    assert not would_change(step, fs)
    (bad,) = steps({"file": {"path": "/srv/x", "content": "", "owner": "nobody2"}})
    with pytest.raises(StepError, match="no user 'nobody2' in the cell's /etc/passwd"):
        run_step(0, bad, fs)


def test_failed_mount_unwinds_the_ones_it_made(tmp_path: Path) -> None:
    from cells.errors import BackendError
    from cells.mgr.paths import Paths
    from cells.mgr.volumes import sync_mounts

    paths = Paths(tmp_path / "e", tmp_path / "s", tmp_path / "c", tmp_path / "b", tmp_path / "k")
    for v in ("a", "b"):
        paths.volume(v).mkdir(parents=True)
    paths.root("x").mkdir(parents=True)

    class FailSecond(SimHost):
        calls = 0

        def mount_volume(self, src: Path, dst: Path, readonly: bool) -> None:
            self.calls += 1
            if self.calls == 2:
                raise BackendError("mount volume: no space")
            super().mount_volume(src, dst, readonly)

    cell = cell_from_doc({"kind": "Cell", "name": "x", "mounts": ["a:/a:rw", "b:/b:ro"]})
    with pytest.raises(BackendError, match="no space"):
        sync_mounts(paths, FailSecond(), cell, [])
    assert not (paths.root("x") / "a").is_symlink()
    sync_mounts(paths, SimHost(), cell, [])
    assert (paths.root("x") / "a").is_symlink() and (paths.root("x") / "b").is_symlink()
