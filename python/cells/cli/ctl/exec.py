"""`cellctl exec CELL [CMD...]`: run a command (or a shell) in a cell.

netbsd: chroot to the cell's root, enter the cell, exec.  sim: no chroot
(the sim isolates nothing, and says so); the working directory becomes the
cell's root, the process is recorded as a member, then exec.
"""

from __future__ import annotations

import os

import click

from cells.cli.app import Application, pass_app
from cells.cli.ctl.common import complete_cell

SHELL = "/bin/sh"


@click.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("cell", shell_complete=complete_cell)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@pass_app
def exec_cell(app: Application, cell: str, command: tuple[str, ...]) -> None:
    """Run COMMAND inside CELL (a name or an id); with no COMMAND, an
    interactive shell with the prompt "[name]# ".

    The process stays in the cell with all its children; the cell cannot be
    destroyed while any of them lives.  Put "--" before a COMMAND that has
    options of its own.

    \b
    Examples:
      cellctl exec web
      cellctl exec web -- /usr/sbin/httpd -f -s
    """
    kernel = app.kernel()
    info = kernel.get(cell)
    argv = list(command)
    env = dict(os.environ)
    if not argv:
        argv = [SHELL, "-i"]
        env["PS1"] = f"[{info.name}]# "
    if kernel.enforcing:
        try:
            os.chroot(info.root)
            os.chdir("/")
        except OSError as exc:
            app.abort(f"exec in cell '{info.name}': chroot to {info.root}: {exc.strerror}")
    else:
        app.note(
            f"the {kernel.backend} backend does not isolate: running in {info.root} without chroot"
        )
        try:
            os.chdir(info.root)
        except OSError as exc:
            app.abort(f"exec in cell '{info.name}': cd {info.root}: {exc.strerror}")
    kernel.enter(info.id)
    try:
        os.execvpe(argv[0], argv, env)
    except FileNotFoundError:
        app.abort(f"exec in cell '{info.name}': {argv[0]}: command not found", 127)
    except OSError as exc:
        app.abort(f"exec in cell '{info.name}': {argv[0]}: {exc.strerror}", 126)
