"""`cellctl exec CELL [CMD...]`: run a command (or a shell) in a cell.

netbsd: chroot to the cell's root, enter the cell, exec.  sim: no chroot
(the sim isolates nothing, and says so); the working directory becomes the
cell's root, the process is recorded as a member, then exec.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import click

from cells.cli.app import Application, pass_app
from cells.cli.ctl.common import complete_cell

SHELL = "/bin/sh"
#: The search path of a clean environment (NetBSD's, then pkgsrc's).
CLEAN_PATH = "/bin:/sbin:/usr/bin:/usr/sbin:/usr/pkg/bin:/usr/pkg/sbin"
#: What a clean environment keeps of the caller's: the terminal and locale.
KEPT = ("TERM", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ")


def clean_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment a process starts with in a cell under --clean-env:
    nothing of the host's but the terminal and the locale (no secrets,
    agent sockets or host paths cross into the cell)."""
    env = {k: environ[k] for k in KEPT if k in environ}
    home = "/root" if os.geteuid() == 0 else "/"
    env.update(PATH=CLEAN_PATH, HOME=home, SHELL=SHELL)
    if os.geteuid() == 0:
        env.update(USER="root", LOGNAME="root")
    return env


@click.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("cell", shell_complete=complete_cell)
@click.option(
    "-l",
    "--clean-env",
    "clean_env_",
    is_flag=True,
    help="Start COMMAND with a clean environment (PATH, HOME, SHELL, the terminal and "
    "locale), as jexec -l does; otherwise it inherits this one.",
)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@pass_app
def exec_cell(app: Application, cell: str, clean_env_: bool, command: tuple[str, ...]) -> None:
    """Run COMMAND inside CELL (a name or an id); with no COMMAND, an
    interactive shell with the prompt "[name]# ".

    The process stays in the cell with all its children; the cell cannot be
    destroyed while any of them lives.  Put "--" before a COMMAND that has
    options of its own.

    \b
    Examples:
      cellctl exec web
      cellctl exec web -- /usr/sbin/httpd -f -s
      cellctl exec --clean-env web -- /usr/pkg/bin/pkg_info
    """
    kernel = app.kernel()
    info = kernel.get(cell)
    argv = list(command)
    env = clean_env(os.environ) if clean_env_ else dict(os.environ)
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
