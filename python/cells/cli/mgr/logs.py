"""`cellmgr logs CELL [-f]`: the service's lines from the bounded local store."""

from __future__ import annotations

import click

from cells.cli.mgr.common import MgrApp, pass_mgr


@click.command()
@click.argument("cell")
@click.option("-n", "--lines", default=50, show_default=True, help="How many lines.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
@pass_mgr
def logs(app: MgrApp, cell: str, lines: int, follow: bool) -> None:
    """Print the last lines of CELL's service output (TIME STREAM LINE).

    The daemon keeps a bounded, rotated store per service under the state
    dir; on NetBSD the lines also go to syslog with the manifest's
    facility, levels and tag.

    \b
    Examples:
      cellmgr logs web
      cellmgr logs -f -n 0 web
    """
    from cells.supervisor.logstore import LogStore

    store = LogStore(app.paths().logs)
    cell = app.cell_name(cell)
    if not follow:
        for record in store.tail(cell, lines):
            app.out(record.format())
        return
    import time

    # The follower opens first and the tail stops where it starts, so a line
    # written in between is printed once, not lost.
    follower = store.follower(cell)
    try:
        if lines > 0:
            for record in store.tail(cell, lines, until=follower.offset):
                app.out(record.format())
        while True:
            records = follower.read()
            for record in records:
                app.out(record.format())
            if not records:
                time.sleep(0.2)
    finally:
        follower.close()
