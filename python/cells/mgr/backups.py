"""Backups of a cell: its overlay and its volumes as tar archives, plus the
manifests that were applied, in one timestamped directory per backup.

Layout: `<backup dir>/<cell>-<YYYYmmddTHHMMSSZ>/` with `overlay.tar.gz`
(the cell's own files: not the shared base, /dev or volume mounts),
`volumes/<name>.tar.gz`, `manifest.json` and `meta.json`.  Creating and
restoring are refused while the cell runs anything; restore and delete
need an explicit yes.  Callers: cellmgr backup, the daemon (IPC).
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cells.errors import Busy, InvalidArgument, NotFound
from cells.mgr.host import RO_DIRS
from cells.mgr.journal import StateDB
from cells.mgr.model import Mount
from cells.mgr.paths import Paths

#: Answers "is this cell running anything?" (service or kernel members).
RunningCheck = Callable[[str], bool]


def _excluded(mounts: list[Mount]) -> set[str]:
    out = {*RO_DIRS, "dev"}
    out.update(m.target.strip("/") for m in mounts)
    return out


def _tar(src: Path, dest: Path, skip: set[str]) -> None:
    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        rel = info.name.removeprefix("./")
        return None if rel in skip or any(rel.startswith(s + "/") for s in skip) else info

    with tarfile.open(dest, "w:gz") as tar:
        tar.add(src, arcname=".", filter=keep)


def _meta(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path / "meta.json").read_text())
    return data


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
        if not self.paths.backup_dir.is_dir():
            return []
        out = []
        for d in sorted(self.paths.backup_dir.iterdir()):
            if (d / "meta.json").is_file():
                meta = _meta(d)
                if cell is None or meta["cell"] == cell:
                    out.append(meta)
        return sorted(out, key=lambda m: (m["created"], m["id"]))

    def _dir(self, backup_id: str) -> Path:
        d = self.paths.backup_dir / backup_id
        if "/" in backup_id or backup_id.startswith(".") or not (d / "meta.json").is_file():
            raise NotFound(
                f"no backup {backup_id!r} in {self.paths.backup_dir}; see 'cellmgr backup list'"
            )
        return d

    def create(self, cell: str, now: float | None = None) -> dict[str, Any]:
        doc = self._applied(cell)
        self._refuse_running(cell, "back it up")
        mounts = [Mount.parse(m) for m in doc.get("mounts", [])]
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now or time.time()))
        self.paths.backup_dir.mkdir(parents=True, exist_ok=True)
        backup_id, n = f"{cell}-{stamp}", 1
        while (self.paths.backup_dir / backup_id).exists():
            n += 1
            backup_id = f"{cell}-{stamp}-{n}"
        final = self.paths.backup_dir / backup_id
        with tempfile.TemporaryDirectory(dir=self.paths.backup_dir, prefix=".new-") as tmp:
            work = Path(tmp) / "b"
            (work / "volumes").mkdir(parents=True)
            _tar(self.paths.root(cell), work / "overlay.tar.gz", _excluded(mounts))
            vols = sorted({m.volume for m in mounts})
            for v in vols:
                _tar(self.paths.volume(v), work / "volumes" / f"{v}.tar.gz", set())
            applied_vols = self.db.applied("Volume")
            (work / "manifest.json").write_text(
                json.dumps(
                    {"cell": doc, "volumes": {v: applied_vols.get(v) for v in vols}},
                    indent=2,
                    sort_keys=True,
                )
                + "\n"
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
            (work / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
            work.rename(final)
        return meta

    def restore(self, backup_id: str, *, yes: bool) -> dict[str, Any]:
        if not yes:
            raise InvalidArgument(
                f"restoring {backup_id} replaces the cell's files and volumes; confirm with --yes"
            )
        d = self._dir(backup_id)
        meta = _meta(d)
        cell = meta["cell"]
        self._refuse_running(cell, "restore")
        doc = json.loads((d / "manifest.json").read_text())["cell"]
        mounts = [Mount.parse(m) for m in doc.get("mounts", [])]
        for v in meta["volumes"]:
            _replace_tree(d / "volumes" / f"{v}.tar.gz", self.paths.volume(v), set())
        _replace_tree(d / "overlay.tar.gz", self.paths.root(cell), _excluded(mounts))
        return meta

    def delete(self, backup_id: str, *, yes: bool) -> dict[str, Any]:
        if not yes:
            raise InvalidArgument(f"deleting {backup_id} cannot be undone; confirm with --yes")
        d = self._dir(backup_id)
        meta = _meta(d)
        shutil.rmtree(d)
        return meta


def _replace_tree(archive: Path, dest: Path, keep: set[str]) -> None:
    """Make `dest` hold exactly the archive's files, leaving `keep` paths
    (relative, possibly nested, e.g. mount points) alone."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.restore-") as tmp:
        staged = Path(tmp) / "new"
        staged.mkdir()
        with tarfile.open(archive) as tar:
            tar.extractall(staged, filter="tar")
        trash = Path(tmp) / "old"
        trash.mkdir()
        _swap(dest, staged, trash, keep, "")
        shutil.copystat(staged, dest)


def _swap(dest: Path, staged: Path, trash: Path, keep: set[str], prefix: str) -> None:
    def holds_kept(rel: str) -> bool:
        return any(k.startswith(rel + "/") for k in keep)

    for entry in list(dest.iterdir()):
        rel = prefix + entry.name
        if rel in keep:
            continue
        if holds_kept(rel) and entry.is_dir() and not entry.is_symlink():
            inner = staged / entry.name
            if inner.is_dir():
                _swap(entry, inner, trash, keep, rel + "/")
            continue
        entry.rename(Path(tempfile.mkdtemp(dir=trash)) / entry.name)
    for entry in list(staged.iterdir()):
        rel = prefix + entry.name
        if rel in keep or (dest / entry.name).exists():
            continue
        entry.rename(dest / entry.name)
