"""Provision steps: idempotent changes inside a cell's root.

Each kind has a `check` (would it change anything? read-only, used by facts
so the plan can show it) and a `run` (make it so; reports changed or not).
Paths are inside the cell, and every file there is the cell's to change:
each read and write goes through `cells.mgr.safefs`, which never follows a
symlink and never opens anything but a regular file, so a link or fifo the
cell planted fails the step with one line naming the path.  `patch` runs
patch(1) on a private copy and writes the result back the same way.  On
NetBSD `pkg` and `exec` run inside the cell (`cellctl exec`: chrooted and
entered, so the policy confines them); on the sim they run on the host
with the cell root as working directory and in $CELL_ROOT (the sim
enforces nothing).  Callers: facts (check), apply (run).
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cells.errors import CellsError
from cells.mgr.host import Host
from cells.mgr.model import Cell, Step
from cells.mgr.paths import Paths
from cells.mgr.safefs import Dir, UnsafePath, parts_of


class StepError(CellsError):
    """A step could not be checked or run."""


@dataclass(frozen=True)
class StepResult:
    index: int
    step: str
    changed: bool


@dataclass(frozen=True)
class CellFS:
    """A cell's root as provision steps see it.  `mounts` are the cell's
    volume mounts (cell path, host directory, read-only): a path under a
    mount target is resolved in the volume's own directory, so the mount
    (a symlink on the sim) is never followed.  Every other path is walked
    from the root without following a symlink (`cells.mgr.safefs`)."""

    root: Path
    host: Host
    mounts: tuple[tuple[str, Path, bool], ...] = ()
    #: The cell's name: `pkg` and `exec` run inside it.
    cell: str | None = None

    @classmethod
    def of(cls, paths: Paths, host: Host, cell: Cell) -> CellFS:
        return cls(
            paths.root(cell.name),
            host,
            tuple((m.target, paths.volume(m.volume), m.mode == "ro") for m in cell.mounts),
            cell.name,
        )

    def locate(self, path: str) -> tuple[Path, str, tuple[str, ...], bool]:
        """(base directory, its cell path, the components below it, read-only)."""
        parts = parts_of(path)
        best: tuple[Path, str, tuple[str, ...], bool] = (self.root, "/", parts, False)
        depth = 0
        for target, vol, ro in self.mounts:
            tparts = parts_of(target)
            if len(tparts) > depth and parts[: len(tparts)] == tparts:
                depth = len(tparts)
                best = (vol, "/" + "/".join(tparts), parts[depth:], ro)
        return best

    @contextmanager
    def parent(
        self, path: str, *, create: bool = False, write: bool = False
    ) -> Iterator[tuple[Dir, str]]:
        """The directory holding `path` (reached without following a link) and
        the final name; missing parents are created when `create`.  For a
        write (`create` or `write`) a path on a read-only mount is refused."""
        base, label, parts, ro = self.locate(path)
        if not parts:
            raise UnsafePath(
                f"{path}: is a mount point; its mode and owner belong in the Volume manifest"
                if label != "/"
                else f"{path or '/'}: names the cell's root itself"
            )
        if ro and (create or write):
            raise UnsafePath(f"{path}: is on the read-only mount {label}")
        with Dir.open(base, label) as top, top.walk(parts[:-1], create=create) as d:
            yield d, parts[-1]


def _ids_in_cell(fs: CellFS, owner: str) -> tuple[int, int]:
    """USER[:GROUP] resolved in the cell's own etc/passwd and etc/group."""
    user, _, group = owner.partition(":")

    def table(name: str) -> dict[str, list[str]]:
        try:
            with fs.parent(f"/etc/{name}") as (d, base):
                data = d.read_bytes(base, limit=4 << 20)
        except OSError:
            return {}
        lines = (data or b"").decode("utf-8", "replace").splitlines()
        return {f[0]: f for f in (line.split(":") for line in lines) if len(f) > 3}

    passwd = table("passwd")
    try:
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
    except ValueError:
        raise StepError(
            f"owner {owner}: the cell's /etc/passwd or /etc/group is malformed"
        ) from None
    return uid, gid


def _owner(step: Step, fs: CellFS) -> tuple[int, int] | None:
    owner = step.get("owner")
    return None if owner is None else _ids_in_cell(fs, owner)


def _owner_differs(step: Step, fs: CellFS, st: os.stat_result) -> bool:
    want = _owner(step, fs)
    return want is not None and (st.st_uid, st.st_gid) != want


def _mode(step: Step) -> int | None:
    m = step.get("mode")
    return None if m is None else int(m, 8)


def _mode_differs(st: os.stat_result, want: int | None) -> bool:
    return want is not None and (st.st_mode & 0o7777) != want


# --- the kinds ---------------------------------------------------------------


def _file_check(step: Step, fs: CellFS) -> bool:
    try:
        with fs.parent(step.get("path")) as (d, name):
            st = d.lstat(name)
            if st is None or not stat.S_ISREG(st.st_mode):
                return True
            data = d.read_bytes(name) or b""
    except FileNotFoundError:
        return True
    return (
        data.decode("utf-8", "replace") != step.get("content")
        or _mode_differs(st, _mode(step))
        or _owner_differs(step, fs, st)
    )


def _file_run(step: Step, fs: CellFS) -> None:
    owner = _owner(step, fs)
    with fs.parent(step.get("path"), create=True) as (d, name):
        mode = _mode(step)
        d.write_file(name, step.get("content").encode(), 0o644 if mode is None else mode, owner)


def _dir_check(step: Step, fs: CellFS) -> bool:
    try:
        with fs.parent(step.get("path")) as (d, name):
            st = d.lstat(name)
    except FileNotFoundError:
        return True
    return (
        st is None
        or not stat.S_ISDIR(st.st_mode)
        or _mode_differs(st, _mode(step))
        or _owner_differs(step, fs, st)
    )


def _dir_run(step: Step, fs: CellFS) -> None:
    owner = _owner(step, fs)
    mode = _mode(step)
    with fs.parent(step.get("path"), create=True) as (d, name), d.mkdir(name) as sub:
        if owner is not None:
            os.fchown(sub.fd, *owner)
        if mode is not None:
            os.fchmod(sub.fd, mode)


def _line_result(step: Step, fs: CellFS) -> str | None:
    """The file's new text, or None when the line is already right."""
    try:
        with fs.parent(step.get("path")) as (d, name):
            data = d.read_bytes(name)
    except FileNotFoundError:
        data = None
    text = (data or b"").decode("utf-8", "replace")
    want: str = step.get("line")
    lines = text.splitlines()
    pattern = step.get("match")
    if pattern is not None:
        rx = re.compile(pattern)
        for i, line in enumerate(lines):
            if rx.search(line):
                if line == want:
                    return None
                lines[i] = want
                return "\n".join(lines) + "\n"
    if want in lines:
        return None
    return text + ("" if text.endswith("\n") or not text else "\n") + want + "\n"


def _line_check(step: Step, fs: CellFS) -> bool:
    return _line_result(step, fs) is not None


def _line_run(step: Step, fs: CellFS) -> None:
    text = _line_result(step, fs)
    if text is None:
        return
    with fs.parent(step.get("path"), create=True) as (d, name):
        st = d.lstat(name)
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise UnsafePath(f"{step.get('path')}: not a regular file")
        mode = 0o644 if st is None else st.st_mode & 0o7777
        owner = None if st is None else (st.st_uid, st.st_gid)
        d.write_file(name, text.encode(), mode, owner)


def _symlink_check(step: Step, fs: CellFS) -> bool:
    try:
        with fs.parent(step.get("path")) as (d, name):
            return d.readlink(name) != str(step.get("target"))
    except FileNotFoundError:
        return True


def _symlink_run(step: Step, fs: CellFS) -> None:
    with fs.parent(step.get("path"), create=True) as (d, name):
        d.symlink(name, step.get("target"))


def _patched(step: Step, fs: CellFS, *args: str) -> tuple[bool, bytes, os.stat_result]:
    """Run patch(1) on a private copy of the file: (applies?, new content, old stat)."""
    path = step.get("path")
    try:
        with fs.parent(path) as (d, name):
            st = d.lstat(name)
            data = d.read_bytes(name)
    except FileNotFoundError:
        data = None
    if data is None or st is None:
        raise StepError(f"patch {path}: no such file in the cell")
    with tempfile.TemporaryDirectory(prefix="cellmgr-patch-") as tmp:
        copy = Path(tmp) / "file"
        copy.write_bytes(data)
        proc = subprocess.run(
            ["patch", "-s", "-f", "-N", *args, str(copy)],
            input=step.get("diff"),
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp,
        )
        return proc.returncode == 0, copy.read_bytes(), st


def _patch_check(step: Step, fs: CellFS) -> bool:
    if _patched(step, fs, "--dry-run", "-R")[0]:
        return False
    if not _patched(step, fs, "--dry-run")[0]:
        raise StepError(
            f"patch {step.get('path')}: the diff does not apply; "
            "update it to the file's current content"
        )
    return True


def _patch_run(step: Step, fs: CellFS) -> None:
    ok, data, st = _patched(step, fs)
    if not ok:
        raise StepError(f"patch {step.get('path')}: the diff does not apply")
    with fs.parent(step.get("path"), write=True) as (d, name):
        d.write_file(name, data, st.st_mode & 0o7777, (st.st_uid, st.st_gid))


def _pkg_check(step: Step, fs: CellFS) -> bool:
    return not fs.host.pkg_installed(fs.root, step.get("name"), fs.cell)


def _pkg_run(step: Step, fs: CellFS) -> None:
    fs.host.pkg_add(fs.root, step.get("name"), fs.cell)


def _exec_check(step: Step, fs: CellFS) -> bool:
    creates = step.get("creates")
    if creates is not None:
        try:
            with fs.parent(creates) as (d, name):
                if d.lstat(name) is not None:
                    return False
        except FileNotFoundError:
            pass
    unless = step.get("unless")
    if unless is not None:
        status, _ = fs.host.run_in(fs.root, unless, fs.cell)
        if status == 0:
            return False
    return True


def _exec_run(step: Step, fs: CellFS) -> None:
    status, out = fs.host.run_in(fs.root, step.get("command"), fs.cell)
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
    except UnsafePath as e:
        raise StepError(f"{step.describe()}: {e}") from None
    except OSError as e:
        raise StepError(f"{step.describe()}: {_os_reason(e)}") from None


def run_step(index: int, step: Step, fs: CellFS) -> StepResult:
    if not would_change(step, fs):
        return StepResult(index, step.describe(), False)
    try:
        KINDS[step.kind][1](step, fs)
    except UnsafePath as e:
        raise StepError(f"{step.describe()}: {e}") from None
    except OSError as e:
        raise StepError(f"{step.describe()}: {_os_reason(e)}") from None
    return StepResult(index, step.describe(), True)


def _os_reason(e: OSError) -> str:
    where = f"{e.filename}: " if isinstance(e.filename, str) and e.filename.startswith("/") else ""
    return where + (e.strerror or str(e))
