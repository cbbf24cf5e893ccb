"""cellctl: the low-level runtime tool of Cells (talks only to cells.kernel).

This module only wires the click group: global options, and one lazily
imported module per verb (start-up time matters: `cellctl --version` never
imports click's commands, the kernel or the binding).  The console script
`cellctl` calls `main()`.
"""

from __future__ import annotations

import sys

from cells import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: verb -> "module:attribute" below cells.cli.ctl.
COMMANDS = {
    "create": "create:create",
    "destroy": "destroy:destroy",
    "list": "list:list_cells",
    "stats": "stats:stats",
    "exec": "exec:exec_cell",
    "events": "events:events",
    "explain": "explain:explain",
    "supervise": "supervise:supervise",
}
#: Verbs whose module may be absent from an installation.
OPTIONAL = {"supervise"}

EPILOG = """\b
Examples:
  cellctl create web --root /var/cells/web --profile high --port 80 --port 443
  cellctl list
  cellctl exec web -- /usr/sbin/httpd -f
  cellctl supervise web -- /usr/sbin/httpd -f
  cellctl explain web process.signal host
  cellctl stats --prometheus
  cellctl destroy web

The sim backend (chosen automatically off NetBSD or when secmodel_cell is
not loaded) runs the same policy core but enforces nothing on the host.
"""


def _group() -> Any:
    import click

    from cells.cli.app import Application, CellsGroup
    from cells.remote.options import host_options

    class CtlGroup(CellsGroup):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return [n for n in COMMANDS if self.get_command(ctx, n) is not None]

        def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
            if name not in COMMANDS:
                return None
            module, attr = COMMANDS[name].split(":")
            path = f"cells.cli.ctl.{module}"
            try:
                mod = __import__(path, fromlist=[attr])
            except ModuleNotFoundError as exc:
                if name in OPTIONAL and exc.name == path:
                    return None
                raise
            command: click.Command = getattr(mod, attr)
            return command

    @click.group(cls=CtlGroup, epilog=EPILOG, context_settings={"max_content_width": 100})
    @click.option(
        "--backend",
        type=click.Choice(["auto", "netbsd", "sim"]),
        envvar="CELLS_BACKEND",
        default="auto",
        show_default=True,
        help="Kernel backend: netbsd (secmodel_cell via sysctl), sim (in-process "
        "core, enforces nothing), or auto.  Env: CELLS_BACKEND.",
    )
    @click.option(
        "--state-dir",
        envvar="CELLS_STATE_DIR",
        metavar="DIR",
        help="State directory of the sim backend.  Env: CELLS_STATE_DIR.  [default: /var/db/cells]",
    )
    @click.option(
        "--debug",
        is_flag=True,
        envvar="CELLS_DEBUG",
        help="Show the traceback of an error.  Env: CELLS_DEBUG.",
    )
    @host_options
    @click.version_option(__version__, prog_name="cellctl", message="%(prog)s %(version)s")
    @click.pass_context
    def cellctl(ctx: click.Context, backend: str, state_dir: str | None, debug: bool) -> None:
        """Create, enter, inspect and destroy cells (kernel-enforced
        isolation domains of secmodel_cell)."""
        ctx.obj = Application("cellctl", backend=backend, state_dir=state_dir, debug=debug)

    return cellctl


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the `cellctl` console script."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        sys.stdout.write(f"cellctl {__version__}\n")
        return 0
    remote = _remote(args)
    if remote is not None:
        return remote
    return _loaded(_group).main(args=args, prog_name="cellctl")


#: Global options that take a value (see cells.remote.argv).
VALUE_OPTIONS = frozenset({"--backend", "--state-dir"})


def _remote(args: list[str]) -> int | None:
    """With --host (or CELLS_HOST), run the command line on that host."""
    from cells.remote.argv import dispatch

    return dispatch("cellctl", args, VALUE_OPTIONS)


def _loaded(build: Callable[[], Any]) -> Any:
    """`build()` with the cyclic garbage collector paused, then everything
    it loaded frozen (gc.freeze: module-level objects live until exit, so
    no collection, including the one at interpreter exit, need walk them).
    Importing click allocates enough to trigger several full collections,
    and walking its objects again at exit costs as much; together a
    quarter of the run time of a short command."""
    import gc

    gc.disable()
    try:
        return build()
    finally:
        gc.freeze()
        gc.enable()


def cli() -> Any:
    """The click group (for tests and documentation tools)."""
    return _group()
