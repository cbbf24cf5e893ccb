"""Reap every child the supervisor starts, and only those.

One `ChildReaper` per supervisor watches its processes (services and
healthchecks alike).  It wakes on SIGCHLD (through the event loop, when the
loop runs in the main thread) and also polls on a timer, so a missed signal
only delays a reap.  It waits on known pids only, never on -1, so other
code in the same process may run its own subprocesses.

A watch can *hold* the exited process: the reaper then only notices the
exit (`waitid(..., WNOWAIT)`) and leaves the zombie in place until the
owner calls `reap()`.  While the zombie exists its pid, and so its process
group id, cannot be reused, so signalling what is left of the group is
never aimed at a stranger.  Where `waitid`/`WNOWAIT` is missing, the exit
is reaped at once and holding degrades to a plain watch.  Caller: the
supervisor engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import subprocess
from dataclasses import dataclass, field

_PEEK_FLAGS = (
    os.WEXITED | os.WNOHANG | os.WNOWAIT if hasattr(os, "waitid") and hasattr(os, "WNOWAIT") else 0
)


@dataclass(eq=False)
class Watch:
    """One watched process.

    `exited` resolves when the process has ended (a held one is then a
    zombie waiting for `ChildReaper.reap()`); `reaped` resolves with the
    return code once it is gone: the exit status, or minus the signal
    number that killed it (as `subprocess`).
    """

    proc: subprocess.Popen[bytes]
    hold: bool
    exited: asyncio.Future[None] = field(repr=False)
    reaped: asyncio.Future[int] = field(repr=False)

    @property
    def pid(self) -> int:
        return self.proc.pid


class ChildReaper:
    """Watches started processes and reaps them."""

    def __init__(self, poll_interval: float = 1.0, use_sigchld: bool = True) -> None:
        self._watched: dict[int, Watch] = {}
        self._poll_interval = poll_interval
        self._use_sigchld = use_sigchld
        self._can_peek = _PEEK_FLAGS != 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.Task[None] | None = None
        self._sigchld = False

    def _ensure_running(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return loop
        self._loop = loop
        interval = self._poll_interval
        if self._use_sigchld:
            try:
                loop.add_signal_handler(signal.SIGCHLD, self.poll)
                self._sigchld = True
            except (RuntimeError, ValueError, NotImplementedError):
                interval = min(interval, 0.1)
        else:
            interval = min(interval, 0.1)
        self._timer = loop.create_task(self._tick(interval))
        return loop

    async def _tick(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.poll()

    def watch(self, proc: subprocess.Popen[bytes], *, hold: bool = False) -> Watch:
        """Start watching `proc` (held: left a zombie until `reap()`)."""
        loop = self._ensure_running()
        watch = Watch(proc, hold, loop.create_future(), loop.create_future())
        self._watched[proc.pid] = watch
        self.poll()
        return watch

    def _peek(self, pid: int) -> bool:
        """True when `pid` has exited; the zombie is left in place."""
        try:
            return os.waitid(os.P_PID, pid, _PEEK_FLAGS) is not None
        except ChildProcessError:
            return True
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            self._can_peek = False
            return False

    def poll(self) -> None:
        """Notice exits and reap whatever is not held."""
        for watch in list(self._watched.values()):
            if watch.exited.done() and watch.hold:
                continue
            if watch.hold and self._can_peek:
                if self._peek(watch.pid):
                    watch.exited.set_result(None)
                    continue
                if self._can_peek:
                    continue
            code = watch.proc.poll()
            if code is not None:
                self._finish(watch, code)

    def _finish(self, watch: Watch, code: int) -> None:
        self._watched.pop(watch.pid, None)
        if not watch.exited.done():
            watch.exited.set_result(None)
        if not watch.reaped.done():
            watch.reaped.set_result(code)

    def reap(self, watch: Watch) -> int:
        """Reap a held process that has exited; return its code."""
        if watch.reaped.done():
            return watch.reaped.result()
        if not watch.exited.done():
            raise RuntimeError(f"process {watch.pid} has not exited; cannot reap it yet")
        code = watch.proc.wait()
        self._finish(watch, code)
        return code

    def release(self, watch: Watch) -> None:
        """Stop holding: the process is reaped as soon as it exits."""
        watch.hold = False
        if watch.exited.done() and not watch.reaped.done():
            self.reap(watch)

    def signal(self, watch: Watch, sig: int) -> None:
        """Signal the process itself, only while it cannot have been reaped."""
        if watch.reaped.done():
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(watch.pid, sig)

    @property
    def watched(self) -> int:
        """How many processes are not reaped yet."""
        return len(self._watched)

    async def close(self, grace: float = 1.0) -> None:
        """Kill and reap anything still watched, then stop listening."""
        for watch in list(self._watched.values()):
            watch.hold = False
            self.signal(watch, signal.SIGKILL)
        if self._watched:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + grace
            while self._watched and loop.time() < deadline:
                self.poll()
                await asyncio.sleep(0.01)
            for watch in list(self._watched.values()):
                self._finish(watch, watch.proc.wait())
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        if self._sigchld and self._loop is not None:
            self._loop.remove_signal_handler(signal.SIGCHLD)
            self._sigchld = False
        self._loop = None
