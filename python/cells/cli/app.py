"""The application object every command of a CLI reaches through click.

One `Application` per run owns the streams and the output contract:
human tables (fixed column order), `--json` (stable keys) and `--tsv`
(fixed header row) go to stdout; notes and errors go to stderr; `abort()`
prints `<prog>: error: <message>` and exits (1 by default).  Commands never
print or exit directly.  `CellsGroup` is the error boundary: every expected
failure is one line and exit 1, a usage error one line and exit 2, a
closed stdout a quiet exit; a traceback only with --debug.  It also holds the
global options shared by the tools (backend, state dir) and opens the
kernel lazily.  Callers: cells.cli.ctl, cells.cli.mgr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from cells.kernel.api import Kernel

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Column:
    """One column of a listing: header, JSON/TSV key, and how to show a value."""

    header: str
    key: str
    human: Callable[[Any], str] = str
    tsv: Callable[[Any], str] = str


def join_list(values: Iterable[Any]) -> str:
    return ",".join(str(v) for v in values)


def dash_list(values: Iterable[Any]) -> str:
    return join_list(values) or "-"


class Application:
    """Output, errors and shared options for one invocation of a tool."""

    def __init__(
        self,
        prog: str,
        *,
        backend: str | None = None,
        state_dir: str | None = None,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        debug: bool = False,
    ) -> None:
        self.prog = prog
        self.debug = debug
        self.backend = backend
        self.state_dir = state_dir
        self._stdout = stdout
        self._stderr = stderr
        self._kernel: Kernel | None = None

    # -- streams ----------------------------------------------------------

    @property
    def stdout(self) -> IO[str]:
        return self._stdout or sys.stdout

    @property
    def stderr(self) -> IO[str]:
        return self._stderr or sys.stderr

    @property
    def interactive(self) -> bool:
        """True when stdout is a terminal (progress and colour may show)."""
        return self.stdout.isatty()

    def out(self, text: str = "") -> None:
        """One line of data on stdout."""
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def write(self, text: str) -> None:
        """Raw data on stdout, exactly as given."""
        self.stdout.write(text)
        self.stdout.flush()

    def note(self, text: str) -> None:
        """One line for people on stderr."""
        self.stderr.write(f"{self.prog}: {text}\n")
        self.stderr.flush()

    def abort(self, message: str, code: int = 1) -> NoReturn:
        """Report one error line on stderr and exit with `code`."""
        self.stderr.write(f"{self.prog}: error: {message}\n")
        self.stderr.flush()
        raise click.exceptions.Exit(code)

    # -- listings -----------------------------------------------------------

    def table(self, columns: Sequence[Column], records: Sequence[dict[str, Any]]) -> None:
        """A human table: a header row, then one aligned row per record."""
        rows = [[c.header for c in columns]]
        rows += [[c.human(r[c.key]) for c in columns] for r in records]
        widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
        for row in rows:
            cells = [v.ljust(w) for v, w in zip(row, widths, strict=True)]
            self.out("  ".join(cells).rstrip())

    def tsv(self, columns: Sequence[Column], records: Sequence[dict[str, Any]]) -> None:
        """Tab-separated values with a fixed header row of keys."""
        self.out("\t".join(c.key for c in columns))
        for r in records:
            self.out("\t".join(_tsv_field(c.tsv(r[c.key])) for c in columns))

    def json(self, data: Any) -> None:
        """One JSON document (keys in the order given): indented on a
        terminal, compact otherwise (the C encoder; pipes want speed)."""
        import json

        if self.interactive:
            self.out(json.dumps(data, indent=2))
        else:
            self.out(json.dumps(data, separators=(",", ":")))

    def json_line(self, data: Any) -> None:
        """One JSON document on one line (JSON Lines streams)."""
        import json

        self.out(json.dumps(data, separators=(",", ":")))

    def listing(
        self,
        columns: Sequence[Column],
        records: Sequence[dict[str, Any]],
        *,
        fmt: str,
        document: Any = None,
    ) -> None:
        """Show records as a table, TSV, or JSON (`document`, else the list)."""
        if fmt == "json":
            self.json(records if document is None else document)
        elif fmt == "tsv":
            self.tsv(columns, records)
        else:
            self.table(columns, records)

    # -- the kernel -----------------------------------------------------------

    def kernel(self) -> Kernel:
        """The backend chosen by the global options (opened once)."""
        if self._kernel is None:
            from cells.kernel import open_kernel

            self._kernel = open_kernel(self.backend, self.state_dir)
        return self._kernel


def _tsv_field(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


pass_app = click.make_pass_decorator(Application)


class Number(click.ParamType):  # type: ignore[type-arg]
    """A decimal integer in [low, high], written with ASCII digits only:
    no sign, space, underscore or other digits that int() would take."""

    name = "integer"

    def __init__(self, low: int = 0, high: int = (1 << 63) - 1) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.isascii() and value.isdigit():
            number = int(value)
        else:
            self.fail(f"{value!r} is not a decimal number", param, ctx)
        if not self.low <= number <= self.high:
            self.fail(f"{value} is not in the range {self.low}-{self.high}", param, ctx)
        return number


def output_options(*, tsv: bool = True) -> Callable[[F], F]:
    """`--json` (and `--tsv`) flags that set a command's `fmt` argument."""

    def decorate(func: F) -> F:
        if tsv:
            func = click.option(
                "--tsv", "fmt", flag_value="tsv", help="Tab-separated values, header row first."
            )(func)
        func = click.option("--json", "fmt", flag_value="json", help="JSON with stable keys.")(func)
        return func

    return decorate


class CellsGroup(click.Group):
    """The error boundary of a tool: every expected failure (`CellsError`,
    OSError, the state databases, bad input; see cells.failures) is one
    line and exit 1, a usage error one line and exit 2, a closed stdout a
    quiet exit 141 (as a tool killed by SIGPIPE), anything else one
    "internal error" line; the traceback only with --debug."""

    _obj: object = None

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        kwargs["standalone_mode"] = False
        prog = kwargs.get("prog_name") or self.name or "cells"
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as exc:
            cmd = exc.ctx.command_path if exc.ctx is not None else prog
            sys.stderr.write(f"{prog}: usage error: {exc.format_message()} (see: {cmd} --help)\n")
            sys.exit(2)
        except click.ClickException as exc:
            sys.stderr.write(f"{prog}: error: {exc.format_message()}\n")
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            sys.stderr.write(f"{prog}: interrupted\n")
            sys.exit(130)
        except BrokenPipeError:
            _quiet_stdout()
            sys.exit(141)
        except Exception as exc:
            self._fail(prog, exc)
        # Without standalone mode click returns Exit codes instead of exiting.
        sys.exit(result if isinstance(result, int) else 0)

    def _fail(self, prog: str, exc: Exception) -> NoReturn:
        from cells.failures import describe

        app = self._obj if isinstance(self._obj, Application) else None
        if (app is not None and app.debug) or os.environ.get("CELLS_DEBUG", "") not in ("", "0"):
            raise exc
        line = describe(exc, app.state_dir if app is not None else None)
        if line is None:
            line = (
                f"internal error: {type(exc).__name__}: {exc}; "
                "rerun with --debug for the traceback and report it"
            )
        try:
            sys.stderr.write(f"{prog}: error: {' '.join(line.split())}\n")
            sys.stderr.flush()
        except BrokenPipeError:
            pass
        if isinstance(exc, BrokenPipeError):
            _quiet_stdout()
        sys.exit(1)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # Before click's own handler (exit 1): quiet, and the status of
            # a tool that SIGPIPE ended, as `ls | head -1` leaves it.
            _quiet_stdout()
            sys.exit(141)
        finally:
            self._obj = ctx.obj  # for main(): the options (--debug, --state-dir)


def _quiet_stdout() -> None:
    """The reader went away: say nothing more, and let the exit flush nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
