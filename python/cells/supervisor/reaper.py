"""Reap every child the supervisor starts, and only those.

One `ChildReaper` per supervisor watches its processes (services and
healthchecks alike) and resolves a future with the wait status when a
process exits.  It wakes on SIGCHLD (through the event loop, when the loop
runs in the main thread) and also polls on a timer, so a missed signal
only delays a reap.  It waits on known pids only (`waitpid(pid, WNOHANG)`
through `Popen.poll`), never on -1, so other code in the same process may
run its own subprocesses.  Caller: the supervisor engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess


class ChildReaper:
    """Watches started processes; `watch()` returns a future of the return code.

    The return code follows `subprocess`: the exit status, or minus the
    number of the signal that killed the process.
    """

    def __init__(self, poll_interval: float = 1.0, use_sigchld: bool = True) -> None:
        self._watched: dict[int, tuple[subprocess.Popen[bytes], asyncio.Future[int]]] = {}
        self._poll_interval = poll_interval
        self._use_sigchld = use_sigchld
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

    def watch(self, proc: subprocess.Popen[bytes]) -> asyncio.Future[int]:
        """Start watching `proc`; the future resolves once it has been reaped."""
        loop = self._ensure_running()
        future: asyncio.Future[int] = loop.create_future()
        self._watched[proc.pid] = (proc, future)
        self.poll()
        return future

    def poll(self) -> None:
        """Reap whatever of ours has exited."""
        for pid, (proc, future) in list(self._watched.items()):
            code = proc.poll()
            if code is None:
                continue
            del self._watched[pid]
            if not future.done():
                future.set_result(code)

    @property
    def watched(self) -> int:
        """How many processes are still waiting to be reaped."""
        return len(self._watched)

    async def close(self, grace: float = 1.0) -> None:
        """Kill and reap anything still watched, then stop listening."""
        if self._watched:
            for proc, _ in list(self._watched.values()):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    proc.kill()
            deadline = asyncio.get_running_loop().time() + grace
            while self._watched and asyncio.get_running_loop().time() < deadline:
                self.poll()
                await asyncio.sleep(0.01)
            for pid, (proc, future) in list(self._watched.items()):
                code = proc.wait()
                del self._watched[pid]
                if not future.done():
                    future.set_result(code)
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        if self._sigchld and self._loop is not None:
            self._loop.remove_signal_handler(signal.SIGCHLD)
            self._sigchld = False
        self._loop = None
