"""cellui --host: the daemon's IPC stream through SSH (cellmgr ipc-bridge).

A real `cellmgr daemon` runs on "the host" (the sim, with the test's
paths); the client side reaches it only through the forwarder's private
Unix socket, each connection a channel running the bridge there."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import time
from collections.abc import Iterator

import pytest
from cells.ipc.client import AsyncClient, ConnectionLost
from cells.remote.bridge import Forwarder
from cells.remote.ssh import connect
from cells.remote.ui import bridge_command

from .conftest import Remote, host_env, tool

MANIFEST = "kind: Cell\nname: web\nprofile: medium\n"


class Daemon:
    def __init__(self, r: Remote) -> None:
        self.env = dict(r.env, **host_env(r.host_dir), CELLS_CONFIG_DIR=str(r.config_dir))
        self.socket = host_env(r.host_dir)["CELLS_SOCKET"]
        (r.config_dir / "cells.yaml").write_text(MANIFEST)
        self.log = r.host_dir / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [tool("cellmgr"), "daemon"], env=self.env, stdout=log, stderr=log,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 20
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"cellmgr daemon did not start:\n{self.log.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


@pytest.fixture
def daemon(remote: Remote) -> Iterator[Daemon]:
    d = Daemon(remote)
    d.start()
    yield d
    d.stop()


def test_the_daemon_answers_through_the_bridge(remote: Remote, daemon: Daemon) -> None:
    command = bridge_command(remote.env["CELLS_REMOTE_COMMAND"], None)
    with connect("cellhost") as session, Forwarder(session, command, label="cellhost") as fwd:
        assert stat.S_ISSOCK(os.stat(fwd.path).st_mode)
        assert stat.S_IMODE(os.stat(os.path.dirname(fwd.path)).st_mode) == 0o700
        assert "cellhost" in fwd.path

        async def talk() -> tuple[dict[str, object], list[str], list[str]]:
            async with AsyncClient(fwd.path) as c:
                hello = await c.hello()
                await c.apply()
                names = [row["name"] for row in (await c.status())["cells"]]
            # A second connection: a new channel, the same daemon.
            async with AsyncClient(fwd.path) as c:
                again = [row["name"] for row in (await c.status())["cells"]]
            return hello, names, again

        hello, names, again = asyncio.run(asyncio.wait_for(talk(), 30))
        assert hello["backend"] == "sim"
        assert names == again == ["web"]
        fwd_dir = os.path.dirname(fwd.path)
    assert not os.path.exists(fwd_dir)  # the private socket is gone with cellui


def test_no_daemon_is_a_lost_connection_not_a_hang(remote: Remote) -> None:
    command = bridge_command(remote.env["CELLS_REMOTE_COMMAND"], None)
    with connect("cellhost") as session, Forwarder(session, command) as fwd:

        async def talk() -> None:
            async with AsyncClient(fwd.path) as c:
                await c.hello()

        with pytest.raises(ConnectionLost):
            asyncio.run(asyncio.wait_for(talk(), 30))


def test_ipc_bridge_without_a_daemon_is_one_line(remote: Remote) -> None:
    env = dict(remote.env, **host_env(remote.host_dir))
    result = subprocess.run(
        [tool("cellmgr"), "ipc-bridge"], env=env, capture_output=True, timeout=30, check=False
    )
    assert result.returncode == 1
    (line,) = result.stderr.decode().splitlines()
    assert line.startswith("cellmgr: error: cannot reach cellmgr daemon at ")


def test_cellui_shows_the_remote_cells(remote: Remote, daemon: Daemon) -> None:
    from cells.ui.app import CellUI

    command = bridge_command(remote.env["CELLS_REMOTE_COMMAND"], None)
    with connect("cellhost") as session, Forwarder(session, command, label="cellhost") as fwd:

        async def scenario() -> list[str]:
            async with AsyncClient(fwd.path) as c:
                await c.apply()
            app = CellUI(fwd.path, backoff=(0.05, 0.2), poll_interval=0.2)
            async with app.run_test(size=(120, 36)) as pilot:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    snap = app.snapshot
                    if app.link.connected and snap is not None and snap.cells:
                        return [c.name for c in snap.cells]
                    await pilot.pause(0.05)
            return []

        assert asyncio.run(scenario()) == ["web"]


def test_cellui_host_with_an_unknown_key_is_one_line(remote: Remote) -> None:
    (remote.home / ".ssh" / "known_hosts").unlink()
    result = subprocess.run(
        [tool("cellui"), "--host", "cellhost"], env=remote.env, capture_output=True, timeout=30,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    (line,) = result.stderr.decode().splitlines()
    assert line.startswith("cellui: error: the host key of [127.0.0.1]:")
