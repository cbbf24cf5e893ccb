"""Backups of a cell: its overlay and its volumes as tar archives, plus the
manifests that were applied, in one timestamped directory per backup.

Layout: `<backup dir>/<cell>-<YYYYmmddTHHMMSSZ>/` with `overlay.tar.gz`
(the cell's own files: not the shared base, /dev or volume mounts),
`volumes/<name>.tar.gz`, `manifest.json` and `meta.json`.  Creating and
restoring are refused while the cell runs anything; restore and delete
need an explicit yes.  Directories are 0700 and files 0600 whatever the
umask: a backup holds the cell's secrets and the manifests' env.

A backup is untrusted input on restore: its id and every field of
meta.json are checked (names by the manifest rule, the cell must be the
one the id names and applied now, volumes must be mounted by it now), the
archives go through `cells.archive` (devices, fifos, set-id files and
links out of the tree refused) into a staging directory that is swapped in
only when complete.  Backups never hold device nodes, fifos or set-id bits:
create skips the former and clears the latter.  Callers: cellmgr backup,
the daemon (IPC).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cells import archive
from cells.errors import BackendError, Busy, InvalidArgument, NotFound, UnsafeArchive
from cells.mgr.host import RO_DIRS
from cells.mgr.journal import StateDB
from cells.mgr.model import Mount
from cells.mgr.paths import Paths
from cells.mgr.schema import NAME_PATTERN

#: Answers "is this cell running anything?" (service or kernel members).
RunningCheck = Callable[[str], bool]

_NAME = NAME_PATTERN.strip("^$")
_ID = re.compile(rf"(?P<cell>{_NAME})-[0-9]{{8}}T[0-9]{{6}}Z(-[0-9]{{1,6}})?")
_NAME_RE = re.compile(_NAME)
#: meta.json and manifest.json are small; a larger one was not written here.
MAX_META = 1 << 20
DIR_MODE, FILE_MODE = 0o700, 0o600


def _excluded(mounts: list[Mount]) -> set[str]:
    out = {*RO_DIRS, "dev"}
    out.update(m.target.strip("/") for m in mounts)
    return out


def _private_dir(path: Path) -> None:
    path.mkdir(mode=DIR_MODE, exist_ok=True)
    os.chmod(path, DIR_MODE)


def _private_file(path: Path) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def _write_private(path: Path, text: str) -> None:
    with os.fdopen(_private_file(path), "w") as f:
        f.write(text)


def _tar(src: Path, dest: Path, skip: set[str]) -> None:
    try:
        with os.fdopen(_private_file(dest), "wb") as f:
            archive.write_tree(src, f, skip)
    except OSError as e:
        raise BackendError(f"cannot archive {src}: {e.strerror or e}") from None
    except RecursionError:
        raise BackendError(f"cannot archive {src}: directories nested too deep") from None


def _read_json(path: Path) -> Any:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_META + 1)
        if len(data) > MAX_META:
            raise InvalidArgument(f"{path}: larger than {MAX_META} bytes; not a backup's")
        return json.loads(data)
    except (OSError, ValueError) as e:
        raise InvalidArgument(f"{path}: unreadable: {e}") from None


def _name(value: Any, what: str, where: Path) -> str:
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise InvalidArgument(
            f"{where}: {what} {value!r} is not a valid name (1-63 letters, digits, "
            "'.', '_' or '-', starting with a letter)"
        )
    return value


def _meta(d: Path, backup_id: str) -> dict[str, Any]:
    """meta.json, checked: its cell and id are the id's, its volumes names."""
    where = d / "meta.json"
    meta = _read_json(where)
    if not isinstance(meta, dict):
        raise InvalidArgument(f"{where}: not a JSON object")
    if meta.get("id") != backup_id:
        raise InvalidArgument(f"{where}: id {meta.get('id')!r} is not {backup_id!r}")
    m = _ID.fullmatch(backup_id)
    cell = _name(meta.get("cell"), "cell", where)
    if m is None or m["cell"] != cell:
        raise InvalidArgument(f"{where}: cell {cell!r} is not the cell of backup {backup_id!r}")
    vols = meta.get("volumes")
    if not isinstance(vols, list):
        raise InvalidArgument(f"{where}: volumes is not a list")
    names = [_name(v, "volume", where) for v in vols]
    if len(set(names)) != len(names):
        raise InvalidArgument(f"{where}: a volume is listed twice")
    if not isinstance(meta.get("created"), str):
        raise InvalidArgument(f"{where}: created is not a string")
    return meta


class Backups:
    def __init__(self, paths: Paths, db: StateDB, running: RunningCheck) -> None:
        self.paths, self.db, self.running = paths, db, running

    def _applied(self, cell: str) -> dict[str, Any]:
        doc = self.db.applied("Cell").get(cell)
        if doc is None:
            raise NotFound(f"no applied cell named {cell!r}; apply it before backing it up")
        return doc

    def _refuse_running(self, cell: str, what: str) -> None:
        if self.running(cell):
            raise Busy(
                f"cell {cell} is running; stop it first ('cellmgr stop {cell}') and {what} again"
            )

    def list(self, cell: str | None = None) -> list[dict[str, Any]]:
        """Backups whose meta.json checks out; others cannot be restored and
        are left out (delete still removes them by id)."""
        if not self.paths.backup_dir.is_dir():
            return []
        out = []
        for d in sorted(self.paths.backup_dir.iterdir()):
            if d.name.startswith(".") or d.is_symlink() or not (d / "meta.json").is_file():
                continue
            try:
                meta = _meta(d, d.name)
            except InvalidArgument:
                continue
            if cell is None or meta["cell"] == cell:
                out.append(meta)
        return sorted(out, key=lambda m: (m["created"], m["id"]))

    def _dir(self, backup_id: str) -> Path:
        d = self.paths.backup_dir / backup_id
        if (
            not _ID.fullmatch(backup_id)
            or d.is_symlink()
            or not d.is_dir()
            or not (d / "meta.json").is_file()
        ):
            raise NotFound(
                f"no backup {backup_id!r} in {self.paths.backup_dir}; see 'cellmgr backup list'"
            )
        return d

    def create(
        self, cell: str, now: float | None = None, progress: Callable[[str], None] | None = None
    ) -> dict[str, Any]:
        """Archive the cell's own files and its volumes; `progress` is told
        each archive as it starts (`[N/M] overlay`, `[N/M] volume NAME`)."""
        say = progress if progress is not None else (lambda _: None)
        doc = self._applied(cell)
        self._refuse_running(cell, "back it up")
        mounts = [Mount.parse(m) for m in doc.get("mounts", [])]
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now or time.time()))
        self.paths.backup_dir.parent.mkdir(parents=True, exist_ok=True)
        _private_dir(self.paths.backup_dir)
        backup_id, n = f"{cell}-{stamp}", 1
        while (self.paths.backup_dir / backup_id).exists():
            n += 1
            backup_id = f"{cell}-{stamp}-{n}"
        final = self.paths.backup_dir / backup_id
        with tempfile.TemporaryDirectory(dir=self.paths.backup_dir, prefix=".new-") as tmp:
            work = Path(tmp) / "b"
            _private_dir(work)
            _private_dir(work / "volumes")
            vols = sorted({m.volume for m in mounts})
            say(f"[1/{1 + len(vols)}] overlay")
            _tar(self.paths.root(cell), work / "overlay.tar.gz", _excluded(mounts))
            for n, v in enumerate(vols, 2):
                say(f"[{n}/{1 + len(vols)}] volume {v}")
                _tar(self.paths.volume(v), work / "volumes" / f"{v}.tar.gz", set())
            applied_vols = self.db.applied("Volume")
            _write_private(
                work / "manifest.json",
                json.dumps(
                    {"cell": doc, "volumes": {v: applied_vols.get(v) for v in vols}},
                    indent=2,
                    sort_keys=True,
                )
                + "\n",
            )
            size = sum(f.stat().st_size for f in work.rglob("*") if f.is_file())
            meta = {
                "id": backup_id,
                "cell": cell,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now or time.time())),
                "size": size,
                "path": str(final),
                "volumes": vols,
            }
            _write_private(work / "meta.json", json.dumps(meta, indent=2) + "\n")
            work.rename(final)
        return meta

    def restore(
        self, backup_id: str, *, yes: bool, progress: Callable[[str], None] | None = None
    ) -> dict[str, Any]:
        if not yes:
            raise InvalidArgument(
                f"restoring {backup_id} replaces the cell's files and volumes; confirm with --yes"
            )
        d = self._dir(backup_id)
        meta = _meta(d, backup_id)
        cell = meta["cell"]
        doc = self.db.applied("Cell").get(cell)
        if doc is None:
            raise NotFound(
                f"backup {backup_id} is of cell {cell}, which is not applied; "
                "apply it before restoring"
            )
        self._refuse_running(cell, "restore")
        # The mounts that are live now are left alone, whatever the backup says.
        mounts = [Mount.parse(m) for m in doc.get("mounts", [])]
        mounted = {m.volume for m in mounts}
        for v in meta["volumes"]:
            if v not in mounted:
                raise InvalidArgument(
                    f"backup {backup_id} holds volume {v}, which cell {cell} does not mount; "
                    "nothing was restored"
                )
        jobs = [
            (d / "volumes" / f"{v}.tar.gz", self.paths.volume(v), set[str]())
            for v in meta["volumes"]
        ]
        jobs.append((d / "overlay.tar.gz", self.paths.root(cell), _excluded(mounts)))
        for src, _, _ in jobs:
            if src.is_symlink() or not src.is_file():
                raise InvalidArgument(f"backup {backup_id}: {src.name} is missing or not a file")
        _replace_trees(jobs, progress=progress)
        return meta

    def delete(self, backup_id: str, *, yes: bool) -> dict[str, Any]:
        if not yes:
            raise InvalidArgument(f"deleting {backup_id} cannot be undone; confirm with --yes")
        d = self._dir(backup_id)
        shutil.rmtree(d)
        return {"id": backup_id}


def _replace_trees(
    jobs: list[tuple[Path, Path, set[str]]],
    policy: archive.Policy | None = None,
    progress: Callable[[str], None] | None = None,
) -> None:
    """For each (archive, dest, keep): make `dest` hold exactly the archive's
    files, leaving `keep` paths (relative, possibly nested, e.g. mount
    points) alone.  Every archive is extracted into a staging directory next
    to its destination first; no destination changes unless all extracted."""
    with contextlib.ExitStack() as stack:
        staged: list[tuple[Path, Path, set[str]]] = []
        for n, (src, dest, keep) in enumerate(jobs, 1):
            if progress is not None:
                progress(f"[{n}/{len(jobs)}] extracting {src.name}")
            dest.mkdir(parents=True, exist_ok=True)
            tmp = Path(
                stack.enter_context(
                    tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.restore-")
                )
            )
            (tmp / "new").mkdir()
            (tmp / "old").mkdir()
            archive.extract(src, tmp / "new", policy or archive.BACKUP)
            _check_kept(src, tmp / "new", keep)
            staged.append((tmp, dest, keep))
        for tmp, dest, keep in staged:
            _swap(dest, tmp / "new", tmp / "old", keep, "")
            shutil.copystat(tmp / "new", dest)


def _check_kept(src: Path, staged: Path, keep: set[str]) -> None:
    """Refuse an archive that puts a link or a file where a directory
    holding a kept path (a live mount point) is: the swap would have to
    descend through it."""
    for k in sorted(keep):
        parts = k.split("/")
        for i in range(1, len(parts)):
            p = staged.joinpath(*parts[:i])
            if p.is_symlink() or (p.exists() and not p.is_dir()):
                raise UnsafeArchive(
                    f"{src.name}: member './{'/'.join(parts[:i])}': not a directory, "
                    f"but it holds the mount point /{k}"
                )


def _swap(dest: Path, staged: Path, trash: Path, keep: set[str], prefix: str) -> None:
    def holds_kept(rel: str) -> bool:
        return any(k.startswith(rel + "/") for k in keep)

    for entry in list(dest.iterdir()):
        rel = prefix + entry.name
        if rel in keep:
            continue
        if holds_kept(rel) and entry.is_dir() and not entry.is_symlink():
            inner = staged / entry.name
            # The archive's entry may be a link (to a host directory, absolute
            # targets being allowed): never descend through it.
            if inner.is_dir() and not inner.is_symlink():
                _swap(entry, inner, trash, keep, rel + "/")
            continue
        entry.rename(Path(tempfile.mkdtemp(dir=trash)) / entry.name)
    for entry in list(staged.iterdir()):
        rel = prefix + entry.name
        if rel in keep or os.path.lexists(dest / entry.name):
            continue
        entry.rename(dest / entry.name)
