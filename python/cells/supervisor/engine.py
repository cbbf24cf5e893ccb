"""`Supervisor`: many services supervised by one asyncio event loop.

The public API of the engine.  Services are added as `ServiceSpec`s and
started, stopped, restarted and inspected by name; every state or health
change is passed to the `on_event` callback (the cellmgr daemon forwards
those to its UIs).  One supervisor costs one reaper and, per running
service, one asyncio task and two pipe readers: no thread and no extra
process per service.  Callers: `cellctl supervise`, the cellmgr daemon.

Given a `run_dir`, the engine keeps a record of every running service
process there (`cells.supervisor.runrecord`); before its first service
starts it stops the process groups a previous supervisor on the same run
dir left running when it died without stopping them (SIGKILL), and
reports each as a `leftover` event.

Use it inside a running loop::

    sup = Supervisor(kernel=kernel, on_event=print)
    sup.add(spec)
    await sup.start(spec.name)
    await sup.run()          # until sup.shutdown(); then everything stops

or call `await sup.close()` yourself when done.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Sequence

from cells.errors import AlreadyExists, InvalidArgument, NotFound
from cells.kernel.api import Kernel
from cells.supervisor.reaper import ChildReaper
from cells.supervisor.runrecord import RunRecords
from cells.supervisor.service import RunnerContext, ServiceRunner
from cells.supervisor.spec import ServiceSpec, validate_spec
from cells.supervisor.status import ServiceEvent, ServiceStatus

EventCallback = Callable[[ServiceEvent], None]


class Supervisor:
    """Supervises services by name.  All methods run in the event loop's thread."""

    def __init__(
        self,
        *,
        kernel: Kernel | None = None,
        on_event: EventCallback | None = None,
        use_sigchld: bool = True,
        run_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self._services: dict[str, ServiceRunner] = {}
        self._on_event = on_event
        self._reaper = ChildReaper(use_sigchld=use_sigchld)
        self._records = None if run_dir is None else RunRecords(run_dir)
        self._leftovers_checked = self._records is None
        self._leftovers_lock = asyncio.Lock()
        self._ctx = RunnerContext(
            reaper=self._reaper, kernel=kernel, emit=self._emit, records=self._records
        )
        self._shutdown: asyncio.Event | None = None
        self.event_errors = 0

    def _emit(self, event: ServiceEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            self.event_errors += 1

    def _get(self, name: str) -> ServiceRunner:
        try:
            return self._services[name]
        except KeyError:
            raise NotFound(f"no service named {name!r} in this supervisor") from None

    # -- the set of services ---------------------------------------------------

    def add(self, spec: ServiceSpec) -> None:
        """Register a service (stopped).  Raises on a bad spec or a duplicate name."""
        validate_spec(spec)
        if spec.cell is not None and self._ctx.kernel is None:
            raise InvalidArgument(
                f"service {spec.name!r} runs in cell {spec.cell}: "
                "give the supervisor a kernel backend (open_kernel())"
            )
        if spec.name in self._services:
            raise AlreadyExists(f"service {spec.name!r} is already supervised")
        self._services[spec.name] = ServiceRunner(spec, self._ctx)

    async def remove(self, name: str) -> None:
        """Stop the service if needed and forget it."""
        runner = self._get(name)
        await runner.stop()
        del self._services[name]

    def names(self) -> list[str]:
        return list(self._services)

    def spec(self, name: str) -> ServiceSpec:
        return self._get(name).spec

    # -- control -------------------------------------------------------------

    async def start(self, name: str) -> ServiceStatus:
        """Start supervising; returns the status after the first spawn attempt.

        Starting a service that is already up does nothing.  A manual start
        resets its restart counters.
        """
        runner = self._get(name)
        await self.stop_leftovers()
        await runner.start()
        return runner.status()

    async def stop_leftovers(self) -> list[str]:
        """Stop what a dead supervisor on our run dir left running (once).

        Called by the first `start()`; returns one line per process group
        stopped, each also reported as a `leftover` event.
        """
        async with self._leftovers_lock:
            if self._leftovers_checked or self._records is None:
                return []
            lines = await self._records.stop_leftovers()
            self._leftovers_checked = True
        for service, line in lines:
            status = ServiceStatus(
                name=service,
                cell=None,
                state="stopped",
                pid=None,
                restarts=0,
                health_restarts=0,
                exit_code=None,
                exit_signal=None,
                health="unknown",
                since=time.time(),
                started_at=None,
                health_since=None,
                message=line,
            )
            self._emit(ServiceEvent(service, "stopped", status, line, leftover=True))
        return [line for _, line in lines]

    async def stop(self, name: str) -> ServiceStatus:
        """Stop the service and its process group; returns once it is down."""
        runner = self._get(name)
        await runner.stop()
        return runner.status()

    async def restart(self, name: str) -> ServiceStatus:
        runner = self._get(name)
        await runner.stop()
        await runner.start()
        return runner.status()

    def status(self, name: str) -> ServiceStatus:
        return self._get(name).status()

    def statuses(self) -> list[ServiceStatus]:
        return [runner.status() for runner in self._services.values()]

    async def stop_all(self, order: Sequence[str | Sequence[str]] | None = None) -> None:
        """Stop every service.

        `order` lists names (or groups of names stopped together) in the
        order to stop them: dependents before what they depend on.  Names
        not listed are stopped together afterwards.
        """
        waves: list[list[str]] = []
        listed: set[str] = set()
        for item in order or ():
            wave = [item] if isinstance(item, str) else list(item)
            for name in wave:
                self._get(name)
            waves.append(wave)
            listed.update(wave)
        rest = [name for name in self._services if name not in listed]
        if rest:
            waves.append(rest)
        for wave in waves:
            await asyncio.gather(*(self._services[name].stop() for name in wave))

    # -- the loop --------------------------------------------------------------

    def shutdown(self) -> None:
        """Ask `run()` to stop everything and return (safe from a signal handler)."""
        if self._shutdown is None:
            self._shutdown = asyncio.Event()
        self._shutdown.set()

    async def run(self, order: Sequence[str | Sequence[str]] | None = None) -> None:
        """Supervise until `shutdown()`, then stop all (in `order`) and close."""
        if self._shutdown is None:
            self._shutdown = asyncio.Event()
        try:
            await self._shutdown.wait()
        finally:
            with contextlib.suppress(Exception):
                await self.stop_all(order)
            await self.close()

    async def wait_down(self, name: str) -> ServiceStatus:
        """Wait until the service has stopped, exited or failed for good."""
        runner = self._get(name)
        await runner.wait()
        return runner.status()

    async def close(self) -> None:
        """Stop every service and reap every process; the supervisor can be reused."""
        await self.stop_all()
        await self._reaper.close()

    @property
    def unreaped(self) -> int:
        """Processes started and not yet reaped (0 once closed)."""
        return self._reaper.watched
