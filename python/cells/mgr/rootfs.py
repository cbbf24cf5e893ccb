"""Root file systems: the shared read-only bases and each cell's root.

A base is built once per release/arch from NetBSD release sets (base.tgz
or base.tar.xz, etc.tgz, optional others) taken from a local directory or
a URL, under `<cells dir>/base/RELEASE-ARCH`; each set is checked against
the release's SHA512 file and extracted by `cells.archive`.  A cell's root
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

import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from cells import archive, private
from cells.errors import CellsError, InvalidArgument, NotFound
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


#: The release's digest file next to the sets (NetBSD's distrib/sets/makesums
#: writes it with `cksum -a sha512`: lines `SHA512 (base.tgz) = <hex>`).
SUMS_FILE = "SHA512"
MAX_SUMS = 1 << 20
_SUM_LINE = re.compile(r"SHA512 \((?P<name>[^()/]+)\) = (?P<hex>[0-9a-fA-F]{128})")
_GNU_LINE = re.compile(r"(?P<hex>[0-9a-fA-F]{128}) [ *](?P<name>[^/]+)")
_SET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_CHUNK = 1 << 20
#: A download that goes on past this is not a set (base.tar.xz is ~100 MB).
MAX_SET_BYTES = 16 << 30


def _is_url(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in ("http", "https", "ftp", "file")


def _copy_hashing(src: IO[bytes], dest: IO[bytes], what: str) -> str:
    h, size = hashlib.sha512(), 0
    while chunk := src.read(_CHUNK):
        size += len(chunk)
        if size > MAX_SET_BYTES:
            raise SetsError(f"{what}: larger than {MAX_SET_BYTES} bytes; not a release set")
        h.update(chunk)
        dest.write(chunk)
    return h.hexdigest()


def _fetch(source: str, name: str, into: Path) -> tuple[Path, str]:
    """Find or download one set; returns a local file and its SHA512."""
    if _is_url(source):
        errors = []
        for suffix in SET_SUFFIXES:
            url = source.rstrip("/") + "/" + name + suffix
            dest = into / (name + suffix)
            try:
                with urllib.request.urlopen(url, timeout=60) as r, open(dest, "wb") as f:
                    return dest, _copy_hashing(r, f, url)
            except (OSError, ValueError) as e:
                errors.append(f"{url}: {e}")
        raise SetsError(f"set {name}: cannot download ({'; '.join(errors)})")
    for suffix in SET_SUFFIXES:
        path = Path(source) / (name + suffix)
        if path.is_file():
            # Copied while hashed: what is extracted is what was checked.
            dest = into / path.name
            try:
                with open(path, "rb") as f, open(dest, "wb") as out:
                    return dest, _copy_hashing(f, out, str(path))
            except OSError as e:
                raise SetsError(f"set {name}: cannot read {path}: {e.strerror}") from None
    raise SetsError(
        f"set {name}: no {name}.tgz or {name}.tar.xz in {source}; "
        "give --sets a directory or URL holding the release sets"
    )


def parse_sums(text: str) -> dict[str, str]:
    """File name -> lower-case hex digest from a SHA512 file (BSD `cksum -a
    sha512` lines; GNU `sha512sum` lines are read too)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _SUM_LINE.fullmatch(line.strip()) or _GNU_LINE.fullmatch(line.strip())
        if m is not None:
            out[m["name"]] = m["hex"].lower()
    return out


def unauthenticated(source: str) -> bool:
    """Sets fetched over plain http or ftp: their SHA512 file travels the
    same unauthenticated channel, so checking it catches corruption, not
    someone in the middle (give a SHA512 file from a trusted place)."""
    return source.lower().startswith(("http://", "ftp://"))


def _read_sums(source: str, sums_file: str | None = None) -> dict[str, str]:
    where = sums_file or source.rstrip("/") + "/" + SUMS_FILE
    try:
        if sums_file is None and _is_url(source):
            with urllib.request.urlopen(where, timeout=60) as r:
                data = r.read(MAX_SUMS + 1)
        else:
            with open(where, "rb") as f:
                data = f.read(MAX_SUMS + 1)
    except (OSError, ValueError) as e:
        why = getattr(e, "reason", None) or getattr(e, "strerror", None) or e
        raise SetsError(
            f"cannot verify the sets: no {SUMS_FILE} at {where} ({why}); "
            "give --no-verify to import them unchecked"
        ) from None
    if len(data) > MAX_SUMS:
        raise SetsError(f"{where}: larger than {MAX_SUMS} bytes; not a release's {SUMS_FILE}")
    return parse_sums(data.decode("utf-8", "replace"))


def _verify(path: Path, digest: str, sums: dict[str, str], source: str) -> None:
    want = sums.get(path.name)
    if want is None:
        raise SetsError(
            f"set {path.name}: not listed in {source.rstrip('/')}/{SUMS_FILE}; "
            "refused (give --no-verify to import it unchecked)"
        )
    if want != digest:
        raise SetsError(
            f"set {path.name}: SHA512 mismatch (the release says {want[:16]}..., "
            f"the file is {digest[:16]}...); refused"
        )


def _extract(path: Path, dest: Path) -> None:
    archive.extract(path, dest, archive.RELEASE_SET)


def read_base(base: Path) -> list[str]:
    try:
        sets = json.loads((base / BASE_MARKER).read_text())["sets"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [str(s) for s in sets]


def _write_marker(tree: Path, sets: list[str]) -> None:
    """The base's marker, created afresh: a set may not plant it (a symlink
    there would make this write land on a host file)."""
    if os.path.lexists(tree / BASE_MARKER):
        raise SetsError(f"a set holds {BASE_MARKER}, a name cellmgr keeps for itself; refused")
    fd = os.open(tree / BASE_MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps({"sets": sets}) + "\n")


def import_sets(
    paths: Paths,
    source: str,
    release: str,
    arch: str,
    sets: Sequence[str] = ("base", "etc"),
    *,
    verify: bool = True,
    sums_file: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[Path, list[str]]:
    """Build (or complete) the base for release/arch; returns it and the sets
    added.  Each set is checked against the release's SHA512 file unless
    `verify` is false, and extracted by `cells.archive` (set-id programs
    kept, devices refused) into a copy that replaces the base when complete.
    `sums_file` is a local SHA512 file to check against instead of the one
    next to the sets.  `progress` is told each step (`[N/M] set: ...`)."""
    say = progress if progress is not None else (lambda _: None)
    for what, value in (("release", release), ("arch", arch), *(("set", s) for s in sets)):
        if not _SET_NAME.fullmatch(value):
            raise InvalidArgument(f"{what} {value!r}: only letters, digits, '.', '_' and '-'")
    base = paths.base(release, arch)
    have = read_base(base)
    missing = [s for s in sets if s not in have]
    if not missing:
        return base, []
    sums: dict[str, str] | None = None
    base.parent.mkdir(parents=True, exist_ok=True)
    # Bases hold set-id programs (and, unverified, whatever a set holds):
    # host users have no business there; cells reach them through mounts.
    os.chmod(base.parent, 0o700)
    with tempfile.TemporaryDirectory(dir=base.parent, prefix=".import-") as tmp:
        work = Path(tmp) / "tree"
        if base.is_dir():
            shutil.copytree(base, work, symlinks=True)
            (work / BASE_MARKER).unlink(missing_ok=True)
        else:
            work.mkdir()
        downloads = Path(tmp) / "sets"
        downloads.mkdir()
        for n, name in enumerate(missing, 1):
            say(f"[{n}/{len(missing)}] {name}: fetching")
            path, digest = _fetch(source, name, downloads)
            if verify:
                say(f"[{n}/{len(missing)}] {name}: checking SHA512")
                sums = _read_sums(source, sums_file) if sums is None else sums
                _verify(path, digest, sums, source)
            say(f"[{n}/{len(missing)}] {name}: extracting")
            _extract(path, work)
        os.chmod(work, 0o755)  # whatever a set's "." member said
        _write_marker(work, have + missing)
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
    private.private_dir(paths.holders()[0])
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
