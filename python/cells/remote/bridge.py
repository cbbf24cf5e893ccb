"""The daemon's IPC stream over SSH, for `cellui --host H`.

On the host, `serve_stdio(socket)` (`cellmgr ipc-bridge`) copies stdin to
the daemon's Unix socket and the socket to stdout: the daemon sees a
local client running as the SSH user and checks it as it checks any
other.  Here, `Forwarder` listens on a Unix socket in a fresh private
directory (0700) and carries every connection cellui makes over a new
SSH channel that runs the bridge; no TCP port is opened anywhere.
Callers: cells.cli.mgr.ipc_bridge, cells.ui.app.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import socket
import sys
import tempfile
import threading
from typing import Any

from cells.remote.ssh import Session

CHUNK = 65536


def serve_stdio(path: str) -> None:
    """Copy stdin -> socket and socket -> stdout until either side ends."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    infd, outfd = sys.stdin.fileno(), sys.stdout.fileno()
    reading = True
    try:
        while True:
            fds = [sock, infd] if reading else [sock]
            ready, _, _ = select.select(fds, [], [])
            if infd in ready:
                data = os.read(infd, CHUNK)
                if data:
                    sock.sendall(data)
                else:
                    reading = False
                    sock.shutdown(socket.SHUT_WR)
            if sock in ready:
                data = sock.recv(CHUNK)
                if not data:
                    return
                _write_all(outfd, data)
    except BrokenPipeError:
        return
    finally:
        sock.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class Forwarder:
    """A local Unix socket whose connections reach the host's daemon."""

    def __init__(self, session: Session, command: str, *, label: str = "") -> None:
        self.session, self.command = session, command
        safe = "".join(c if c.isalnum() or c in ".-_" else "_" for c in label)[:40]
        # The directory's name shows in cellui's title: it names the host.
        self.dir = tempfile.mkdtemp(prefix=f"cellui-{safe}-" if safe else "cellui-")
        os.chmod(self.dir, 0o700)
        self.path = os.path.join(self.dir, "cellmgr.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="ipc-forward", daemon=True)

    def __enter__(self) -> Forwarder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._carry, args=(conn,), daemon=True).start()

    def _carry(self, conn: socket.socket) -> None:
        """One cellui connection <-> one channel running the bridge."""
        try:
            chan = self.session.open_channel(self.command)
        except Exception:
            conn.close()  # cellui sees the daemon as unreachable and retries
            return
        try:
            _splice(conn, chan)
        finally:
            chan.close()
            conn.close()


def _splice(conn: socket.socket, chan: Any) -> None:
    conn_open = True
    while True:
        fds: list[Any] = [chan, conn] if conn_open else [chan]
        ready, _, _ = select.select(fds, [], [], 1.0)
        if conn in ready:
            data = conn.recv(CHUNK)
            if data:
                chan.sendall(data)
            else:
                conn_open = False
                chan.shutdown_write()
        if chan in ready or chan.recv_ready():
            while chan.recv_ready():
                data = chan.recv(CHUNK)
                if not data:
                    break
                conn.sendall(data)
            while chan.recv_stderr_ready():
                chan.recv_stderr(CHUNK)  # the bridge's own complaint; cellui retries
        if chan.closed or chan.eof_received:
            return
