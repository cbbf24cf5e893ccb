"""`cellmgr ipc-bridge`: the daemon's IPC socket on stdin/stdout (for SSH)."""

from __future__ import annotations

import click

from cells.cli.mgr.common import MgrApp, pass_mgr


@click.command("ipc-bridge")
@pass_mgr
def ipc_bridge(app: MgrApp) -> None:
    """Connect stdin/stdout to the daemon's socket until either side closes.

    'cellui --host H' runs this on H through SSH.  The daemon checks the
    peer as for any local client: the bridge runs as the SSH user.

    \b
    Example:
      ssh host cellmgr ipc-bridge
    """
    from cells.remote.bridge import serve_stdio

    path = app.paths().socket
    try:
        serve_stdio(str(path))
    except OSError as e:
        app.abort(
            f"cannot reach cellmgr daemon at {path}: {e.strerror or e}; start it with "
            "'cellmgr daemon' (or /etc/rc.d/cellmgr start)"
        )
