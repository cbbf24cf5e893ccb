"""Attack: a local user holding ~250 half-sent HTTP requests on the metrics
port once exhausted the daemon's threads and descriptors; a healthy service
went to `failed` and `cellmgr restart` timed out.  Now the metrics server is
bounded, and the daemon supervises and answers on its socket throughout.

The daemon runs as a child process (its threads and descriptors are
counted from /proc); every attacking socket is on 127.0.0.1 and closed at
the end; the whole test takes a few seconds."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cells.mgr.paths import Paths

ATTACKERS = 300
MANIFEST = """\
kind: Cell
name: web
autostart: true
service: {command: [sh, -c, "exec sleep 600"], stop_timeout: 2s}
"""

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="counts the daemon's threads in /proc"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def count(pid: int, what: str) -> int:
    return len(os.listdir(f"/proc/{pid}/{what}"))


def until(cond: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if cond():  # type: ignore[operator]
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        assert r.status == 200
        body: str = r.read().decode()
        return body


@contextlib.contextmanager
def daemon(paths: Paths, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELLS_")}
    env.update(
        CELLS_BACKEND="sim",
        CELLS_QUIET="1",
        CELLS_CONFIG_DIR=str(paths.config_dir),
        CELLS_STATE_DIR=str(paths.state_dir),
        CELLS_DIR=str(paths.cells_dir),
        CELLS_BACKUP_DIR=str(paths.backup_dir),
        CELLS_SOCKET=str(paths.socket),
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cells.cli.mgr",
            "daemon",
            "--interval",
            "0.2",
            "--metrics-port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_slowloris_on_the_metrics_port(paths: Paths) -> None:
    from cells.ipc.client import Client
    from cells.kernel import open_kernel
    from cells.mgr.apply import Manager
    from cells.mgr.host import SimHost

    (paths.config_dir / "cells.yaml").write_text(MANIFEST)
    manager = Manager(paths, open_kernel("sim", paths.state_dir), SimHost())
    assert manager.apply().ok
    manager.close()
    port = free_port()
    started = time.monotonic()
    attackers: list[socket.socket] = []
    with daemon(paths, port) as proc:

        def web_state() -> str:
            with Client(paths.socket, timeout=5) as c:
                rows = {r["name"]: r for r in c.status()["cells"]}
            return str(rows["web"]["service"])

        until(lambda: web_state() == "running", 15, "the service to run")
        assert 'cells_service_up{cell="web"} 1.0' in scrape(port)
        threads, fds = count(proc.pid, "task"), count(proc.pid, "fd")
        try:
            for _ in range(ATTACKERS):
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                attackers.append(s)
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1")  # never finished
            time.sleep(0.5)  # let the daemon take them all in
            # While every attacking socket is still open on this side:
            assert 'cells_service_up{cell="web"} 1.0' in scrape(port)
            assert count(proc.pid, "task") <= threads + 2
            assert count(proc.pid, "fd") <= fds + 20
            with Client(paths.socket, timeout=10) as c:
                assert c.restart(["web"])["cells"] == ["web"]
            until(lambda: web_state() == "running", 10, "the service to run again")
            assert 'cells_service_up{cell="web"} 1.0' in scrape(port)
            assert count(proc.pid, "task") <= threads + 2
            assert count(proc.pid, "fd") <= fds + 20
        finally:
            for s in attackers:
                s.close()
        assert proc.poll() is None
    assert proc.stderr is not None
    with proc.stderr:
        complaints = proc.stderr.read().decode()
    assert "reconcile:" not in complaints and "Traceback" not in complaints, complaints
    assert time.monotonic() - started < 30


def test_half_a_request_is_dropped_after_the_timeout() -> None:
    import asyncio

    from cells.mgr.metrics import MetricsServer

    class NoKernel:
        def list(self) -> list[object]:
            return []

    async def main() -> None:
        server = MetricsServer(NoKernel(), dict, 0, timeout=0.3)  # type: ignore[arg-type]
        await server.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
            writer.write(b"GET /metrics HTTP/1.0\r\n")
            assert await asyncio.wait_for(reader.read(), 3) == b""  # closed, no answer
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
            writer.write(b"GET /nothing HTTP/1.0\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), 3)
            assert answer.startswith(b"HTTP/1.0 404 ")
            writer.close()
        finally:
            await server.close()

    asyncio.run(main())


def test_cellctl_stats_http_does_not_wait_forever(sim_env: dict[str, str]) -> None:
    # Under inetd, stdin is the client's socket: half a request line must not
    # hold the process (and a root process per connection) for ever.
    import select

    a, b = socket.socketpair()
    try:
        a.sendall(b"GET /metrics HT")
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "cells.cli.ctl", "stats", "--prometheus", "--http"],
            stdin=b,
            stdout=b,
            stderr=subprocess.DEVNULL,
        )
        try:
            ready, _, _ = select.select([a], [], [], 20)
            assert ready, "no answer within 20 s"
            assert a.recv(64).startswith(b"HTTP/1.0 200 OK")
            assert proc.wait(20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert time.monotonic() - started < 15
    finally:
        a.close()
        b.close()
