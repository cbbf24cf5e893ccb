"""Provision steps: idempotent changes inside a cell's root.

Each kind has a `check` (would it change anything? read-only, used by facts
so the plan can show it) and a `run` (make it so; reports changed or not).
Paths are inside the cell: they are resolved under its root and may not
escape it.  On NetBSD `pkg` and `exec` run chrooted into the cell; on the
sim they run on the host with the cell root as working directory and in
$CELL_ROOT (the sim enforces nothing).  Callers: facts (check), apply (run).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cells.errors import CellsError
from cells.mgr.host import Host
from cells.mgr.model import Step


class StepError(CellsError):
    """A step could not be checked or run."""


@dataclass(frozen=True)
class StepResult:
    index: int
    step: str
    changed: bool


@dataclass(frozen=True)
class CellFS:
    """A cell's root as provision steps see it.  `volumes` are the host
    directories mounted into the cell (symlinked on the sim), which paths
    may also resolve into."""

    root: Path
    host: Host
    volumes: tuple[Path, ...] = ()

    def path(self, path: str) -> Path:
        """`path` (absolute, inside the cell) as a host path under the root."""
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise StepError(f"{path}: '..' is not allowed in a cell path")
        target = self.root.joinpath(*parts)
        parent = os.path.realpath(target.parent)
        for base in (self.root, *self.volumes):
            real = os.path.realpath(base)
            if parent == real or parent.startswith(real + os.sep):
                return target
        raise StepError(f"{path}: resolves outside the cell root")


def _ids_in_cell(root: Path, owner: str) -> tuple[int, int]:
    """USER[:GROUP] resolved in the cell's own etc/passwd and etc/group."""
    user, _, group = owner.partition(":")

    def table(name: str) -> dict[str, list[str]]:
        try:
            lines = (root / "etc" / name).read_text().splitlines()
        except OSError:
            return {}
        return {f[0]: f for f in (line.split(":") for line in lines) if len(f) > 3}

    passwd = table("passwd")
    if user.isdigit():
        uid, gid = int(user), int(user)
    elif user in passwd:
        uid, gid = int(passwd[user][2]), int(passwd[user][3])
    else:
        raise StepError(f"owner {owner}: no user {user!r} in the cell's /etc/passwd")
    if group:
        groups = table("group")
        if group.isdigit():
            gid = int(group)
        elif group in groups:
            gid = int(groups[group][2])
        else:
            raise StepError(f"owner {owner}: no group {group!r} in the cell's /etc/group")
    return uid, gid


def _owner_differs(step: Step, fs: CellFS, p: Path) -> bool:
    owner = step.get("owner")
    if owner is None:
        return False
    st = p.lstat()
    return (st.st_uid, st.st_gid) != _ids_in_cell(fs.root, owner)


def _chown(step: Step, fs: CellFS, p: Path) -> None:
    owner = step.get("owner")
    if owner is not None:
        os.lchown(p, *_ids_in_cell(fs.root, owner))


def _mode(step: Step) -> int | None:
    m = step.get("mode")
    return None if m is None else int(m, 8)


def _mode_differs(p: Path, want: int | None) -> bool:
    return want is not None and (p.lstat().st_mode & 0o7777) != want


def _write_atomic(p: Path, data: str, mode: int | None) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".cellmgr-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(data)
        os.chmod(tmp, mode if mode is not None else 0o644)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --- the kinds ---------------------------------------------------------------


def _file_check(step: Step, fs: CellFS) -> bool:
    p = fs.path(step.get("path"))
    if p.is_symlink() or not p.is_file():
        return True
    return (
        p.read_text(errors="replace") != step.get("content")
        or _mode_differs(p, _mode(step))
        or _owner_differs(step, fs, p)
    )


def _file_run(step: Step, fs: CellFS) -> None:
    p = fs.path(step.get("path"))
    if p.is_symlink():
        p.unlink()
    _write_atomic(p, step.get("content"), _mode(step))
    _chown(step, fs, p)


def _dir_check(step: Step, fs: CellFS) -> bool:
    p = fs.path(step.get("path"))
    return (
        p.is_symlink()
        or not p.is_dir()
        or _mode_differs(p, _mode(step))
        or _owner_differs(step, fs, p)
    )


def _dir_run(step: Step, fs: CellFS) -> None:
    p = fs.path(step.get("path"))
    p.mkdir(parents=True, exist_ok=True)
    if _mode(step) is not None:
        os.chmod(p, _mode(step) or 0)
    _chown(step, fs, p)


def _line_result(step: Step, fs: CellFS) -> tuple[Path, str | None]:
    """The file and its new text, or None when the line is already right."""
    p = fs.path(step.get("path"))
    text = p.read_text() if p.is_file() else ""
    want = step.get("line")
    lines = text.splitlines()
    pattern = step.get("match")
    if pattern is not None:
        rx = re.compile(pattern)
        for i, line in enumerate(lines):
            if rx.search(line):
                if line == want:
                    return p, None
                lines[i] = want
                return p, "\n".join(lines) + "\n"
    if want in lines:
        return p, None
    return p, text + ("" if text.endswith("\n") or not text else "\n") + want + "\n"


def _line_check(step: Step, fs: CellFS) -> bool:
    return _line_result(step, fs)[1] is not None


def _line_run(step: Step, fs: CellFS) -> None:
    p, text = _line_result(step, fs)
    if text is not None:
        mode = p.stat().st_mode & 0o7777 if p.exists() else None
        _write_atomic(p, text, mode)


def _symlink_check(step: Step, fs: CellFS) -> bool:
    p = fs.path(step.get("path"))
    return not p.is_symlink() or os.readlink(p) != step.get("target")


def _symlink_run(step: Step, fs: CellFS) -> None:
    p = fs.path(step.get("path"))
    if p.is_symlink() or p.is_file():
        p.unlink()
    elif p.exists():
        raise StepError(f"symlink {step.get('path')}: a directory is in the way")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.symlink_to(step.get("target"))


def _patch(step: Step, fs: CellFS, *args: str) -> bool:
    p = fs.path(step.get("path"))
    if not p.is_file():
        raise StepError(f"patch {step.get('path')}: no such file in the cell")
    proc = subprocess.run(
        ["patch", "-s", "-f", "-N", *args, str(p)],
        input=step.get("diff"),
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode == 0


def _patch_check(step: Step, fs: CellFS) -> bool:
    if _patch(step, fs, "--dry-run", "-R"):
        return False
    if not _patch(step, fs, "--dry-run"):
        raise StepError(
            f"patch {step.get('path')}: the diff does not apply; "
            "update it to the file's current content"
        )
    return True


def _patch_run(step: Step, fs: CellFS) -> None:
    if not _patch(step, fs):
        raise StepError(f"patch {step.get('path')}: the diff does not apply")


def _pkg_check(step: Step, fs: CellFS) -> bool:
    return not fs.host.pkg_installed(fs.root, step.get("name"))


def _pkg_run(step: Step, fs: CellFS) -> None:
    fs.host.pkg_add(fs.root, step.get("name"))


def _exec_check(step: Step, fs: CellFS) -> bool:
    creates = step.get("creates")
    if creates is not None and os.path.lexists(fs.path(creates)):
        return False
    unless = step.get("unless")
    if unless is not None:
        status, _ = fs.host.run_in(fs.root, unless)
        if status == 0:
            return False
    return True


def _exec_run(step: Step, fs: CellFS) -> None:
    status, out = fs.host.run_in(fs.root, step.get("command"))
    if status != 0:
        last = out.splitlines()[-1] if out else ""
        raise StepError(
            f"exec {' '.join(step.get('command'))}: exit status {status}"
            + (f": {last}" if last else "")
        )


Check = Callable[[Step, "CellFS"], bool]
Run = Callable[[Step, "CellFS"], None]

KINDS: dict[str, tuple[Check, Run]] = {
    "pkg": (_pkg_check, _pkg_run),
    "file": (_file_check, _file_run),
    "dir": (_dir_check, _dir_run),
    "line": (_line_check, _line_run),
    "symlink": (_symlink_check, _symlink_run),
    "patch": (_patch_check, _patch_run),
    "exec": (_exec_check, _exec_run),
}


def would_change(step: Step, fs: CellFS) -> bool:
    try:
        return KINDS[step.kind][0](step, fs)
    except OSError as e:
        raise StepError(f"{step.describe()}: {e.strerror or e}") from None


def run_step(index: int, step: Step, fs: CellFS) -> StepResult:
    if not would_change(step, fs):
        return StepResult(index, step.describe(), False)
    try:
        KINDS[step.kind][1](step, fs)
    except OSError as e:
        raise StepError(f"{step.describe()}: {e.strerror or e}") from None
    return StepResult(index, step.describe(), True)
