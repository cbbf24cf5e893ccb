"""Run a cellctl/cellmgr command line on a host over SSH.

`main(prog, split)` is the one dispatch point the CLIs call when `--host`
(or CELLS_HOST) is given: it connects, runs the same command line there
with the local stdout/stderr and returns its exit status, so output,
`--json` and exit codes are the host's own.  `cellmgr plan|apply|validate`
go through cells.remote.staging (local manifests).  Errors are one line
(`<prog>: error: ...`, exit 1).  Callers: cells.cli.ctl, cells.cli.mgr.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from collections.abc import Iterator
from typing import IO

from cells.remote.argv import Split
from cells.remote.ssh import RemoteError, Session, connect

#: Verbs that take the terminal (a pseudo-terminal on the host when local
#: stdin and stdout are terminals).
INTERACTIVE = {("cellctl", "exec"), ("cellmgr", "shell")}
#: cellmgr verbs that read the local config dir.
STAGED = {"plan", "apply", "validate"}


def remote_prefix(prog: str, remote_command: str | None) -> str:
    """The shell words that start `prog` on the host (default: `prog` on its PATH).

    `remote_command` may say `{prog}` for the tool's name."""
    if not remote_command:
        return prog
    return remote_command.replace("{prog}", prog)


def command_line(prog: str, remote_command: str | None, args: list[str]) -> str:
    """The command string for the host's shell (every argument quoted)."""
    tail = shlex.join(args)
    return f"{remote_prefix(prog, remote_command)}{' ' + tail if tail else ''}"


def fail(prog: str, message: str) -> int:
    sys.stderr.write(f"{prog}: error: {message}\n")
    sys.stderr.flush()
    return 1


def main(prog: str, split: Split) -> int:
    """Run `split` on `split.host`; the exit status to exit with."""
    assert split.host is not None
    try:
        with session(split.host) as s:
            if prog == "cellmgr" and split.verb in STAGED and not _help(split):
                from cells.remote.staging import staged

                return staged(s, split)
            return passthrough(s, prog, split)
    except RemoteError as e:
        return fail(prog, str(e))
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        return fail(prog, f"{where}{e.strerror or e}")
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        return 130


def _help(split: Split) -> bool:
    return any(a in ("--help", "-h") for a in split.rest)


@contextlib.contextmanager
def session(host: str) -> Iterator[Session]:
    s = connect(host)
    try:
        yield s
    finally:
        s.close()


def passthrough(s: Session, prog: str, split: Split) -> int:
    """The command as it is, on the host, with the local streams."""
    line = command_line(prog, split.remote_command, split.args)
    out, err = sys.stdout.buffer, sys.stderr.buffer
    if (prog, split.verb) in INTERACTIVE and sys.stdin.isatty() and sys.stdout.isatty():
        return _on_terminal(s, line)
    stdin: IO[bytes] | None = None if sys.stdin.isatty() else sys.stdin.buffer
    return s.run(line, stdout=out, stderr=err, stdin=stdin)


def _on_terminal(s: Session, line: str) -> int:
    """An interactive command: a pseudo-terminal there, raw mode here."""
    import termios
    import tty

    size = os.get_terminal_size(sys.stdout.fileno())
    term = os.environ.get("TERM", "vt100")
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        return s.run(
            line,
            stdout=sys.stdout.buffer,
            stderr=sys.stderr.buffer,
            stdin=sys.stdin.buffer,
            pty=(term, size.columns, size.lines),
        )
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
