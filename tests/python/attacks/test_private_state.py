"""Attacks on files and the daemon socket: secrets readable by every local
user, a 0777 run directory under umask 000, and a fake daemon put on the
socket path by another user, which root's `cellmgr status` once talked to."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cells.mgr.paths import Paths

NOBODY = 65534


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def modes(top: Path) -> dict[str, int]:
    """Mode bits of every directory and file below `top` (top included)."""
    out = {".": stat.S_IMODE(top.stat().st_mode)}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            out[str(path.relative_to(top))] = stat.S_IMODE(path.lstat().st_mode)
    return out


def paths_in(tmp_path: Path) -> Paths:
    return Paths(
        config_dir=tmp_path / "etc",
        state_dir=tmp_path / "db",
        cells_dir=tmp_path / "cells",
        backup_dir=tmp_path / "backups",
        socket=tmp_path / "run" / "cells" / "cellmgr.sock",
    )


def test_state_is_private_under_umask_000(tmp_path: Path, make_root: Any) -> None:
    from cells.ipc.server import IpcServer
    from cells.kernel.api import CellSpec
    from cells.kernel.sim import SimKernel
    from cells.mgr.journal import StateDB
    from cells.mgr.lock import apply_lock
    from cells.supervisor.logstore import LogStore
    from cells.supervisor.runrecord import RunRecords

    paths = paths_in(tmp_path)
    root = str(make_root("web"))

    async def handler(method: str, params: dict[str, Any], conn: Any) -> Any:
        return {}

    async def serve() -> dict[str, int]:
        server = IpcServer(paths.socket, handler)
        await server.start()
        try:
            return modes(paths.socket.parent)
        finally:
            await server.close()

    with umask(0):
        kernel = SimKernel(paths.state_dir)
        kernel.create(CellSpec("web", root))
        pid = os.fork()
        if pid == 0:  # a member: enter writes its ticket in the child
            try:
                kernel.enter("web")
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        db = StateDB(paths.db)
        db.record("Cell", "web", {"service": {"env": {"TOKEN": "secret"}}})
        with apply_lock(paths.lock):
            pass
        LogStore(paths.logs)("web", "stdout", "a secret line")
        RunRecords(paths.state_dir / "run").write("web", os.getpid(), 1.0)
        run = asyncio.run(serve())
        state = modes(paths.state_dir)
        db.close()
    assert run == {".": 0o700, "cellmgr.sock": 0o600}
    for name in ("sim.db", "cellmgr.db", "cellmgr.db-wal", "cellmgr.db-shm", "logs/web.log"):
        assert name in state, sorted(state)
    assert any(n.startswith("members/") for n in state) and "run/web.json" in state
    loose = {n: oct(m) for n, m in state.items() if m not in (0o700, 0o600)}
    assert loose == {}
    dirs = {n for n in state if (paths.state_dir / n).is_dir()}
    assert all(state[n] == 0o700 for n in dirs)


def test_existing_loose_state_is_tightened(tmp_path: Path) -> None:
    from cells.mgr.journal import StateDB

    paths = paths_in(tmp_path)
    paths.state_dir.mkdir(mode=0o755)
    os.chmod(paths.state_dir, 0o755)
    StateDB(paths.db).close()
    for name in ("cellmgr.db", "cellmgr.db-wal", "cellmgr.db-shm"):
        path = paths.state_dir / name
        if path.exists():
            os.chmod(path, 0o644)
    StateDB(paths.db).close()
    state = modes(paths.state_dir)
    assert state["."] == 0o700
    assert {n: m for n, m in state.items() if n != "."} == dict.fromkeys(
        state.keys() - {"."}, 0o600
    )


def test_shared_state_dir_is_refused_not_chmoded(tmp_path: Path) -> None:
    from cells.errors import CellsError
    from cells.mgr.journal import StateDB

    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    with pytest.raises(CellsError, match="sticky bit set"):
        StateDB(shared / "cellmgr.db")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777


def test_world_writable_socket_dir_is_refused(tmp_path: Path) -> None:
    # The attack: under umask 000 the daemon made its run dir 0777 and a
    # local user replaced the socket.  Such a directory is now refused.
    from cells.errors import CellsError
    from cells.ipc.server import IpcServer

    run = tmp_path / "run"
    run.mkdir()
    os.chmod(run, 0o777)

    async def handler(method: str, params: dict[str, Any], conn: Any) -> Any:
        return {}

    with pytest.raises(CellsError, match="writable by other users"):
        asyncio.run(IpcServer(run / "cellmgr.sock", handler).start())
    assert list(run.iterdir()) == []


@contextlib.contextmanager
def fake_daemon_as_nobody(path: Path) -> Iterator[Any]:
    """A server on `path` run by uid 65534; yields a function that returns
    how many bytes the next connection sent it."""
    ready_r, ready_w = os.pipe()
    report_r, report_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(ready_r)
            os.close(report_r)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.bind(str(path))
            server.listen(8)
            os.write(ready_w, b"ready\n")
            server.settimeout(20)
            while True:
                conn, _ = server.accept()
                conn.settimeout(3)
                # A fake hello first, as a daemon would answer.
                with contextlib.suppress(OSError):
                    conn.sendall(b'{"v":1,"id":1,"ok":true,"result":{"server":"cellmgr"}}\n')
                got = 0
                with contextlib.suppress(OSError):
                    while chunk := conn.recv(65536):
                        got += len(chunk)
                conn.close()
                os.write(report_w, f"{got}\n".encode())
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(report_w)
    reports = os.fdopen(report_r, "rb")
    try:
        with os.fdopen(ready_r, "rb") as ready:
            assert ready.readline() == b"ready\n"
        yield lambda: int(reports.readline())
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        reports.close()


@pytest.fixture
def replaced_socket() -> Iterator[tuple[Path, Any]]:
    if os.geteuid() != 0:
        pytest.skip("needs root to run the fake daemon as another uid (65534)")
    top = Path(tempfile.mkdtemp(prefix="cells-fake-"))
    try:
        os.chmod(top, 0o777)  # the careless run dir of the attack
        path = top / "cellmgr.sock"
        with fake_daemon_as_nobody(path) as sent:
            assert path.stat().st_uid == NOBODY
            yield path, sent
    finally:
        for child in top.iterdir():
            child.unlink()
        top.rmdir()


def test_client_refuses_a_server_of_another_user(replaced_socket: tuple[Path, Any]) -> None:
    from cells.ipc.client import AsyncClient, Client, UntrustedServer

    path, sent = replaced_socket
    with pytest.raises(UntrustedServer, match=f"served by uid {NOBODY}, not by root"):
        Client(path, timeout=5).connect()
    assert sent() == 0

    async def connect() -> None:
        await asyncio.wait_for(AsyncClient(path).connect(), 5)

    with pytest.raises(UntrustedServer):
        asyncio.run(connect())
    assert sent() == 0


def test_cellmgr_status_and_stop_refuse_a_fake_daemon(
    replaced_socket: tuple[Path, Any], tmp_path: Path
) -> None:
    from cells.cli.mgr import cli
    from click.testing import CliRunner

    path, sent = replaced_socket
    (tmp_path / "etc").mkdir()
    env = {
        "CELLS_BACKEND": "sim",
        "CELLS_QUIET": "1",
        "CELLS_CONFIG_DIR": str(tmp_path / "etc"),
        "CELLS_STATE_DIR": str(tmp_path / "db"),
        "CELLS_SOCKET": str(path),
    }
    for args in (["status"], ["stop", "--all"]):
        result = CliRunner().invoke(cli(), args, env=env)
        assert (result.exit_code, result.stdout) == (1, ""), result.stderr
        assert result.stderr.count("\n") == 1 and "refusing to talk to" in result.stderr
        assert sent() == 0


def test_cell_roots_and_volumes_are_out_of_host_users_reach(tmp_path: Path) -> None:
    """A cell's root can hold a setuid-root program the cell made; a host user
    who could walk to it would run it as root on the host.  The directories
    holding roots and volumes are 0700, also under umask 000 and when they
    were made loose before."""
    from cells.kernel import open_kernel
    from cells.mgr.apply import Manager
    from cells.mgr.host import SimHost

    paths = paths_in(tmp_path)
    paths.config_dir.mkdir(parents=True)
    (paths.config_dir / "web.yaml").write_text(
        "kind: Volume\nname: data\n---\nkind: Cell\nname: web\nmounts: [data:/data:rw]\n"
    )
    (paths.cells_dir / "cells").mkdir(parents=True)
    (paths.cells_dir / "cells").chmod(0o755)
    with umask(0):
        manager = Manager(paths, open_kernel("sim", paths.state_dir), SimHost())
        try:
            assert manager.apply().ok
        finally:
            manager.close()
    for holder in paths.holders():
        assert stat.S_IMODE(holder.stat().st_mode) == 0o700, holder
    assert paths.root("web").is_dir() and paths.volume("data").is_dir()
