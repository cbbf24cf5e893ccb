"""Where the cellmgr daemon's socket is: the one default, and CELLS_SOCKET.

The IPC library and the TUI find the socket here, without importing the
manager; `cells.mgr.paths` takes its default from here too.  Callers:
cells.ipc.client, cells.ui, cells.mgr.paths.
"""

from __future__ import annotations

import os

DEFAULT_SOCKET = "/var/run/cells/cellmgr.sock"


def default_socket() -> str:
    """CELLS_SOCKET when set, else the default path."""
    return os.environ.get("CELLS_SOCKET") or DEFAULT_SOCKET
