"""Bases from release sets (tarballs built here), cell roots, bootstrap, backups."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from cells.errors import Busy, InvalidArgument, NotFound
from cells.kernel import open_kernel
from cells.mgr.apply import Manager
from cells.mgr.backups import Backups
from cells.mgr.host import SimHost
from cells.mgr.model import cell_from_doc
from cells.mgr.paths import Paths
from cells.mgr.rootfs import SetsError, build_root, import_sets, read_base
from hostile import write_sums


def make_set(path: Path, files: dict[str, str], mode: str = "w:gz") -> None:
    with tarfile.open(path, mode) as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            info.mode = 0o755 if name.startswith(("bin/", "sbin/")) else 0o644
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def sets(tmp_path: Path) -> Path:
    d = tmp_path / "sets"
    d.mkdir()
    make_set(
        d / "base.tar.xz",
        {"bin/sh": "#!fake sh\n", "usr/bin/env": "env\n", "var/db/.keep": ""},
        "w:xz",
    )
    make_set(
        d / "etc.tgz",
        {"etc/passwd": "root:*:0:0::/root:/bin/sh\n", "etc/rc.conf": "rc_configured=YES\n"},
    )
    make_set(d / "comp.tgz", {"usr/bin/cc": "cc\n"})
    write_sums(d)
    return d


def test_import_sets_builds_a_base_once(paths: Paths, sets: Path) -> None:
    base, added = import_sets(paths, str(sets), "10.1", "amd64")
    assert added == ["base", "etc"]
    assert (base / "bin/sh").read_text() == "#!fake sh\n"
    assert (base / "etc/passwd").exists()
    assert import_sets(paths, str(sets), "10.1", "amd64") == (base, [])
    _, more = import_sets(paths, sets.as_uri(), "10.1", "amd64", ["base", "etc", "comp"])
    assert more == ["comp"] and (base / "usr/bin/cc").exists()
    assert read_base(base) == ["base", "etc", "comp"]


def test_missing_set_is_one_line(paths: Paths, tmp_path: Path) -> None:
    with pytest.raises(SetsError, match=r"no base.tgz or base.tar.xz in .*; give --sets"):
        import_sets(paths, str(tmp_path), "10.1", "amd64")
    assert not paths.base("10.1", "amd64").exists()


def test_root_from_base_keeps_cell_files_across_release_change(paths: Paths, sets: Path) -> None:
    import_sets(paths, str(sets), "10.1", "amd64")
    cell = cell_from_doc(
        {"kind": "Cell", "name": "web", "root": {"release": "10.1", "arch": "amd64"}}
    )
    root = build_root(paths, SimHost(), cell)
    assert (root / "bin/sh").exists() and (root / "usr/bin/env").exists()
    assert (root / "etc/rc.conf").read_text() == "rc_configured=YES\n"
    assert (root / "etc/myname").read_text() == "web\n"
    assert os.readlink(root / "etc/localtime").startswith("/usr/share/zoneinfo/")
    assert (root / "dev/null").exists() and (root / "tmp").stat().st_mode & 0o1777 == 0o1777
    (root / "etc/rc.conf").write_text("mine\n")
    import_sets(paths, str(sets), "10.2", "amd64")
    newer = cell_from_doc(
        {"kind": "Cell", "name": "web", "root": {"release": "10.2", "arch": "amd64"}}
    )
    build_root(paths, SimHost(), newer)
    assert (root / "etc/rc.conf").read_text() == "mine\n"
    assert (root / "bin/sh").exists()


def test_root_without_base_says_how_to_bootstrap(paths: Paths) -> None:
    cell = cell_from_doc(
        {"kind": "Cell", "name": "web", "root": {"release": "9.3", "arch": "sparc64"}}
    )
    with pytest.raises(NotFound, match=r"run 'cellmgr bootstrap --release 9\.3 --arch sparc64"):
        build_root(paths, SimHost(), cell)


MANIFESTS = """\
kind: Volume
name: data
---
kind: Cell
name: web
mounts: ["data:/srv/data:rw"]
"""


def test_backup_create_restore_delete(paths: Paths) -> None:
    (paths.config_dir / "c.yaml").write_text(MANIFESTS)
    m = Manager(paths, open_kernel("sim", paths.state_dir), SimHost())
    assert m.apply().ok
    root = paths.root("web")
    (root / "etc/app.conf").write_text("v1")
    (paths.volume("data") / "rows").write_text("1,2,3")
    running = {"web": False}
    b = Backups(paths, m.db, lambda c: running[c])
    meta = b.create("web", now=1_800_000_000)
    assert meta["id"] == "web-20270115T080000Z" and meta["volumes"] == ["data"]
    assert b.create("web", now=1_800_000_000)["id"] == "web-20270115T080000Z-2"
    (root / "etc/app.conf").write_text("v2")
    (root / "etc/new").write_text("later")
    (paths.volume("data") / "rows").write_text("changed")
    with pytest.raises(InvalidArgument, match="confirm with --yes"):
        b.restore(meta["id"], yes=False)
    running["web"] = True
    with pytest.raises(Busy, match="cell web is running"):
        b.restore(meta["id"], yes=True)
    with pytest.raises(Busy):
        b.create("web")
    running["web"] = False
    b.restore(meta["id"], yes=True)
    assert (root / "etc/app.conf").read_text() == "v1"
    assert not (root / "etc/new").exists()
    assert (paths.volume("data") / "rows").read_text() == "1,2,3"
    assert (root / "srv/data").is_symlink()  # the mount was left alone
    assert [x["id"] for x in b.list("web")] == [meta["id"], meta["id"] + "-2"]
    b.delete(meta["id"], yes=True)
    with pytest.raises(NotFound, match="see 'cellmgr backup list'"):
        b.delete(meta["id"], yes=True)
    assert Manager(paths, m.kernel, SimHost()).plan().actions == ()
