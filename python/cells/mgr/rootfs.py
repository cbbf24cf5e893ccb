"""Root file systems: the shared read-only bases and each cell's root.

A base is built once per release/arch from NetBSD release sets (base.tgz
or base.tar.xz, etc.tgz, optional others) taken from a local directory or
a URL, under `<cells dir>/base/RELEASE-ARCH`.  A cell's root
(`<cells dir>/cells/NAME/root`) holds its own writable files (etc, var,
root, home, tmp: seeded from the base once, never overwritten), the base's
system directories made visible read-only (null mounts on NetBSD, copies
on the sim) and a local /dev.  The marker `root.json` is written last, so
an interrupted build is redone.  The root's contents are the cell's: every
host-side step in it goes through `cells.mgr.safefs` and
`cells.mgr.mountpoint` (no symlink the cell planted is followed; mounts go
onto verified directories).  Callers: bootstrap, apply.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tarfile
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from cells.errors import CellsError, NotFound
from cells.mgr import mountpoint
from cells.mgr.facts import ROOT_MARKER, root_digest
from cells.mgr.host import RO_DIRS, Host
from cells.mgr.model import Cell
from cells.mgr.paths import Paths
from cells.mgr.safefs import Dir, UnsafePath

BASE_MARKER = ".cells-base.json"
SEED_DIRS: tuple[str, ...] = ("etc", "var", "root", "home")
SET_SUFFIXES: tuple[str, ...] = (".tgz", ".tar.xz")


class SetsError(CellsError):
    pass


def _fetch(source: str, name: str, into: Path) -> Path:
    """Find or download one set; returns a local file."""
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme in ("http", "https", "ftp", "file"):
        errors = []
        for suffix in SET_SUFFIXES:
            url = source.rstrip("/") + "/" + name + suffix
            dest = into / (name + suffix)
            try:
                with urllib.request.urlopen(url, timeout=60) as r, open(dest, "wb") as f:
                    shutil.copyfileobj(r, f)
                return dest
            except (OSError, ValueError) as e:
                errors.append(f"{url}: {e}")
        raise SetsError(f"set {name}: cannot download ({'; '.join(errors)})")
    for suffix in SET_SUFFIXES:
        path = Path(source) / (name + suffix)
        if path.is_file():
            return path
    raise SetsError(
        f"set {name}: no {name}.tgz or {name}.tar.xz in {source}; "
        "give --sets a directory or URL holding the release sets"
    )


def _extract(archive: Path, dest: Path) -> None:
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="tar")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise SetsError(f"{archive.name}: cannot extract: {e}") from None


def read_base(base: Path) -> list[str]:
    try:
        sets = json.loads((base / BASE_MARKER).read_text())["sets"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [str(s) for s in sets]


def import_sets(
    paths: Paths, source: str, release: str, arch: str, sets: Sequence[str] = ("base", "etc")
) -> tuple[Path, list[str]]:
    """Build (or complete) the base for release/arch; returns it and the sets added."""
    base = paths.base(release, arch)
    have = read_base(base)
    missing = [s for s in sets if s not in have]
    if not missing:
        return base, []
    base.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base.parent, prefix=".import-") as tmp:
        work = Path(tmp) / "tree"
        if base.is_dir():
            shutil.copytree(base, work, symlinks=True)
        else:
            work.mkdir()
        for name in missing:
            _extract(_fetch(source, name, Path(tmp)), work)
        (work / BASE_MARKER).write_text(json.dumps({"sets": have + missing}) + "\n")
        old = Path(tmp) / "old"
        if base.is_dir():
            base.rename(old)
        work.rename(base)
    return base, missing


def _seed_etc(etc: Dir, name: str) -> None:
    """Files every cell needs in /etc, written only where nothing is yet."""
    if etc.lstat("myname") is None:
        etc.write_file("myname", f"{name}\n".encode(), 0o644, exclusive=True)
    if etc.lstat("resolv.conf") is None and os.path.isfile("/etc/resolv.conf"):
        with open("/etc/resolv.conf", "rb") as f:
            etc.write_file("resolv.conf", f.read(1 << 20), 0o644, exclusive=True)
    if etc.lstat("localtime") is None:
        zone = "UTC"
        if os.path.islink("/etc/localtime"):
            target = os.readlink("/etc/localtime")
            if "zoneinfo/" in target:
                zone = target.split("zoneinfo/", 1)[1]
        etc.symlink("localtime", f"/usr/share/zoneinfo/{zone}")


def _seed(top: Dir, base: Path, d: str) -> None:
    """Copy the base's `d` into the root once: into a directory of the
    cell's own (outside the root, where the cell cannot reach), then
    renamed into the root through its descriptor."""
    if top.lstat(d) is not None:
        return
    with tempfile.TemporaryDirectory(dir=top.path.parent, prefix=f".seed-{d}-") as tmp:
        shutil.copytree(base / d, Path(tmp) / d, symlinks=True)
        os.rename(Path(tmp) / d, d, dst_dir_fd=top.fd)


def build_root(paths: Paths, host: Host, cell: Cell) -> Path:
    """Create or refresh the cell's root; keeps every file the cell wrote."""
    root = paths.root(cell.name)
    base: Path | None = None
    if cell.root is not None:
        base = paths.base(cell.root.release, cell.root.arch)
        have = read_base(base)
        if not have:
            raise NotFound(
                f"cell {cell.name}: no base for NetBSD {cell.root.release}/{cell.root.arch}; "
                f"run 'cellmgr bootstrap --release {cell.root.release} --arch "
                f"{cell.root.arch} --sets DIR-OR-URL'"
            )
        absent = [s for s in cell.root.sets if s not in have]
        if absent:
            raise NotFound(
                f"cell {cell.name}: base {base.name} lacks sets {', '.join(absent)}; "
                "import them with cellmgr bootstrap --sets"
            )
    root.mkdir(parents=True, exist_ok=True)
    marker = paths.cell_dir(cell.name) / ROOT_MARKER
    marker.unlink(missing_ok=True)
    try:
        with Dir.open(root, "/") as top:
            _build(host, top, base, cell.name)
    except UnsafePath as e:
        raise CellsError(f"cell {cell.name}: root: {e}") from None
    data = {
        "digest": root_digest(cell.root),
        "host": socket.gethostname(),
        "release": cell.root.release if cell.root else None,
        "arch": cell.root.arch if cell.root else None,
    }
    tmp_marker = marker.with_suffix(".tmp")
    tmp_marker.write_text(json.dumps(data) + "\n")
    tmp_marker.rename(marker)
    return root


def _build(host: Host, top: Dir, base: Path | None, name: str) -> None:
    root = top.path
    for d in RO_DIRS:
        if mountpoint.is_mounted(host, root, d):
            host.unmount(root / d)
        elif host.name == "sim":
            top.remove_tree(d)
        if base is not None and (base / d).is_dir():
            _mount_base(host, top, base / d, d)
    for d in SEED_DIRS:
        if base is not None and (base / d).is_dir():
            _seed(top, base, d)
        top.mkdir(d).close()
    with top.mkdir("tmp") as tmp:
        os.fchmod(tmp.fd, 0o1777)
    with top.sub("etc") as etc:
        _seed_etc(etc, name)
    if not mountpoint.is_mounted(host, root, "dev"):
        # Mount, verify, and only then run MAKEDEV in what was verified.
        host.populate_dev(mountpoint.mount(host, root, "dev", host.mount_dev))


def _mount_base(host: Host, top: Dir, src: Path, d: str) -> None:
    if host.name != "sim":
        mountpoint.mount(host, top.path, d, lambda p: host.mount_base(src, p))
        return
    # The sim copies: into a directory outside the root, then renamed in, so
    # an interrupted copy is never mistaken for a complete one and nothing is
    # written through a name the cell controls.
    with tempfile.TemporaryDirectory(dir=top.path.parent, prefix=f".base-{d}-") as tmp:
        host.mount_base(src, Path(tmp) / d)
        os.rename(Path(tmp) / d, d, dst_dir_fd=top.fd)


def teardown_root(paths: Paths, host: Host, name: str) -> None:
    """Undo mounts of the cell's root (NetBSD); the files stay."""
    root = paths.root(name)
    if host.name == "sim":
        return
    for d in (*RO_DIRS, "dev"):
        if mountpoint.is_mounted(host, root, d):
            host.unmount(root / d)
