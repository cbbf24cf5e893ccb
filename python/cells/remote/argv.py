"""Find the remote target in a tool's command line, before anything else runs.

`split(args, value_options)` takes `--host H` and `--remote-command CMD`
(or `CELLS_HOST` / `CELLS_REMOTE_COMMAND`) out of the global options, the
ones before the verb, and says where the verb is.  Only the standard
library is used here: every CLI start calls it.  Callers: cells.cli.ctl,
cells.cli.mgr, cells.ui.app.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

HOST_ENV = "CELLS_HOST"
REMOTE_COMMAND_ENV = "CELLS_REMOTE_COMMAND"


@dataclass
class Split:
    """A command line with the remote options taken out."""

    host: str | None
    remote_command: str | None
    #: Global options (before the verb), in order, without --host/--remote-command.
    options: list[str] = field(default_factory=list)
    #: The verb, or None when the line has none (e.g. only --help).
    verb: str | None = None
    #: Everything after the verb.
    rest: list[str] = field(default_factory=list)

    @property
    def args(self) -> list[str]:
        """The command line to run on the host."""
        return [*self.options, *([self.verb] if self.verb else []), *self.rest]


def split(
    args: list[str], value_options: frozenset[str], env: dict[str, str] | None = None
) -> Split:
    """Take the remote options out of the global options of `args`.

    `value_options` are the tool's global options that take a value (so
    their value is not mistaken for the verb)."""
    environ = os.environ if env is None else env
    out = Split(environ.get(HOST_ENV) or None, environ.get(REMOTE_COMMAND_ENV) or None)
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in ("--host", "--remote-command"):
            if not eq:
                if i + 1 >= len(args):
                    out.options.append(arg)  # let click report the missing value
                    return out
                value = args[i + 1]
                i += 1
            if name == "--host":
                out.host = value or None
            else:
                out.remote_command = value or None
        elif arg == "--":
            out.rest = args[i + 1 :]
            return out
        elif arg.startswith("-"):
            out.options.append(arg)
            if name in value_options and not eq and i + 1 < len(args):
                out.options.append(args[i + 1])
                i += 1
        else:
            out.verb, out.rest = arg, args[i + 1 :]
            return out
        i += 1
    return out


def dispatch(prog: str, args: list[str], value_options: frozenset[str]) -> int | None:
    """With --host (or CELLS_HOST), run `prog`'s command line on that host
    and return its exit status; None when the command is a local one.  The
    CLIs call this first thing in main(), so the transport is imported only
    when a host is named."""
    if not os.environ.get("CELLS_HOST") and not any(a.startswith("--host") for a in args):
        return None
    where = split(args, value_options)
    if where.host is None:
        return None
    from cells.remote.run import main as run_remote

    return run_remote(prog, where)
