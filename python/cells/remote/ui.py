"""`cellui --host H`: the TUI on this machine, the daemon on H.

One SSH connection; every connection cellui makes to its (local, private)
socket becomes a channel running `cellmgr ipc-bridge` on the host
(cells.remote.bridge), so reconnecting after a daemon restart works as it
does locally.  `shell` in the TUI runs `cellmgr --host H shell CELL`.
Callers: cells.ui.app.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable

from cells.remote.bridge import Forwarder
from cells.remote.run import command_line, fail
from cells.remote.ssh import RemoteError, connect


def bridge_command(remote_command: str | None, socket: str | None) -> str:
    options = ["--socket", socket] if socket else []
    return command_line("cellmgr", remote_command, [*options, "ipc-bridge"])


def shell_argv(host: str, remote_command: str | None) -> Callable[[str], list[str]]:
    sibling = os.path.join(os.path.dirname(sys.executable), "cellmgr")
    exe = sibling if os.access(sibling, os.X_OK) else (shutil.which("cellmgr") or "cellmgr")
    extra = ["--remote-command", remote_command] if remote_command else []

    def argv(cell: str) -> list[str]:
        return [exe, "--host", host, *extra, "shell", cell]

    return argv


def run_remote(host: str, remote_command: str | None, socket: str | None) -> int:
    from cells.ui.app import CellUI

    try:
        session = connect(host)
    except RemoteError as e:
        return fail("cellui", str(e))
    try:
        with Forwarder(session, bridge_command(remote_command, socket), label=host) as fwd:
            app = CellUI(fwd.path, shell_argv=shell_argv(host, remote_command))
            app.run()
    finally:
        session.close()
    return 0
