"""cellmgr: declarative desired state for cells (plan, apply, daemon).

This module only wires the click group: global options and one lazily
imported module per verb.  The console script `cellmgr` calls `main()`.
"""

from __future__ import annotations

import sys
from typing import Any

from cells import __version__

#: verb -> "module:attribute" below cells.cli.mgr.
COMMANDS = {
    "validate": "validate:validate",
    "schema": "schema:schema",
    "plan": "plan:plan_cmd",
    "apply": "apply:apply_cmd",
    "status": "status:status",
    "start": "start:start",
    "stop": "stop:stop",
    "restart": "restart:restart",
    "logs": "logs:logs",
    "shell": "shell:shell",
    "backup": "backup:backup",
    "bootstrap": "bootstrap:bootstrap",
    "daemon": "daemon:daemon",
    "ipc-bridge": "ipc_bridge:ipc_bridge",
}

EPILOG = """\b
Examples:
  cellmgr validate
  cellmgr plan
  cellmgr plan --out web.plan && cellmgr apply --plan web.plan
  cellmgr apply --yes web
  cellmgr status --json
  cellmgr logs -f web
  cellmgr backup create web

Manifests are *.yaml files in the config dir (kinds Cell and Volume); the
schema is printed by 'cellmgr schema' and described in cellmgr(8).
"""


def _group() -> Any:
    import click

    from cells.cli.app import CellsGroup
    from cells.cli.mgr.common import MgrApp
    from cells.remote.options import host_options

    class MgrGroup(CellsGroup):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return list(COMMANDS)

        def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
            if name not in COMMANDS:
                return None
            module, attr = COMMANDS[name].split(":")
            mod = __import__(f"cells.cli.mgr.{module}", fromlist=[attr])
            command: click.Command = getattr(mod, attr)
            return command

    @click.group(cls=MgrGroup, epilog=EPILOG, context_settings={"max_content_width": 100})
    @click.option(
        "--backend",
        type=click.Choice(["auto", "netbsd", "sim"]),
        envvar="CELLS_BACKEND",
        default="auto",
        show_default=True,
        help="Kernel backend.  Env: CELLS_BACKEND.",
    )
    @click.option(
        "--state-dir",
        envvar="CELLS_STATE_DIR",
        metavar="DIR",
        help="State and journal.  Env: CELLS_STATE_DIR.  [default: /var/db/cells]",
    )
    @click.option(
        "--config-dir",
        envvar="CELLS_CONFIG_DIR",
        metavar="DIR",
        help="Manifests.  Env: CELLS_CONFIG_DIR.  [default: /etc/cells]",
    )
    @click.option(
        "--cells-dir",
        envvar="CELLS_DIR",
        metavar="DIR",
        help="Bases, roots, volumes.  Env: CELLS_DIR.  [default: /var/cells]",
    )
    @click.option(
        "--backup-dir",
        envvar="CELLS_BACKUP_DIR",
        metavar="DIR",
        help="Backups.  Env: CELLS_BACKUP_DIR.  [default: /var/backups/cells]",
    )
    @click.option(
        "--socket",
        envvar="CELLS_SOCKET",
        metavar="PATH",
        help="Daemon socket.  Env: CELLS_SOCKET.  [default: /var/run/cells/cellmgr.sock]",
    )
    @click.option(
        "--debug",
        is_flag=True,
        envvar="CELLS_DEBUG",
        help="Show the traceback of an error.  Env: CELLS_DEBUG.",
    )
    @host_options
    @click.version_option(__version__, prog_name="cellmgr", message="%(prog)s %(version)s")
    @click.pass_context
    def cellmgr(
        ctx: click.Context,
        backend: str,
        state_dir: str | None,
        config_dir: str | None,
        cells_dir: str | None,
        backup_dir: str | None,
        socket: str | None,
        debug: bool,
    ) -> None:
        """Keep cells converged on declarative manifests."""
        ctx.obj = MgrApp(
            "cellmgr",
            debug=debug,
            backend=backend,
            state_dir=state_dir,
            config_dir=config_dir,
            cells_dir=cells_dir,
            backup_dir=backup_dir,
            socket=socket,
        )
        ctx.call_on_close(ctx.obj.close)

    return cellmgr


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the `cellmgr` console script."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        sys.stdout.write(f"cellmgr {__version__}\n")
        return 0
    remote = _remote(args)
    if remote is not None:
        return remote
    return _group().main(args=args, prog_name="cellmgr")


#: Global options that take a value (see cells.remote.argv).
VALUE_OPTIONS = frozenset(
    {"--backend", "--state-dir", "--config-dir", "--cells-dir", "--backup-dir", "--socket"}
)


def _remote(args: list[str]) -> int | None:
    """With --host (or CELLS_HOST), run the command line on that host."""
    from cells.remote.argv import dispatch

    return dispatch("cellmgr", args, VALUE_OPTIONS)


def cli() -> Any:
    """The click group (for tests and documentation tools)."""
    return _group()
