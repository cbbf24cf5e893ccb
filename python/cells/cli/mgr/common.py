"""What the cellmgr verbs share: the application object with cellmgr's
paths, the Manager factory, the daemon link for service control, and the
human rendering of plans.  Callers: the verb modules of cells.cli.mgr.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from cells.cli.app import Application

if TYPE_CHECKING:
    from cells.ipc.client import Client
    from cells.mgr.apply import Manager
    from cells.mgr.facts import ServiceFact
    from cells.mgr.paths import Paths
    from cells.mgr.plan import Plan


class MgrApp(Application):
    """Application plus cellmgr's paths and lazily opened manager/daemon link."""

    def __init__(
        self,
        prog: str,
        *,
        config_dir: str | None = None,
        cells_dir: str | None = None,
        backup_dir: str | None = None,
        socket: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(prog, **kw)
        self.config_dir, self.cells_dir = config_dir, cells_dir
        self.backup_dir, self.socket = backup_dir, socket
        self._manager: Manager | None = None
        self._client: Client | None = None
        self._client_tried = False

    def paths(self) -> Paths:
        from cells.mgr.paths import Paths

        return Paths.resolve(
            config_dir=self.config_dir,
            state_dir=self.state_dir,
            cells_dir=self.cells_dir,
            backup_dir=self.backup_dir,
            socket=self.socket,
        )

    def client(self) -> Client | None:
        """A connected daemon client, or None when no daemon answers."""
        if not self._client_tried:
            from cells.ipc.client import Client, ConnectionLost

            self._client_tried = True
            path = self.paths().socket
            if path.exists():
                try:
                    self._client = Client(path)
                    self._client.connect()
                except ConnectionLost:
                    self._client = None
        return self._client

    def need_client(self) -> Client:
        client = self.client()
        if client is None:
            self.abort(
                f"no cellmgr daemon answers at {self.paths().socket}; start it with "
                "'cellmgr daemon' (or /etc/rc.d/cellmgr start)"
            )
        return client

    def manager(
        self, *, services: bool = True, readonly: bool = False, observer: Any = None
    ) -> Manager:
        """The Manager of this run; `readonly` for commands that change
        nothing (plan, status): they create no state database."""
        if self._manager is None:
            from cells.mgr.apply import Manager
            from cells.mgr.host import host_for

            kernel = self.kernel()
            client = self.client() if services else None
            control = DaemonServices(client) if client is not None else None
            self._manager = Manager(
                self.paths(),
                kernel,
                host_for(kernel.backend),
                control,
                self.progress,
                readonly=readonly,
                observer=observer,
            )
        return self._manager

    def cell_name(self, ref: str) -> str:
        """Cells are addressed by name or id: a decimal id becomes its name
        (a name starts with a letter, so digits are never a name)."""
        from cells.kernel.api import ref_id

        by_id = ref_id(ref)
        return ref if by_id is None else self.kernel().get(by_id).name

    def progress(self, text: str) -> None:
        self.note(text)

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()
        if self._client is not None:
            self._client.close()


pass_mgr = click.make_pass_decorator(MgrApp)


@contextlib.contextmanager
def working(
    app: Application, text: str, *, interval: float = 0.2
) -> Iterator[Callable[[str], None]]:
    """One long step: on a terminal `text` with the elapsed time, updated
    in place until it ends and then cleared; elsewhere `text` once, as a
    plain line on stderr (rc.d and CI logs show what the command is doing).
    The step's parts are named by calling what it yields (`[1/3] base:
    extracting`): on a terminal the line changes, elsewhere each is a line."""
    import threading
    import time

    if not app.stderr.isatty():
        app.note(text)
        yield lambda part: app.note(f"{text}: {part}")
        return
    started = time.monotonic()
    stop = threading.Event()
    shown = [text]

    def show() -> None:
        while True:
            app.stderr.write(f"\r\033[K{shown[0]} [{time.monotonic() - started:.1f}s]")
            app.stderr.flush()
            if stop.wait(interval):
                return

    ticker = threading.Thread(target=show, daemon=True)
    ticker.start()
    try:
        yield lambda part: shown.__setitem__(0, f"{text}: {part}")
    finally:
        stop.set()
        ticker.join()
        app.stderr.write("\r\033[K")
        app.stderr.flush()


class Progress:
    """Apply's progress: each result is one line on stdout as soon as it is
    known (so rc.d and CI logs show the work as it goes); on a terminal a
    transient `[N/M elapsed] action` line on stderr shows what runs, and
    is cleared before each result, so nothing is printed twice."""

    def __init__(self, app: Application, *, lines: bool = True) -> None:
        import time

        self.app, self.lines = app, lines
        self.tty = app.stderr.isatty()
        self._clock = time.monotonic
        self.started = self._clock()
        self._shown = False

    def elapsed(self) -> float:
        return self._clock() - self.started

    def status(self, text: str) -> None:
        """A transient line on a terminal (nothing elsewhere)."""
        if self.tty:
            self.app.stderr.write(f"\r\033[K{text}")
            self.app.stderr.flush()
            self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.app.stderr.write("\r\033[K")
            self.app.stderr.flush()
            self._shown = False

    def begin(self, index: int, total: int, key: str) -> None:
        self.status(f"[{index + 1}/{total} {self.elapsed():.1f}s] {key}")

    def done(self, index: int, total: int, result: Any) -> None:
        self.clear()
        if self.lines:
            mark = "ok" if result.ok else "FAILED"
            changed = f" ({'; '.join(result.changed)})" if result.changed else ""
            self.app.out(f"{mark:>6}  {result.key}{changed}")


class DaemonServices:
    """Service control through the daemon's IPC socket."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def statuses(self) -> Mapping[str, ServiceFact]:
        from cells.mgr.facts import ServiceFact

        rows = self.client.status()["cells"]
        return {
            r["name"]: ServiceFact(
                r["service"],
                r.get("health", "unknown"),
                r.get("service_digest", ""),
                r.get("restarts", 0),
                r.get("pid"),
            )
            for r in rows
            if r.get("service", "none") != "none"
        }

    def start(self, names: Sequence[str]) -> None:
        self.client.start(list(names))

    def stop(self, names: Sequence[str]) -> None:
        self.client.stop(list(names))

    def restart(self, names: Sequence[str]) -> None:
        self.client.restart(list(names))


SYMBOLS = {
    "create": "+",
    "destroy": "-",
    "replace": "-/+",
    "start": ">",
    "stop": "x",
    "restart": "~>",
    "forget": "-",
}


def render_plan(app: Application, p: Plan) -> None:
    """The human plan: drift apart from edits, one line per action."""
    if p.drift:
        app.out("Drift (live state differs from what was applied):")
        for name, r in p.drift:
            app.out(f"  {name}: {_one_line(str(r))}")
        app.out("")
    shown = _visible(p)
    if not shown:
        app.out("No changes: the host matches the manifests.")
    else:
        app.out(f"Plan: {len(shown)} action{'s' if len(shown) != 1 else ''}")
        width = max(len(a.op) for a in shown)
        for a in shown:
            verb = a.op.split(".")[1]
            sym = {"new": "+", "removed": "-"}.get(a.cause, SYMBOLS.get(verb, "~"))
            if verb == "replace":
                sym = "-/+"
            why = "; ".join(str(r) for r in a.reasons if not r.drift)
            extra = []
            if a.cause in ("new", "removed", "drift"):
                extra.append(a.cause)
            if why:
                extra.append(why)
            if a.steps:
                extra.append(f"steps {', '.join(str(i) for i in a.steps)} would change")
            if a.restarts:
                extra.append("restarts service " + ", ".join(a.restarts))
            tail = f"  ({'; '.join(extra)})" if extra else ""
            app.out(_one_line(f"  {sym:>3} {a.op:<{width}} {a.name}{tail}"))
    for note in p.notes:
        app.note(note)


def _one_line(text: str) -> str:
    """One action, one line: newlines in values (file contents) are shown escaped."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _visible(p: Plan) -> list[Any]:
    """Actions to show.  Recording the manifest is folded into the other
    actions of the same cell; only reasons they do not already show remain."""
    from dataclasses import replace

    shown: dict[str, set[str]] = {}
    for a in p.actions:
        if not a.op.endswith(".record"):
            shown.setdefault(a.name, set()).update(str(r) for r in a.reasons)
            shown[a.name].add("")
    out = []
    for a in p.actions:
        if a.op.endswith(".record") and a.name in shown:
            rest = tuple(r for r in a.reasons if str(r) not in shown[a.name])
            if not rest:
                continue
            a = replace(a, reasons=rest)
        out.append(a)
    return out
