"""Root file systems: the shared read-only bases and each cell's root.

A base is built once per release/arch from NetBSD release sets (base.tgz
or base.tar.xz, etc.tgz, optional others) taken from a local directory or
a URL, under `<cells dir>/base/RELEASE-ARCH`.  A cell's root
(`<cells dir>/cells/NAME/root`) holds its own writable files (etc, var,
root, home, tmp: seeded from the base once, never overwritten), the base's
system directories made visible read-only (null mounts on NetBSD, copies
on the sim) and a local /dev.  The marker `root.json` is written last, so
an interrupted build is redone.  Callers: bootstrap, apply.
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
from cells.mgr.facts import ROOT_MARKER, root_digest
from cells.mgr.host import RO_DIRS, Host
from cells.mgr.model import Cell
from cells.mgr.paths import Paths

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


def _seed_etc(root: Path, name: str) -> None:
    etc = root / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    myname = etc / "myname"
    if not myname.exists():
        myname.write_text(f"{name}\n")
    resolv = etc / "resolv.conf"
    if not resolv.exists() and os.path.isfile("/etc/resolv.conf"):
        shutil.copyfile("/etc/resolv.conf", resolv)
    localtime = etc / "localtime"
    if not os.path.lexists(localtime):
        zone = "UTC"
        if os.path.islink("/etc/localtime"):
            target = os.readlink("/etc/localtime")
            if "zoneinfo/" in target:
                zone = target.split("zoneinfo/", 1)[1]
        localtime.symlink_to(f"/usr/share/zoneinfo/{zone}")


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
    for d in RO_DIRS:
        dst = root / d
        if host.is_mounted(dst):
            host.unmount(dst)
        elif host.name == "sim" and dst.is_dir() and not dst.is_symlink():
            shutil.rmtree(dst)
        if base is not None and (base / d).is_dir():
            _mount_base(host, base / d, dst)
    for d in SEED_DIRS:
        if base is not None and (base / d).is_dir() and not (root / d).exists():
            tmp = root / f".{d}.seed"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(base / d, tmp, symlinks=True)
            tmp.rename(root / d)
        (root / d).mkdir(exist_ok=True)
    tmpdir = root / "tmp"
    tmpdir.mkdir(exist_ok=True)
    os.chmod(tmpdir, 0o1777)
    _seed_etc(root, cell.name)
    if not host.is_mounted(root / "dev"):
        host.make_dev(root / "dev")
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


def _mount_base(host: Host, src: Path, dst: Path) -> None:
    if host.name != "sim":
        host.mount_base(src, dst)
        return
    # Copy next to the target, then rename: an interrupted copy is never
    # mistaken for a complete one.
    tmp = dst.with_name(f".{dst.name}.copy")
    shutil.rmtree(tmp, ignore_errors=True)
    host.mount_base(src, tmp)
    tmp.rename(dst)


def teardown_root(paths: Paths, host: Host, name: str) -> None:
    """Undo mounts of the cell's root (NetBSD); the files stay."""
    root = paths.root(name)
    if host.name == "sim":
        return
    for d in (*RO_DIRS, "dev"):
        if host.is_mounted(root / d):
            host.unmount(root / d)
