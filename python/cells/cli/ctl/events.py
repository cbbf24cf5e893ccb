"""`cellctl events`: the kernel's audit ring of denials, once or followed."""

from __future__ import annotations

import time
from dataclasses import asdict

import click

from cells.cli.app import Application, pass_app

POLL_SECONDS = 1.0


@click.command()
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events as they come.")
@click.option(
    "--since",
    type=click.IntRange(min=0),
    default=0,
    metavar="SEQ",
    help="Start at this sequence number.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="JSON Lines: one object per event with the keys seq, time, cell, "
    "target, euid, scope, op, reason, action, request.",
)
@pass_app
def events(app: Application, follow: bool, since: int, as_json: bool) -> None:
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
    names: dict[int, str] = {}
    if not as_json:
        app.out(
            f"{'SEQ':>8}  {'TIME':20}  {'CELL':16}  {'TARGET':16}  {'EUID':>6}  {'OP':22}  REASON"
        )
    while True:
        batch = kernel.events(since)
        if not as_json and any(e.cell not in names or e.target not in names for e in batch):
            names.update({c.id: c.name for c in kernel.list()})
        for ev in batch:
            if as_json:
                app.json_line(asdict(ev))
                continue
            app.out(
                f"{ev.seq:>8}  {_utc(ev.time):20}  {_cell(names, ev.cell):16}  "
                f"{_cell(names, ev.target):16}  {ev.euid:>6}  {ev.op:22}  {ev.reason}"
            )
        if batch:
            since = batch[-1].seq + 1
        if not follow:
            return
        time.sleep(POLL_SECONDS)


def _utc(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _cell(names: dict[int, str], cell_id: int) -> str:
    if cell_id == 0:
        return "host"
    return names.get(cell_id, str(cell_id))
