"""`cellmgr shell CELL`: an interactive shell inside a cell (cellctl exec)."""

from __future__ import annotations

import os
import sys

import click

from cells.cli.mgr.common import MgrApp, pass_mgr


@click.command()
@click.argument("cell")
@pass_mgr
def shell(app: MgrApp, cell: str) -> None:
    """Open a shell in CELL: chroot to its root, enter it, exec a shell.

    The same machinery as 'cellctl exec CELL'.

    \b
    Example:
      cellmgr shell web
    """
    app.kernel().get(cell)
    argv = [sys.executable, "-m", "cells.cli.ctl"]
    if app.backend:
        argv += ["--backend", app.backend]
    if app.state_dir:
        argv += ["--state-dir", app.state_dir]
    os.execv(sys.executable, [*argv, "exec", cell])
