"""The daemon on the sim: supervision, health-gated order, IPC, events, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from cells.ipc.client import AsyncClient, Client, ConnectionLost, IpcError
from cells.kernel import open_kernel
from cells.mgr.apply import Manager
from cells.mgr.daemon import Daemon
from cells.mgr.host import SimHost
from cells.mgr.metrics import registry
from cells.mgr.paths import Paths

MANIFESTS = """\
kind: Volume
name: data
---
kind: Cell
name: db
autostart: true
mounts: ["data:/data:rw"]
service:
  command: [sh, -c, "echo db up; sleep 0.6; touch ready; exec sleep 600"]
  stop_timeout: 2s
healthcheck: {command: [test, -f, ready], interval: 0.2s, timeout: 1s, retries: 1, start_period: 2s}
---
kind: Cell
name: web
autostart: true
depends_on: [db]
service: {command: [sh, -c, "echo web up; exec sleep 600"], stop_timeout: 2s}
---
kind: Cell
name: crash
service: {command: [sh, -c, "echo boom >&2; exit 3"], restart: "on-failure:2"}
"""


@contextlib.asynccontextmanager
async def running_daemon(paths: Paths, **kw: bool) -> AsyncIterator[Daemon]:
    kernel = open_kernel("sim", paths.state_dir)
    d = Daemon(paths, kernel, SimHost(), interval=0.1, **kw)
    ready = asyncio.Event()
    task = asyncio.create_task(d.run(None, ready.set))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        yield d
    finally:
        d.request_stop()
        await asyncio.wait_for(task, 20)


async def wait_for(
    cond: Callable[[], bool], timeout: float = 10.0, extra: Callable[[], object] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached in time: {extra() if extra else ''}")
        await asyncio.sleep(0.05)


def applied(paths: Paths, text: str = MANIFESTS) -> None:
    (paths.config_dir / "cells.yaml").write_text(text)
    m = Manager(paths, open_kernel("sim", paths.state_dir), SimHost())
    assert m.apply().ok
    m.close()


def test_supervision_order_health_logs_and_stop(paths: Paths) -> None:
    applied(paths)

    async def main() -> None:
        async with running_daemon(paths) as d:
            # web waits for db to be healthy, not merely running.
            await wait_for(lambda: d.sup.status("db").state == "running")
            assert d.sup.status("web").state == "stopped"
            await wait_for(
                lambda: d.sup.status("web").state == "running", extra=lambda: d.sup.statuses()
            )
            db = d.sup.status("db")
            assert db.health == "healthy" and db.started_at is not None
            assert d.sup.status("web").started_at >= (db.health_since or 0)
            # crash is not autostart; an explicit start runs it until its bound.
            await d.start(["crash"])
            await wait_for(lambda: d.sup.status("crash").state == "failed", 20)
            assert d.sup.status("crash").restarts == 2
            # stopping db stops web first (dependents first).
            stopped = await d.stop(["db"])
            assert stopped == ["web", "db"]
            assert d.sup.status("web").state == "stopped"
        assert [r.line for r in d.logstore.tail("db", 5)] == ["db up"]
        assert "boom" in [r.line for r in d.logstore.tail("crash", 10)]

    asyncio.run(main())


def test_ipc_methods_events_and_errors(paths: Paths) -> None:
    applied(paths)

    async def main() -> None:
        async with running_daemon(paths) as d, AsyncClient(paths.socket) as c:
            hello = c.server
            assert hello["protocol"] == 1 and hello["backend"] == "sim"
            assert hello["enforcing"] is False
            await c.subscribe(["cells", "log:web"])
            first = await anext(c.events())
            assert first["event"] == "cells"
            await wait_for(lambda: d.sup.status("web").state == "running")
            rows = {r["name"]: r for r in (await c.status())["cells"]}
            assert rows["web"]["state"] == "running" and rows["web"]["procs"] == 1
            assert rows["crash"]["state"] == "created"
            assert rows["db"]["health"] == "healthy"
            assert (await c.plan())["changes"] is False
            vols = await c.volumes()
            assert vols[0]["name"] == "data" and vols[0]["used_by"] == ["db"]
            lines = await c.logs_tail("web", 10)
            assert [x["line"] for x in lines] == ["web up"]
            with pytest.raises(IpcError) as err:
                await c.backup_create("web")
            assert err.value.code == "busy"
            with pytest.raises(IpcError) as err:
                await c.start(["nope"])
            assert err.value.code == "not_found"
            with pytest.raises(IpcError) as err:
                await c.call("cell.start", {"bogus": 1})
            assert err.value.code == "invalid"
            # a restart shows in the log stream
            await c.restart(["web"])
            async for ev in c.events():
                if ev["event"] == "log" and ev["data"]["line"] == "web up":
                    break
            await c.stop(["web"])
            backup = await c.backup_create("web")
            assert backup["cell"] == "web"
            assert [b["id"] for b in await c.backups("web")] == [backup["id"]]
            assert (await c.backup_delete(backup["id"]))["id"] == backup["id"]

    asyncio.run(main())


def test_client_sees_daemon_go_and_reconnects(paths: Paths) -> None:
    applied(paths, "kind: Cell\nname: solo\n")

    async def main() -> None:
        c = AsyncClient(paths.socket)
        async with running_daemon(paths) as d:
            await c.connect()
            await c.subscribe(["daemon"])
            d.request_stop()
            seen = []
            with pytest.raises(ConnectionLost):
                async for ev in c.events():
                    seen.append(ev)
            assert seen == [
                {"event": "daemon", "data": {"state": "stopping", "message": "daemon stops"}}
            ]
        with pytest.raises(ConnectionLost):
            await c.status()
        with pytest.raises(ConnectionLost, match="cannot reach"):
            await c.connect()
        async with running_daemon(paths):
            hello = await c.connect()
            assert hello["server"] == "cellmgr"
            await c.close()

    asyncio.run(main())


def test_sync_client_and_version_error(paths: Paths) -> None:
    applied(paths, "kind: Cell\nname: solo\n")

    async def main() -> None:
        async with running_daemon(paths):

            def blocking() -> None:
                with Client(paths.socket) as c:
                    assert [r["name"] for r in c.status()["cells"]] == ["solo"]
                    assert c._sock is not None
                    c._sock.sendall(b'{"v":9,"id":1,"method":"hello"}\n')
                    reply = c._read_message()
                    assert reply["ok"] is False and reply["error"]["code"] == "version"
                    assert c.hello()["server"] == "cellmgr"

            await asyncio.to_thread(blocking)

    asyncio.run(main())


def test_destroy_after_stop_leaves_no_busy_cell(paths: Paths) -> None:
    applied(paths)

    async def main() -> None:
        async with running_daemon(paths) as d:
            await wait_for(lambda: d.sup.status("web").state == "running")
            (paths.config_dir / "cells.yaml").write_text(
                MANIFESTS.split("---\nkind: Cell\nname: web")[0]
            )
            async with AsyncClient(paths.socket) as c:
                report = await c.apply()
            assert report["ok"], report
            assert "cell.destroy web" in [a["action"] for a in report["actions"]]
            assert "service.stop web" in [a["action"] for a in report["actions"]]
            assert [c.name for c in d.kernel.list()] == ["db"]
            await wait_for(lambda: "web" not in d.sup.names())

    asyncio.run(main())


def test_metrics_have_help_and_type(paths: Paths) -> None:
    from prometheus_client import generate_latest

    applied(paths, "kind: Cell\nname: solo\n")
    kernel = open_kernel("sim", paths.state_dir)
    text = generate_latest(registry(kernel, dict)).decode()
    assert "# HELP cells_cell_processes Live processes in the cell." in text
    assert "# TYPE cells_cell_denies_total counter" in text
    assert 'cells_cell_processes{cell="solo",id="1"} 0.0' in text
    assert "cells_backend_up 1.0" in text


def test_daemon_metrics_and_cellctl_stats_speak_one_vocabulary(paths: Paths) -> None:
    from cells.cli.ctl.metrics import exposition
    from prometheus_client import generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    applied(paths, "kind: Cell\nname: solo\n")
    kernel = open_kernel("sim", paths.state_dir)

    def cell_families(text: str) -> dict[str, tuple[str, list[tuple[str, ...]]]]:
        return {
            f.name: (f.type, sorted(tuple(sorted(s.labels)) for s in f.samples))
            for f in text_string_to_metric_families(text)
            if f.name.startswith("cells_cell_")
        }

    daemon = cell_families(generate_latest(registry(kernel, dict)).decode())
    ctl = cell_families(exposition(kernel.stats(), kernel.list()).decode())
    assert daemon == ctl
    assert "cells_cell_cpu_ticks_per_second" in daemon


def test_a_scrape_while_the_kernel_cannot_be_read_still_answers(
    paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    from cells.errors import BackendError
    from prometheus_client import generate_latest

    class Broken:
        def list(self) -> list[object]:
            raise BackendError("cannot open the sim state /x/sim.db: unable to open")

    text = generate_latest(registry(Broken(), dict)).decode()  # type: ignore[arg-type]
    assert "cells_backend_up 0.0" in text
    assert capsys.readouterr().err == (
        "cellmgr: metrics: cannot read the cells: cannot open the sim state /x/sim.db: "
        "unable to open\n"
    )


def test_peer_check_allows_root_or_owner(tmp_path: Path) -> None:
    from cells.ipc.peercred import allowed

    sock = tmp_path / "s"
    sock.write_text("")
    owner = sock.stat().st_uid
    assert allowed(0, str(sock))
    assert allowed(owner, str(sock))
    assert not allowed(owner + 12345, str(sock))


def test_exit_stops_services_then_destroys_cells(paths: Paths) -> None:
    applied(paths)

    async def main() -> Daemon:
        async with running_daemon(paths, destroy_on_exit=True) as d:
            await wait_for(lambda: d.sup.status("web").state == "running")
        return d

    d = asyncio.run(main())
    assert d.exit_problems == []
    assert d.kernel.list() == []
    m = Manager(paths, d.kernel, SimHost())
    assert {a.key() for a in m.plan().actions} == {
        "cell.create crash",
        "cell.create db",
        "cell.create web",
    }


def test_audit_events_are_pushed(paths: Paths) -> None:
    applied(paths, "kind: Cell\nname: solo\n---\nkind: Cell\nname: other\n")

    async def main() -> None:
        async with running_daemon(paths) as d, AsyncClient(paths.socket) as c:
            await c.subscribe(["audit"])
            attempt = d.kernel.attempt
            decision = attempt("solo", "process.signal", "other")
            assert decision.verdict == "deny"
            ev = await asyncio.wait_for(anext(c.events()), 5)
            assert ev["event"] == "audit"
            assert ev["data"]["op"] == "process.signal"
            assert ev["data"]["cell"] == d.kernel.get("solo").id

    asyncio.run(main())


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another uid")
def test_other_uid_is_refused(paths: Paths) -> None:
    import dataclasses
    import json
    import shutil
    import socket
    import tempfile

    applied(paths, "kind: Cell\nname: solo\n")
    public = Path(tempfile.mkdtemp(prefix="cellmgr-sock-"))
    public.chmod(0o755)  # the peer must reach the socket to be judged by the peer check
    paths = dataclasses.replace(paths, socket=public / "cellmgr.sock")

    def as_nobody() -> dict[str, object]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child connects as uid 65534
            os.close(read)
            try:
                os.setgid(65534)
                os.setuid(65534)
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(str(paths.socket))
                s.sendall(b'{"v":1,"id":1,"method":"status","params":{}}\n')
                os.write(write, s.makefile("rb").readline())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as f:
            line = f.readline()
        os.waitpid(pid, 0)
        reply: dict[str, object] = json.loads(line)
        return reply

    async def main() -> None:
        async with running_daemon(paths):
            assert (paths.socket.stat().st_mode & 0o777) == 0o600
            os.chmod(paths.socket, 0o666)  # let the file mode through; the peer check decides
            reply = await asyncio.to_thread(as_nobody)
            assert reply["ok"] is False
            error = reply["error"]
            assert isinstance(error, dict) and error["code"] == "permission"
            assert "only root or the socket's owner" in str(error["message"])

    try:
        asyncio.run(main())
    finally:
        shutil.rmtree(public)


def test_logs_follow_prints_new_lines(paths: Paths) -> None:
    import subprocess
    import sys

    from cells.supervisor import LogStore

    store = LogStore(paths.logs)
    store("web", "stdout", "first")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3] / "python")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cells.cli.mgr", "logs", "-f", "web"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().endswith(" stdout first\n")
        store("web", "stderr", "second")
        assert proc.stdout.readline().endswith(" stderr second\n")
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_apply_restarts_an_edited_service_through_the_daemon(paths: Paths) -> None:
    from cells.cli.mgr import cli
    from click.testing import CliRunner

    applied(paths)

    async def main() -> None:
        async with running_daemon(paths) as d:
            await wait_for(lambda: d.sup.status("web").state == "running")
            old_pid = d.sup.status("web").pid
            (paths.config_dir / "cells.yaml").write_text(
                MANIFESTS.replace('"echo web up; exec sleep 600"', '"echo web v2; exec sleep 600"')
            )

            def cli_apply() -> tuple[int, str]:
                result = CliRunner().invoke(cli(), ["apply", "--yes"], env={"CELLS_QUIET": "1"})
                return result.exit_code, result.stdout

            code, out = await asyncio.to_thread(cli_apply)
            assert code == 0, out
            assert out.splitlines() == ["    ok  cell.record web", "    ok  service.restart web"]
            await wait_for(lambda: d.sup.status("web").state == "running")
            assert d.sup.status("web").pid != old_pid
            await wait_for(lambda: "web v2" in [r.line for r in d.logstore.tail("web", 5)])

            def cli_plan() -> int:
                return CliRunner().invoke(cli(), ["plan", "--detailed-exitcode"]).exit_code

            assert await asyncio.to_thread(cli_plan) == 0

    asyncio.run(main())


def test_second_daemon_on_the_same_socket_is_refused(paths: Paths) -> None:
    from cells.errors import Busy

    applied(paths, "kind: Cell\nname: solo\n")

    async def main() -> None:
        async with running_daemon(paths):
            second = Daemon(paths, open_kernel("sim", paths.state_dir), SimHost())
            with pytest.raises(Busy, match="another cellmgr daemon answers"):
                await second.server.start()
            await second.server.close()
            assert paths.socket.exists()

            def hello() -> dict[str, object]:
                with Client(paths.socket) as c:
                    return c.server

            assert (await asyncio.to_thread(hello))["server"] == "cellmgr"

    asyncio.run(main())


def test_one_apply_starts_restarts_and_stops_services_of_a_running_daemon(paths: Paths) -> None:
    from cells.cli.mgr import cli
    from click.testing import CliRunner

    def cell(name: str, text: str, autostart: bool = True) -> str:
        return (
            f"---\nkind: Cell\nname: {name}\nautostart: {str(autostart).lower()}\n"
            f'service: {{command: [sh, -c, "echo {text}; exec sleep 600"], stop_timeout: 1s}}\n'
        )

    def cli_apply() -> tuple[int, str]:
        result = CliRunner().invoke(cli(), ["apply", "--yes"], env={"CELLS_QUIET": "1"})
        return result.exit_code, result.output

    async def main() -> None:
        async with running_daemon(paths) as d:
            (paths.config_dir / "cells.yaml").write_text(
                cell("a", "a1") + cell("b", "b1") + cell("c", "c1", autostart=False)
            )
            code, out = await asyncio.to_thread(cli_apply)
            assert code == 0, out
            assert {d.sup.status(n).state for n in "ab"} == {"running"}
            assert d.sup.status("c").state == "stopped"
            old = d.sup.status("a").pid
            (paths.config_dir / "cells.yaml").write_text(cell("a", "a2") + cell("c", "c1", False))
            code, out = await asyncio.to_thread(cli_apply)
            assert code == 0, out
            assert "b" not in d.sup.names()
            assert d.sup.status("a").state == "running"
            new = d.sup.status("a").pid
            assert new not in (None, old)
            await wait_for(lambda: "a2" in [r.line for r in d.logstore.tail("a", 5)])
            starts = [r.line for r in d.logstore.tail("a", 10)].count("a2")
            assert starts == 1, "the edited service restarted more than once"

    asyncio.run(main())


def test_ipc_params_of_the_wrong_type_are_invalid_not_internal(paths: Paths) -> None:
    applied(paths, "kind: Cell\nname: web\nservice: {command: [sleep, '600']}\n")

    async def main() -> None:
        async with running_daemon(paths) as d, AsyncClient(paths.socket) as c:
            for method, params in (
                ("cell.start", {"cells": "web"}),
                ("cell.stop", {"cells": [None]}),
                ("subscribe", {"topics": "cells"}),
                ("logs.tail", {"cell": "web", "lines": "x"}),
                ("backup.create", {"cell": 7}),
                ("apply", {"cells": "web"}),
            ):
                with pytest.raises(IpcError) as err:
                    await c.call(method, params)
                assert err.value.code == "invalid", (method, str(err.value))
            assert d.sup.status("web").state == "stopped"

    asyncio.run(main())


def test_a_state_database_failure_is_reported_and_the_daemon_goes_on(
    paths: Paths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    import cells.mgr.daemon as daemon_module

    applied(paths, "kind: Cell\nname: web\nservice: {command: [sleep, '600']}\n")
    real = daemon_module.applied_cells_of
    failures = {"left": 1}

    def flaky(p: Paths) -> dict[str, object]:
        if failures["left"]:
            failures["left"] -= 1
            raise sqlite3.DatabaseError("database disk image is malformed")
        return real(p)  # type: ignore[return-value]

    async def main() -> None:
        async with running_daemon(paths) as d, AsyncClient(paths.socket) as c:
            monkeypatch.setattr(daemon_module, "applied_cells_of", flaky)
            d._wake.set()
            await wait_for(lambda: failures["left"] == 0)
            await asyncio.sleep(0.3)
            assert (await c.status())["cells"][0]["name"] == "web"

    asyncio.run(main())
    err = capsys.readouterr().err
    assert "cellmgr: reconcile: a state database: the database is corrupt" in err
    assert "Traceback" not in err


def test_a_daemon_that_cannot_start_leaves_no_socket(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import cells.mgr.daemon as daemon_module

    applied(paths, "kind: Cell\nname: web\nservice: {command: [sleep, '600']}\n")

    def corrupt(p: Paths) -> dict[str, object]:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(daemon_module, "applied_cells_of", corrupt)

    async def main() -> None:
        d = Daemon(paths, open_kernel("sim", paths.state_dir), SimHost(), interval=0.1)
        with pytest.raises(sqlite3.DatabaseError):
            await asyncio.wait_for(d.run(None), 20)

    asyncio.run(main())
    assert not paths.socket.exists()


def test_status_right_after_an_apply_shows_the_new_service(paths: Paths) -> None:
    from cells.cli.mgr import cli
    from click.testing import CliRunner

    async def main() -> None:
        kernel = open_kernel("sim", paths.state_dir)
        d = Daemon(paths, kernel, SimHost(), interval=3600)  # no reconcile pass meanwhile
        ready = asyncio.Event()
        task = asyncio.create_task(d.run(None, ready.set))
        await asyncio.wait_for(ready.wait(), 10)
        try:
            (paths.config_dir / "a.yaml").write_text(
                "kind: Cell\nname: c\nservice: {command: [sleep, '600']}\n"
            )

            def cli_apply() -> int:
                return CliRunner().invoke(cli(), ["apply", "--yes"]).exit_code

            assert await asyncio.to_thread(cli_apply) == 0
            async with AsyncClient(paths.socket) as c:
                rows = {r["name"]: r for r in (await c.status())["cells"]}
            assert rows["c"]["service"] == "stopped"
        finally:
            d.request_stop()
            await asyncio.wait_for(task, 20)

    asyncio.run(main())
