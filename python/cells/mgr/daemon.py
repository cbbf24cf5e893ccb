"""`cellmgr daemon`: supervision, health, the reconcile loop, IPC, metrics.

The daemon supervises the service of every applied cell with one
`cells.supervisor.Supervisor` (restart policies, backoff, TERM→KILL,
healthchecks, bounded restarts → failed).  Its reconcile loop keeps the
supervisor in step with the applied manifests (new, changed, removed
services) and starts wanted services only when their dependencies are
healthy; stops go dependents first.  Service actions over IPC reconcile
first, so an apply that just recorded a cell finds its service.  At start
it stops the services a killed daemon left running (their output pipes
and supervisor are gone) and starts them again under itself.  It serves
the IPC socket (docs/ipc.md), pushes `cells`, `log:<cell>`, `audit` and
`daemon` events, and exposes Prometheus metrics on 127.0.0.1.  Callers:
cellmgr daemon, rc.d/cellmgr, the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from cells import __version__
from cells.errors import CellsError, InvalidArgument, NotFound
from cells.failures import describe
from cells.ipc import protocol
from cells.ipc.server import Connection, IpcServer
from cells.kernel.api import Kernel
from cells.mgr import deps, volumes
from cells.mgr.apply import Manager, applied_cells
from cells.mgr.backups import Backups
from cells.mgr.facts import ServiceFact, service_digest
from cells.mgr.host import Host
from cells.mgr.journal import StateDB
from cells.mgr.model import Cell, volume_from_canonical
from cells.mgr.paths import Paths
from cells.mgr.status import rows
from cells.supervisor import (
    HealthcheckSpec,
    LogStore,
    RestartPolicy,
    ServiceEvent,
    ServiceSpec,
    Supervisor,
)

T = TypeVar("T")
UP = frozenset({"starting", "running", "backoff", "stopping"})


def service_spec(
    cell: Cell, sink: Callable[[str, Any, str], None], root: Path | None = None
) -> ServiceSpec:
    """The supervisor's spec for a cell's service."""
    assert cell.service is not None
    svc, hc = cell.service, cell.healthcheck
    return ServiceSpec(
        name=cell.name,
        argv=svc.command,
        cell=cell.name,
        env=dict(svc.env),
        user=None if svc.user == "root" else svc.user,
        group=svc.group or None,
        rlimits=cell.rlimits,
        restart=RestartPolicy(svc.restart, svc.max_restarts),
        stop_timeout=svc.stop_timeout,
        log_sink=sink,
        healthcheck=None
        if hc is None
        else HealthcheckSpec(
            argv=hc.command,
            interval=hc.interval,
            timeout=hc.timeout,
            retries=hc.retries,
            start_period=hc.start_period,
            max_restarts=svc.max_restarts or 3,
        ),
    )


class ThreadServices:
    """ServiceControl for a Manager running in a worker thread."""

    def __init__(self, daemon: Daemon, loop: asyncio.AbstractEventLoop) -> None:
        self.daemon, self.loop = daemon, loop

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def statuses(self) -> Mapping[str, ServiceFact]:
        async def get() -> dict[str, ServiceFact]:
            return self.daemon.service_facts()

        return self._run(get())

    def start(self, names: Sequence[str]) -> None:
        self._run(self.daemon.start(list(names), sync=True))

    def stop(self, names: Sequence[str]) -> None:
        self._run(self.daemon.stop(list(names)))

    def restart(self, names: Sequence[str]) -> None:
        self._run(self.daemon.restart(list(names)))


class Daemon:
    def __init__(
        self,
        paths: Paths,
        kernel: Kernel,
        host: Host,
        *,
        interval: float = 2.0,
        check_peer: bool = True,
        use_syslog: bool | None = None,
        destroy_on_exit: bool = False,
        debug: bool = False,
    ) -> None:
        self.paths, self.kernel, self.host = paths, kernel, host
        self.interval = interval
        self.destroy_on_exit = destroy_on_exit
        self.exit_problems: list[str] = []
        self._published = 0.0
        self.db = StateDB(paths.db)
        self.logstore = LogStore(paths.logs)
        self.sup = Supervisor(
            kernel=kernel, on_event=self._on_event, run_dir=paths.state_dir / "run"
        )
        self.server = IpcServer(paths.socket, self.handle, check_peer=check_peer, debug=debug)
        self.use_syslog = sys.platform.startswith("netbsd") if use_syslog is None else use_syslog
        self.cells: dict[str, Cell] = {}
        self.digests: dict[str, str] = {}
        self.wanted: set[str] = set()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._dirty = True
        self._last_rows: list[dict[str, Any]] | None = None
        self._audit_seq = 0
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._leftover_seen: Callable[[ServiceEvent], None] | None = None

    # -- lifecycle ----------------------------------------------------------
    async def run(
        self, metrics_port: int | None = None, ready: Callable[[], None] | None = None
    ) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        http = None
        if metrics_port is not None:
            # Bound before the socket exists: a busy port leaves nothing behind.
            from cells.mgr.metrics import MetricsServer

            http = MetricsServer(self.kernel, self.service_facts, metrics_port)
            try:
                await http.start()
            except OSError as e:
                why = os.strerror(e.errno) if e.errno else str(e)
                raise CellsError(
                    f"metrics on 127.0.0.1:{metrics_port}: {why}; pick another --metrics-port"
                ) from None
        try:
            await self.server.start()
        except BaseException:
            if http is not None:
                await http.close()
            raise
        try:
            stats = self.kernel.stats()
            self._audit_seq = stats.audit_head
        except Exception:
            self._audit_seq = 0
        try:
            # Inside: a failure here still stops what started and removes the socket.
            await self.reconcile(initial=True)
            if ready is not None:
                ready()
            while not self._stop.is_set():
                timeout = min(self.interval, 0.5) if self._dirty else self.interval
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                self._wake.clear()
                if self._stop.is_set():
                    break
                try:
                    await self.reconcile()
                    await self._publish_cells()
                    await self._publish_audit()
                except Exception as e:  # an expected failure is one line; the loop goes on
                    line = describe(e)
                    if line is None:
                        raise
                    self._report(f"reconcile: {line}")
        finally:
            await self.shutdown()
            if http is not None:
                await http.close()

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _report(self, message: str) -> None:
        """One line on stderr and to `daemon` subscribers; the loop goes on."""
        print(f"cellmgr: {message}", file=sys.stderr, flush=True)
        if self.server.subscribers("daemon"):
            self._spawn(
                self.server.publish("daemon", {"state": "ready", "message": message}, "daemon")
            )

    async def shutdown(self) -> None:
        await self.server.publish(
            "daemon", {"state": "stopping", "message": "daemon stops"}, "daemon"
        )
        order = [n for n in reversed(self._order()) if n in self.cells]
        await self.sup.stop_all(order)
        await self.sup.close()
        if self.destroy_on_exit:
            self._destroy_cells()
        await self.server.close()
        self.logstore.close()
        self.db.close()

    def _destroy_cells(self) -> None:
        """After every service stopped: remove the managed kernel cells,
        dependents first (rc.d stop; apply creates them again at start)."""
        applied = applied_cells(self.db)
        known = {n: [d for d in c.depends_on if d in applied] for n, c in applied.items()}
        try:
            order = deps.order(known)
        except deps.DependencyError:
            order = sorted(known)
        for name in reversed(order):
            try:
                self.kernel.destroy(name)
            except NotFound:
                continue
            except CellsError as e:
                self.exit_problems.append(f"destroy cell {name}: {e}")

    # -- supervision ----------------------------------------------------------
    def _order(self) -> list[str]:
        known = {n: [d for d in c.depends_on if d in self.cells] for n, c in self.cells.items()}
        try:
            return deps.order(known)
        except deps.DependencyError:
            return sorted(known)

    def _sink(self, cell: Cell) -> Callable[[str, Any, str], None]:
        syslog_sink = None
        if self.use_syslog and cell.service is not None:
            from cells.supervisor.syslog_sink import FACILITIES, SyslogSink

            log = cell.service.log
            syslog_sink = SyslogSink(
                facility=log.facility if log.facility in FACILITIES else "daemon",
                levels={"stdout": log.stdout, "stderr": log.stderr},
                tag=log.tag or None,
            )

        def sink(service: str, stream: Any, line: str) -> None:
            self.logstore(service, stream, line)
            if syslog_sink is not None:
                syslog_sink(service, stream, line)
            topic = f"log:{service}"
            if self.server.subscribers(topic):
                now = time.time()
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
                data = {
                    "cell": service,
                    "time": f"{stamp}.{int(now * 1000) % 1000:03d}Z",
                    "stream": stream,
                    "line": line,
                }
                self._spawn(self.server.publish("log", data, topic))

        return sink

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_event(self, event: ServiceEvent) -> None:
        if event.leftover and event.message:
            self._report(event.message)
            if self._leftover_seen is not None:
                self._leftover_seen(event)
        self._dirty = True
        self._wake.set()

    def service_facts(self) -> dict[str, ServiceFact]:
        out = {}
        for st in self.sup.statuses():
            out[st.name] = ServiceFact(
                st.state, st.health, self.digests.get(st.name, ""), st.restarts, st.pid
            )
        return out

    def _healthy(self, name: str) -> bool:
        cell = self.cells.get(name)
        if cell is None:
            return True  # a cell without a service has nothing to wait for
        st = self.sup.status(name)
        if st.state != "running":
            return False
        return cell.healthcheck is None or st.health == "healthy"

    async def reconcile(self, initial: bool = False) -> set[str]:
        """Bring the supervisor in step with the applied manifests; returns
        the services replaced while up (they start again with the new spec)."""
        replaced: set[str] = set()
        async with self._lock:
            applied = await asyncio.to_thread(applied_cells_of, self.paths)
            for name in list(self.cells):
                cell = applied.get(name)
                if cell is None or cell.service is None:
                    await self.sup.remove(name)
                    del self.cells[name]
                    self.digests.pop(name, None)
                    self.wanted.discard(name)
                    self._dirty = True
            for name, cell in sorted(applied.items()):
                if cell.service is None:
                    continue
                digest = service_digest(cell)
                if self.digests.get(name) == digest:
                    self.cells[name] = cell
                    continue
                was_up = name in self.cells and self.sup.status(name).state in UP
                if name in self.cells:
                    await self.sup.remove(name)
                    del self.cells[name]
                try:
                    self.sup.add(service_spec(cell, self._sink(cell)))
                except CellsError as e:
                    self._report(f"cell {name}: cannot supervise its service: {e}")
                    continue
                self.cells[name] = cell
                self.digests[name] = digest
                if was_up or (initial and cell.autostart):
                    self.wanted.add(name)
                if was_up:
                    replaced.add(name)
                self._dirty = True
            if initial:
                await self._revive_leftovers()
            await self._start_ready()
        return replaced

    async def _revive_leftovers(self) -> None:
        """Services a killed daemon left running lost their output pipes and
        their supervisor: stop those processes and start the services again
        under this daemon, so that a daemon restart loses no service."""
        revived: list[str] = []

        def collect(event: ServiceEvent) -> None:
            if event.leftover:
                revived.append(event.name)

        self._leftover_seen = collect
        try:
            await self.sup.stop_leftovers()
        finally:
            self._leftover_seen = None
        for name in revived:
            if name in self.cells:
                self.wanted.add(name)
                self._report(f"cell {name}: starting its service again under this daemon")

    async def _start_ready(self) -> None:
        """Start wanted services that are down, once their dependencies are healthy."""
        for name in self._order():
            if name not in self.wanted or self.sup.status(name).state != "stopped":
                continue
            if all(self._healthy(d) for d in self.cells[name].depends_on):
                try:
                    await self.sup.start(name)
                except CellsError as e:
                    self.wanted.discard(name)
                    self._report(f"cell {name}: cannot start its service: {e}")
                self._dirty = True

    def _resolve(self, names: Sequence[str], all_: bool) -> list[str]:
        if all_:
            return sorted(self.cells)
        if not names:
            raise InvalidArgument("name the cells, or give all")
        for n in names:
            if n not in self.cells:
                raise NotFound(
                    f"no supervised service for cell {n!r}; is it applied and "
                    "does its manifest have a service?"
                )
        return list(names)

    def _with_deps(self, names: Sequence[str]) -> set[str]:
        out: set[str] = set()
        todo = list(names)
        while todo:
            n = todo.pop()
            if n in out or n not in self.cells:
                continue
            out.add(n)
            todo.extend(self.cells[n].depends_on)
        return out

    def _with_dependents(self, names: Sequence[str]) -> set[str]:
        out = set(names)
        changed = True
        while changed:
            changed = False
            for n, c in self.cells.items():
                if n not in out and set(c.depends_on) & out:
                    out.add(n)
                    changed = True
        return out

    async def start(
        self, names: Sequence[str], *, sync: bool = False, timeout: float = 60.0
    ) -> list[str]:
        """Want these services (and their dependencies) up; start what is ready."""
        if sync:
            await self.reconcile()
        targets = self._with_deps(names)
        for n in targets:
            st = self.sup.status(n).state
            if st in ("failed", "exited"):
                await self.sup.stop(n)  # back to "stopped": an explicit start retries
            self.wanted.add(n)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            async with self._lock:
                await self._start_ready()
            pending = [n for n in targets if self.sup.status(n).state == "stopped"]
            if not pending or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)
        return [n for n in self._order() if n in targets]

    async def stop(self, names: Sequence[str]) -> list[str]:
        """Stop these services and everything that depends on them, dependents first."""
        targets = self._with_dependents(names)
        order = [n for n in reversed(self._order()) if n in targets]
        for n in order:
            self.wanted.discard(n)
            await self.sup.stop(n)
        self._dirty = True
        return order

    async def restart(
        self, names: Sequence[str], replaced: Collection[str] | None = None
    ) -> list[str]:
        """Restart these services; those in `replaced` (a reconcile just
        started them with a new spec) are not restarted twice."""
        if replaced is None:
            replaced = await self.reconcile()
        for n in names:
            if n in self.cells and n not in replaced:
                await self.sup.stop(n)
        return await self.start(names)

    # -- events ---------------------------------------------------------------
    def status_rows(self) -> list[dict[str, Any]]:
        cells = applied_cells(self.db)
        return rows(cells, self.kernel.list(), self.service_facts())

    async def _publish_cells(self, force: bool = False) -> None:
        if not (self._dirty or force) or not self.server.subscribers("cells"):
            return
        now = time.monotonic()
        if not force and now - self._published < 1.0:
            return  # at most one cells event a second; still dirty, sent next pass
        self._published = now
        self._dirty = False
        current = self.status_rows()
        if current != self._last_rows or force:
            self._last_rows = current
            await self.server.publish("cells", {"cells": current}, "cells")

    async def _publish_audit(self) -> None:
        if not self.server.subscribers("audit"):
            return
        for ev in self.kernel.events(self._audit_seq):
            self._audit_seq = max(self._audit_seq, ev.seq + 1)
            await self.server.publish("audit", asdict(ev), "audit")

    # -- IPC --------------------------------------------------------------------
    async def handle(self, method: str, params: dict[str, Any], conn: Connection) -> Any:
        names = list(params.get("cells") or [])
        all_ = bool(params.get("all"))
        if method == "hello":
            return {
                "server": "cellmgr",
                "version": __version__,
                "protocol": protocol.PROTOCOL_VERSION,
                "backend": self.kernel.backend,
                "enforcing": self.kernel.enforcing,
                "pid": os.getpid(),
            }
        if method == "status":
            await self.reconcile()  # a cell applied a moment ago shows its service
            return {"cells": self.status_rows()}
        if method in ("cell.start", "cell.stop", "cell.restart"):
            # An apply may have recorded these cells a moment ago: know them first.
            replaced = await self.reconcile()
            targets = self._resolve(names, all_)
            if method == "cell.start":
                return {"cells": await self.start(targets)}
            if method == "cell.stop":
                return {"cells": await self.stop(targets)}
            return {"cells": await self.restart(targets, replaced)}
        if method == "plan":
            return await self._in_thread(lambda m: m.plan(names or None).to_dict())
        if method == "apply":
            fp = params.get("fingerprint")
            allow_empty = params.get("allow_empty") is True
            report = await self._in_thread(
                lambda m: m.apply(names or None, fp, allow_empty=allow_empty).to_dict()
            )
            await self.reconcile()
            return report
        if method == "volumes.list":
            return {"volumes": await asyncio.to_thread(self._volumes)}
        if method.startswith("backup."):
            return await self._backup(method, params)
        if method == "logs.tail":
            cell = params["cell"]  # checked by protocol.check_request
            lines = params.get("lines")
            lines = 100 if lines is None else lines
            return {"lines": [asdict(r) for r in self.logstore.tail(cell, lines)]}
        if method == "subscribe":
            topics = [protocol.check_topic(t) for t in params.get("topics") or []]
            conn.topics.update(topics)
            if "cells" in topics:
                self._spawn(conn.send(protocol.event("cells", {"cells": self.status_rows()})))
            return {"topics": sorted(conn.topics)}
        raise InvalidArgument(f"method {method} is not served")

    async def _in_thread(self, job: Callable[[Manager], Any]) -> Any:
        services = ThreadServices(self, asyncio.get_running_loop())

        def work() -> Any:
            m = Manager(self.paths, self.kernel, self.host, services)
            try:
                return job(m)
            finally:
                m.close()

        return await asyncio.to_thread(work)

    def _volumes(self) -> list[dict[str, Any]]:
        db = StateDB(self.paths.db)
        try:
            vols = {n: volume_from_canonical(d) for n, d in db.applied("Volume").items()}
            users: dict[str, list[str]] = {}
            for name, doc in db.applied("Cell").items():
                for m in doc.get("mounts", []):
                    users.setdefault(m.split(":")[0], []).append(name)
        finally:
            db.close()
        return volumes.describe(self.paths, vols, users)

    async def _backup(self, method: str, params: dict[str, Any]) -> Any:
        facts = self.service_facts()
        infos = {c.name: c for c in self.kernel.list()}

        def running(cell: str) -> bool:
            st = facts.get(cell)
            return (st is not None and st.state in UP) or (cell in infos and infos[cell].nprocs > 0)

        def work() -> Any:
            db = StateDB(self.paths.db)
            try:
                b = Backups(self.paths, db, running)
                if method == "backup.list":
                    return {"backups": b.list(params.get("cell"))}
                if method == "backup.create":
                    return b.create(str(params.get("cell")))
                if method == "backup.restore":
                    return b.restore(str(params.get("id")), yes=params.get("yes") is True)
                return b.delete(str(params.get("id")), yes=params.get("yes") is True)
            finally:
                db.close()

        return await asyncio.to_thread(work)


def applied_cells_of(paths: Paths) -> dict[str, Cell]:
    db = StateDB(paths.db)
    try:
        return applied_cells(db)
    finally:
        db.close()
