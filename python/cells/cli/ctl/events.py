"""`cellctl events`: the kernel's audit ring of denials, once or followed."""

from __future__ import annotations

import time
from dataclasses import asdict

import click

from cells.cli.app import Application, Number, pass_app

POLL_SECONDS = 1.0
TSV_KEYS = ("seq", "time", "cell", "target", "euid", "scope", "op", "reason")


@click.command()
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events as they come.")
@click.option(
    "--since",
    type=Number(0, (1 << 63) - 1),
    default=0,
    metavar="SEQ",
    help="Start at this sequence number.",
)
@click.option(
    "--json",
    "fmt",
    flag_value="json",
    help="JSON Lines: one object per event with the keys seq, time, cell, "
    "target, euid, scope, op, reason, action, request.",
)
@click.option(
    "--tsv",
    "fmt",
    flag_value="tsv",
    help="Tab-separated values with the header seq, time, cell, target, euid, scope, op, "
    "reason (ids and epoch seconds).",
)
@pass_app
def events(app: Application, follow: bool, since: int, fmt: str | None) -> None:
    """Print the audit ring: one line per denial, oldest first.

    Columns: SEQ, TIME (UTC), CELL (subject), TARGET (object's cell or port
    owner), EUID, OP, REASON.  The ring keeps the newest 1024 events.

    \b
    Examples:
      cellctl events
      cellctl events --follow --since 120
      cellctl events --json | jq 'select(.op == "process.signal")'
    """
    kernel = app.kernel()
    names: dict[int, str] = {0: "host"}
    looked_up: set[int] = {0}
    if fmt == "tsv":
        app.out("\t".join(TSV_KEYS))
    elif fmt is None:
        app.out(
            f"{'SEQ':>8}  {'TIME':20}  {'CELL':16}  {'TARGET':16}  {'EUID':>6}  {'OP':22}  REASON"
        )
    while True:
        batch = kernel.events(since)
        unknown = {i for e in batch for i in (e.cell, e.target)} - looked_up
        if fmt is None and unknown:
            names.update({c.id: c.name for c in kernel.list()})
            looked_up |= unknown | set(names)
        for ev in batch:
            if fmt == "json":
                app.json_line(asdict(ev))
            elif fmt == "tsv":
                record = asdict(ev)
                app.out("\t".join(str(record[k]) for k in TSV_KEYS))
            else:
                app.out(
                    f"{ev.seq:>8}  {_utc(ev.time):20}  {names.get(ev.cell, str(ev.cell)):16}  "
                    f"{names.get(ev.target, str(ev.target)):16}  {ev.euid:>6}  {ev.op:22}  "
                    f"{ev.reason}"
                )
        if batch:
            since = batch[-1].seq + 1
        if not follow:
            return
        time.sleep(POLL_SECONDS)


def _utc(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
