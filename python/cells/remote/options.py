"""The click side of `--host`: the options as --help shows them.

They are acted on before click runs (cells.remote.argv takes them out of
the command line), so here they only document themselves.  Callers: the
click groups of cellctl and cellmgr.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def host_options(func: F) -> F:
    """`--host` and `--remote-command` on a tool's group."""
    func = click.option(
        "--remote-command",
        metavar="CMD",
        expose_value=False,
        help="With --host: the command that starts this tool on the host ({prog} is "
        "its name).  Env: CELLS_REMOTE_COMMAND.  [default: the tool on the host's PATH]",
    )(func)
    func = click.option(
        "--host",
        metavar="[USER@]HOST[:PORT]",
        expose_value=False,
        help="Run the command on HOST over SSH (~/.ssh/config, agent, known_hosts).  "
        "Env: CELLS_HOST.",
    )(func)
    return func
