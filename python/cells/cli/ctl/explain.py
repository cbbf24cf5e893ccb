"""`cellctl explain CELL ACTION [TARGET]`: what the policy decides and why.

The answer comes from the compiled core's own table and decision function,
the code the kernel runs.
"""

from __future__ import annotations

from dataclasses import asdict

import click

from cells.cli.app import Application, Column, Number, pass_app
from cells.cli.ctl.common import complete_cell

ROW_COLUMNS = (
    Column("OP", "op"),
    Column("SCOPE", "scope"),
    Column("CLASS", "klass"),
    Column("LOW", "low"),
    Column("MEDIUM", "medium"),
    Column("HIGH", "high"),
    Column("RELAXED-BY", "relaxed_by", lambda v: v or "-", lambda v: v or ""),
)


@click.command()
@click.argument("cell", required=False, shell_complete=complete_cell)
@click.argument("action", required=False)
@click.argument("target", required=False)
@click.option(
    "--euid",
    type=Number(0, 2**32 - 1),
    default=0,
    show_default=True,
    help="Effective uid of the subject.",
)
@click.option("--list", "show_table", is_flag=True, help="Print the whole policy table.")
@click.option(
    "--record",
    is_flag=True,
    help="Sim only: also count and audit a denial as a kernel listener would.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.option("--tsv", is_flag=True, help="With --list: tab-separated values, header row first.")
@pass_app
def explain(
    app: Application,
    cell: str | None,
    action: str | None,
    target: str | None,
    euid: int,
    show_table: bool,
    record: bool,
    as_json: bool,
    tsv: bool,
) -> None:
    """Explain what the policy decides when a process in CELL (a name, an
    id, or "host") does ACTION (an operation such as process.signal or
    network.bind) to TARGET.

    \b
    TARGET for cross-cell operations: another cell, or "host" (default).
    TARGET for network.bind: PORT, ADDR:PORT or [IPV6]:PORT (default 0).
    Other operations take no TARGET.

    Prints the verdict (deny, defer: other security models decide, or
    allow), the reason, and the row of the policy table.  --json keys:
    cell, op, scope, verdict, reason, detail, target, euid, row.

    \b
    Examples:
      cellctl explain web process.signal db
      cellctl explain web network.bind 192.0.2.10:443
      cellctl explain host network.bind 80 --euid 1000
      cellctl explain --list
    """
    kernel = app.kernel()
    rows = {r.op: r for r in kernel.policy()}
    if show_table:
        records = [asdict(r) for r in rows.values()]
        app.listing(ROW_COLUMNS, records, fmt="json" if as_json else "tsv" if tsv else "table")
        return
    if cell is None or action is None:
        raise click.UsageError("CELL and ACTION are required (or --list)")
    if record:
        from cells.kernel.sim import SimKernel

        if not isinstance(kernel, SimKernel):
            app.abort("--record works only on the sim backend")
        decision = kernel.attempt(cell, action, target, euid=euid)
    else:
        decision = kernel.explain(cell, action, target, euid=euid)
    row = rows[decision.op]
    if as_json:
        app.json({**asdict(decision), "target": target, "euid": euid, "row": asdict(row)})
        return
    subject = "host" if decision.cell == 0 else f"cell {decision.cell}"
    app.out(f"verdict: {decision.verdict}")
    app.out(f"reason:  {decision.reason} ({decision.detail})")
    app.out(f"subject: {subject}, euid {euid}; target: {target or '-'}")
    app.out(
        f"row:     {row.op} scope={row.scope} class={row.klass} low={row.low} "
        f"medium={row.medium} high={row.high} relaxed-by={row.relaxed_by or '-'}"
    )
    app.out(f"         {row.doc}")
