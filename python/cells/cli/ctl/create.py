"""`cellctl create NAME --root DIR ...`: create a cell.

Option values are parsed here only as far as click must (integers, rlimit
syntax); names, ranges and duplicates are judged by the core exactly as the
kernel judges them.
"""

from __future__ import annotations

from typing import Any

import click

from cells.cli.app import Application, Number, pass_app


def parse_rlimit(text: str) -> Any:
    """An `Rlimit` from RESOURCE=SOFT[:HARD], e.g. nofile=1024 or as=1g:2g."""
    from cells.errors import InvalidArgument
    from cells.kernel.rlimits import parse_rlimit as parse

    try:
        return parse(text)
    except InvalidArgument as exc:
        raise click.BadParameter(str(exc)) from None


def _rlimits(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> Any:
    return tuple(parse_rlimit(v) for v in values)


@click.command()
@click.argument("name")
@click.option(
    "--root", required=True, metavar="DIR", help="The cell's root directory (absolute; must exist)."
)
@click.option(
    "--profile",
    type=click.Choice(["low", "medium", "high"]),
    default="high",
    show_default=True,
    help="Hardening profile, fixed at create.",
)
@click.option(
    "--port",
    "ports",
    type=Number(0, (1 << 32) - 1),
    multiple=True,
    metavar="P",
    help="Reserve a TCP/UDP port for this cell (repeatable, at most 32).",
)
@click.option(
    "--rlimit",
    "rlimits",
    callback=_rlimits,
    multiple=True,
    metavar="RES=SOFT[:HARD]",
    help="Resource limit for processes that enter: nofile, as, core or nproc "
    "(repeatable; k/m/g/t suffixes).",
)
@click.option(
    "--bind-addr",
    "bind_addrs",
    multiple=True,
    metavar="ADDR",
    help="Allow binding only these IPv4/IPv6 addresses (repeatable, at most 8; none: any address).",
)
@click.option(
    "--allow",
    "overrides",
    type=click.Choice(["rawsock", "sysvipc"]),
    multiple=True,
    help="Relax one policy row: raw sockets (medium/high), SysV IPC (high).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the new cell as JSON.")
@pass_app
def create(
    app: Application,
    name: str,
    root: str,
    profile: str,
    ports: tuple[int, ...],
    rlimits: tuple[Any, ...],
    bind_addrs: tuple[str, ...],
    overrides: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create the cell NAME ([A-Za-z0-9._-], 1-63 bytes, starting with a
    letter) rooted at DIR and print its id.

    DIR must be a dedicated directory: not /, not a symbolic link, neither
    a system directory nor one that contains one, and outside the state,
    config, socket and backup directories.

    \b
    Examples:
      cellctl create web --root /var/cells/web --port 80 --port 443
      cellctl create db --root /var/cells/db --profile medium \\
          --bind-addr 192.0.2.10 --rlimit nofile=4096 --allow sysvipc
    """
    from cells.kernel.api import CellSpec
    from cells.mgr.paths import Paths

    Paths.resolve(state_dir=app.state_dir).check_root(root, f"create cell '{name}'")
    spec = CellSpec(
        name=name,
        root=root,
        profile=profile,  # type: ignore[arg-type]
        ports=ports,
        bind_addrs=bind_addrs,
        rlimits=tuple(rlimits),
        overrides=tuple(dict.fromkeys(overrides)),
    )
    info = app.kernel().create(spec)
    if as_json:
        from cells.cli.ctl.common import cell_record

        app.json(cell_record(info))
    else:
        app.out(str(info.id))
