"""Builders for hostile layouts inside a cell root (see README.md)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

SECRET = "host secret: must never reach a cell\n"


@dataclass
class Sentinel:
    """A host file or directory outside the cell, whose state must not change."""

    path: Path
    state: tuple[int, int, int, int, str] = field(init=False)

    @classmethod
    def file(cls, path: Path) -> Sentinel:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SECRET)
        path.chmod(0o640)
        return cls(path)

    @classmethod
    def dir(cls, path: Path) -> Sentinel:
        path.mkdir(parents=True)
        path.chmod(0o750)
        (path / "kept").write_text(SECRET)
        return cls(path)

    def __post_init__(self) -> None:
        self.state = self._now()

    def _now(self) -> tuple[int, int, int, int, str]:
        st = self.path.lstat()
        if stat.S_ISDIR(st.st_mode):
            body = "\n".join(sorted(os.listdir(self.path)))
            body += "|" + (self.path / "kept").read_text()
        else:
            body = self.path.read_text()
        return st.st_mode, st.st_uid, st.st_gid, st.st_nlink, body

    def unchanged(self) -> bool:
        return self._now() == self.state


def plant(base: Path, rel: str, target: Path | str) -> Path:
    """A symlink at `base/rel` pointing at `target` (parents created)."""
    link = base / rel
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return link


def plant_fifo(base: Path, rel: str) -> Path:
    path = base / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path
