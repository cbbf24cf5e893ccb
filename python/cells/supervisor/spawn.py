"""Fork and exec one process of a service in its own session and process group.

`spawn()` starts argv with the child-setup step of
`cells.supervisor.childsetup` as `preexec_fn`, stdin from /dev/null and
stdout/stderr to pipes (or /dev/null).  The new process is a session and
process-group leader, so a signal to the group reaches the whole service
tree.  A setup failure comes back as one `SpawnError` line read from a
report pipe; an exec failure as one line too.  The caller owns the child
from then on and must reap it (`cells.supervisor.reaper`).

`subprocess.Popen` does the fork/exec (and reaps a child that never got
to exec); asyncio's own subprocess support is not used because its default
child watcher costs a thread per child.  Caller: the supervisor engine.

Why `preexec_fn` in a daemon with threads: the child must chroot, enter
the cell and set rlimits, none of which `subprocess` can express, and its
own user/group switch runs *before* `preexec_fn` (a chroot after setuid
fails), so the whole sequence stays in one step.  It is kept safe by what
it does: only system calls (chroot, chdir, setrlimit, setgroups, setgid,
setuid, write, and the kernel's `enter`: one sysctl on NetBSD, plain files
on the sim), no lock, no logging, no SQLite, no import.  `subprocess`
disables the garbage collector across the fork, so no finalizer runs in
the child, and CPython re-initialises its own locks there.  A lock held by
another thread at the fork is never touched.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from cells.errors import CellsError
from cells.supervisor.childsetup import ChildSetup


class SpawnError(CellsError):
    """The process could not be started; the message is one line."""


@dataclass
class Spawned:
    """A started process and the parent's ends of its output pipes."""

    proc: subprocess.Popen[bytes]
    stdout: int | None
    stderr: int | None

    @property
    def pid(self) -> int:
        return self.proc.pid


def spawn(
    argv: tuple[str, ...],
    setup: ChildSetup,
    env: dict[str, str],
    *,
    capture: bool = True,
) -> Spawned:
    """Start `argv` after `setup`; raise `SpawnError` with one line on failure."""
    fds: list[int] = []
    try:
        for _ in range(3 if capture else 1):
            fds.extend(os.pipe())
    except OSError as exc:
        _close(*fds)
        raise SpawnError(f"cannot start {argv[0]} in {setup.label}: {exc.strerror}") from None
    report_r, report_w = fds[0], fds[1]
    out_r, out_w, err_r, err_w = fds[2:6] if capture else (-1, -1, -1, -1)

    def child_setup() -> None:
        setup.run(report_w)

    try:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out_w if capture else subprocess.DEVNULL,
                stderr=err_w if capture else subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                preexec_fn=child_setup,
                close_fds=True,
            )
        finally:
            os.close(report_w)
            for fd in (out_w, err_w):
                if fd >= 0:
                    os.close(fd)
    except subprocess.SubprocessError:
        reason = _read_report(report_r) or f"cannot start in {setup.label}"
        _close(out_r, err_r)
        raise SpawnError(reason) from None
    except (OSError, ValueError) as exc:
        _read_report(report_r)
        _close(out_r, err_r)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SpawnError(f"cannot run {argv[0]} in {setup.label}: {reason}") from None
    os.close(report_r)
    if not capture:
        return Spawned(proc, None, None)
    return Spawned(proc, out_r, err_r)


def _read_report(fd: int) -> str:
    chunks = []
    try:
        while True:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace").strip().replace("\n", " ")


def _close(*fds: int) -> None:
    for fd in fds:
        if fd >= 0:
            os.close(fd)
