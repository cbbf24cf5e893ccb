"""The life of one supervised service: spawn, watch, stop, restart, health.

A `ServiceRunner` owns one asyncio task while the service is wanted up; the
task is the only code that touches the service's process, so stop, exit,
health failure and backoff cannot race.  Every state and health change is
published through the supervisor's event callback.  Caller:
`cells.supervisor.engine.Supervisor` (the public API).

Process handling: the service is a process-group leader.  Stop sends TERM
to the group, waits for the main process to exit and for the group to
close its output (up to `stop_timeout`), then sends KILL to the group.
When the main process exits on its own, whatever is left of its group is
killed before a restart.  Every process is reaped by the shared reaper,
and the main process only after its group has been signalled for the
last time (so a recycled pid is never signalled).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cells.errors import CellsError
from cells.kernel.api import Kernel
from cells.supervisor.childsetup import PlannedChild, plan_child_setup
from cells.supervisor.output import OutputPump
from cells.supervisor.reaper import ChildReaper, Watch
from cells.supervisor.runrecord import RunRecords
from cells.supervisor.spawn import SpawnError, spawn
from cells.supervisor.spec import HealthcheckSpec, ServiceSpec, Stream
from cells.supervisor.status import (
    DOWN_STATES,
    Health,
    ServiceEvent,
    ServiceState,
    ServiceStatus,
)

OutcomeKind = Literal["exit", "spawn-error", "unhealthy", "stopped"]

#: How long to wait for a process group to close its output after its
#: main process has gone.
_DRAIN_TIMEOUT = 1.0


@dataclass(frozen=True)
class _Outcome:
    kind: OutcomeKind
    code: int | None = None


@dataclass
class RunnerContext:
    """What the supervisor shares with all its services."""

    reaper: ChildReaper
    kernel: Kernel | None
    emit: Callable[[ServiceEvent], None]
    records: RunRecords | None = None


def signal_group(pgid: int, sig: int) -> None:
    """Send `sig` to a process group that may already be gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def describe_exit(code: int | None) -> str:
    if code is None:
        return "did not start"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exited with status {code}"


class ServiceRunner:
    """State and supervision task of one service."""

    def __init__(self, spec: ServiceSpec, ctx: RunnerContext) -> None:
        self.spec = spec
        self._ctx = ctx
        self.state: ServiceState = "stopped"
        self.cell_name: str | None = None if spec.cell is None else str(spec.cell)
        self.pid: int | None = None
        self.restarts = 0
        self.health_restarts = 0
        self.exit_code: int | None = None
        self.exit_signal: int | None = None
        self.health: Health = "unknown"
        self.since = time.time()
        self.started_at: float | None = None
        self.health_since: float | None = None
        self.message: str | None = None
        self.error: str | None = None
        self._sink_failing = False
        self._task: asyncio.Task[None] | None = None
        self._stop_requested = False
        self._interrupt: asyncio.Future[str] | None = None
        self._first_attempt: asyncio.Future[None] | None = None

    # -- snapshots and events ------------------------------------------------

    def status(self) -> ServiceStatus:
        return ServiceStatus(
            name=self.spec.name,
            cell=self.cell_name,
            state=self.state,
            pid=self.pid,
            restarts=self.restarts,
            health_restarts=self.health_restarts,
            exit_code=self.exit_code,
            exit_signal=self.exit_signal,
            health=self.health,
            since=self.since,
            started_at=self.started_at,
            health_since=self.health_since,
            message=self.message,
            error=self.error,
        )

    def _set_state(self, state: ServiceState, message: str | None = None) -> None:
        previous = self.state
        self.state = state
        self.since = time.time()
        self.message = message
        self._ctx.emit(ServiceEvent(self.spec.name, previous, self.status(), message))

    def _set_health(self, health: Health, message: str | None = None) -> None:
        if health == self.health and message is None:
            return
        self.health = health
        self.health_since = time.time()
        if message is not None:
            self.message = message
        self._ctx.emit(ServiceEvent(self.spec.name, self.state, self.status(), message))

    def _note(self, message: str) -> None:
        self.message = message
        self._ctx.emit(ServiceEvent(self.spec.name, self.state, self.status(), message))

    # -- control -------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the supervision task; return after the first spawn attempt."""
        if self.active:
            return
        loop = asyncio.get_running_loop()
        self._stop_requested = False
        self.restarts = 0
        self.health_restarts = 0
        self._first_attempt = loop.create_future()
        self._task = loop.create_task(self._supervise(), name=f"service:{self.spec.name}")
        await asyncio.wait({self._first_attempt, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done() and not self._task.cancelled():
            self._task.result()

    async def stop(self) -> None:
        """Stop the service (TERM, grace, KILL) and wait until it is down."""
        task = self._task
        if task is None or task.done():
            if self.state not in DOWN_STATES:
                self._set_state("stopped")
            return
        self._stop_requested = True
        self._wake("stop")
        await asyncio.shield(task)

    async def wait(self) -> None:
        """Return once the supervision task has ended (down for good or stopped)."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._task)

    def _wake(self, why: str) -> None:
        if self._interrupt is not None and not self._interrupt.done():
            self._interrupt.set_result(why)

    # -- the supervision task ------------------------------------------------

    async def _supervise(self) -> None:
        spec = self.spec
        delay = spec.backoff_initial
        failures = 0
        try:
            while not self._stop_requested:
                self._set_state("starting")
                began = time.monotonic()
                outcome = await self._run_once()
                if outcome.kind == "stopped" or self._stop_requested:
                    break
                if time.monotonic() - began >= spec.stable_after:
                    delay = spec.backoff_initial
                    failures = 0
                    self.health_restarts = 0
                verdict = self._decide(outcome, failures)
                if verdict is not None:
                    state, message = verdict
                    self._set_state(state, message)
                    return
                if outcome.kind == "unhealthy":
                    self.health_restarts += 1
                else:
                    failures += 1
                why = "unhealthy" if outcome.kind == "unhealthy" else describe_exit(outcome.code)
                if outcome.kind == "spawn-error":
                    why = self.error or why
                self._set_state("backoff", f"{why}; restarting in {delay:.3g}s")
                if await self._sleep_unless_stopped(delay):
                    break
                delay = min(delay * 2, spec.backoff_max)
                self.restarts += 1
            self._set_state("stopped")
        except Exception as exc:
            # A bug must not leave the service looking alive; say what broke.
            self.pid = None
            self._set_state("failed", f"supervisor error: {type(exc).__name__}: {exc}")
        finally:
            self._resolve_first_attempt()

    def _decide(self, outcome: _Outcome, failures: int) -> tuple[ServiceState, str] | None:
        """None to restart, else the final state and why."""
        spec = self.spec
        if outcome.kind == "unhealthy":
            check = spec.healthcheck
            bound = check.max_restarts if check is not None else 0
            if self.health_restarts >= bound:
                return "failed", f"unhealthy; gave up after {self.health_restarts} health restarts"
            return None
        success = outcome.kind == "exit" and outcome.code == 0
        why = (self.error or "") if outcome.kind == "spawn-error" else describe_exit(outcome.code)
        down: ServiceState = "failed" if outcome.kind == "spawn-error" else "exited"
        mode = spec.restart.mode
        if mode == "no" or (mode == "on-failure" and success):
            return down, why or describe_exit(outcome.code)
        retry_bound = spec.restart.max_retries
        if mode == "on-failure" and retry_bound is not None and failures >= retry_bound:
            return "failed", f"{why}; gave up after {failures} restarts"
        return None

    async def _sleep_unless_stopped(self, delay: float) -> bool:
        loop = asyncio.get_running_loop()
        self._interrupt = loop.create_future()
        if self._stop_requested:
            return True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._interrupt), delay)
        self._interrupt = None
        return self._stop_requested

    def _resolve_first_attempt(self) -> None:
        if self._first_attempt is not None and not self._first_attempt.done():
            self._first_attempt.set_result(None)

    def _forward(self, stream: Stream, line: str) -> None:
        sink = self.spec.log_sink
        if sink is None:
            return
        try:
            sink(self.spec.name, stream, line)
        except Exception as exc:
            # Report the first failure of a run of failures, not every line.
            if not self._sink_failing:
                self._sink_failing = True
                self._note(f"log sink failed: {exc}")
        else:
            self._sink_failing = False

    async def _run_once(self) -> _Outcome:
        loop = asyncio.get_running_loop()
        spec = self.spec
        try:
            planned = plan_child_setup(spec, self._ctx.kernel)
            self.cell_name = planned.cell_name
            spawned = spawn(spec.argv, planned.setup, planned.env)
        except CellsError as exc:
            self.exit_code = self.exit_signal = None
            self.error = str(exc)
            self._note(str(exc))
            self._resolve_first_attempt()
            return _Outcome("spawn-error")
        reaper = self._ctx.reaper
        watch = reaper.watch(spawned.proc, hold=True)
        streams: dict[Stream, int] = {}
        if spawned.stdout is not None and spawned.stderr is not None:
            streams = {"stdout": spawned.stdout, "stderr": spawned.stderr}
        pump = OutputPump(loop, streams, self._forward, spec.max_line)
        self.pid = spawned.pid
        self.error = None
        self._record(spawned.pid)
        self.started_at = time.time()
        self._interrupt = loop.create_future()
        health_task: asyncio.Task[None] | None = None
        if spec.healthcheck is not None:
            self.health = "starting"
            self.health_since = self.started_at
            health_task = loop.create_task(
                self._health_loop(spec.healthcheck, planned, self._interrupt)
            )
        self._set_state("running", planned.note)
        self._resolve_first_attempt()
        if self._stop_requested:
            self._wake("stop")
        try:
            waited: set[asyncio.Future[None] | asyncio.Future[str]] = {
                watch.exited,
                self._interrupt,
            }
            await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if health_task is not None:
                health_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await health_task
        if watch.exited.done():
            # Kill what is left of the group while the unreaped main process
            # still holds the group id.
            signal_group(watch.pid, signal.SIGKILL)
            code = reaper.reap(watch)
            self._unrecord()
            await pump.drain(_DRAIN_TIMEOUT)
            kind: OutcomeKind = "stopped" if self._stop_requested else "exit"
        else:
            unhealthy = not self._stop_requested
            self._set_state("stopping", "unhealthy" if unhealthy else None)
            code = await self._terminate(watch, pump)
            kind = "unhealthy" if unhealthy else "stopped"
        self._interrupt = None
        self.pid = None
        self.exit_code = code if code >= 0 else None
        self.exit_signal = -code if code < 0 else None
        self.health = "unknown"
        return _Outcome(kind, code)

    async def _terminate(self, watch: Watch, pump: OutputPump) -> int:
        """TERM the group; after the grace period (or once it is gone) KILL it.

        The main process is held unreaped until the end, so the group id
        signalled is still this service's.
        """
        loop = asyncio.get_running_loop()
        reaper = self._ctx.reaper
        deadline = loop.time() + self.spec.stop_timeout
        signal_group(watch.pid, signal.SIGTERM)
        reaper.signal(watch, signal.SIGTERM)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(watch.exited), self.spec.stop_timeout)
            remaining = deadline - loop.time()
            if remaining > 0:
                await asyncio.wait_for(asyncio.shield(pump.closed), remaining)
        signal_group(watch.pid, signal.SIGKILL)
        reaper.signal(watch, signal.SIGKILL)
        await watch.exited
        code = reaper.reap(watch)
        self._unrecord()
        await pump.drain(_DRAIN_TIMEOUT)
        return code

    def _record(self, pid: int) -> None:
        records = self._ctx.records
        if records is None:
            return
        try:
            records.write(self.spec.name, pid, self.spec.stop_timeout)
        except OSError as exc:
            self._note(f"cannot write run record in {records.dir}: {exc.strerror or exc}")

    def _unrecord(self) -> None:
        if self._ctx.records is not None:
            with contextlib.suppress(OSError):
                self._ctx.records.remove(self.spec.name)

    # -- healthchecks --------------------------------------------------------

    async def _health_loop(
        self, check: HealthcheckSpec, planned: PlannedChild, interrupt: asyncio.Future[str]
    ) -> None:
        began = time.monotonic()
        failures = 0
        ever_healthy = False
        while True:
            await asyncio.sleep(check.interval)
            ok, why = await self._probe(check, planned)
            if ok:
                failures = 0
                ever_healthy = True
                self._set_health("healthy")
                continue
            if not ever_healthy and time.monotonic() - began < check.start_period:
                continue
            failures += 1
            if failures >= check.retries:
                self._set_health("unhealthy", f"healthcheck failed {failures} times: {why}")
                if not interrupt.done():
                    interrupt.set_result("unhealthy")
                return

    async def _probe(self, check: HealthcheckSpec, planned: PlannedChild) -> tuple[bool, str]:
        try:
            spawned = spawn(check.argv, planned.setup, planned.env, capture=False)
        except SpawnError as exc:
            return False, str(exc)
        reaper = self._ctx.reaper
        watch = reaper.watch(spawned.proc, hold=True)
        try:
            await asyncio.wait_for(asyncio.shield(watch.exited), check.timeout)
        except TimeoutError:
            signal_group(watch.pid, signal.SIGKILL)
            reaper.signal(watch, signal.SIGKILL)
            await watch.exited
            reaper.reap(watch)
            return False, f"timed out after {check.timeout:g}s"
        except asyncio.CancelledError:
            signal_group(watch.pid, signal.SIGKILL)
            reaper.signal(watch, signal.SIGKILL)
            reaper.release(watch)
            raise
        signal_group(watch.pid, signal.SIGKILL)
        code = reaper.reap(watch)
        return code == 0, describe_exit(code)
