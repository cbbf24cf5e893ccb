"""`cellctl stats`: kernel-wide counters and per-cell gauges, as text,
JSON or Prometheus exposition (optionally as an HTTP/1.0 response for
inetd)."""

from __future__ import annotations

import sys
from dataclasses import asdict

import click

from cells.cli.app import Application, pass_app

HTTP_HEAD_BYTES = 8192  # of a request head read before answering under inetd
HTTP_HEAD_SECONDS = 5.0  # for all of it


@click.command()
@click.option("--json", "as_json", is_flag=True, help="JSON with stable keys.")
@click.option("--prometheus", is_flag=True, help="Prometheus text exposition format.")
@click.option(
    "--http", is_flag=True, help="With --prometheus: write a whole HTTP/1.0 response (for inetd)."
)
@pass_app
def stats(app: Application, as_json: bool, prometheus: bool, http: bool) -> None:
    """Show kernel-wide statistics: cells, ids, audit ring and deny
    counters per scope (all subjects and host subjects).

    \b
    --json prints the keys backend, enforcing, abi_version, ncells,
    max_cells, next_id, hz, audit_head, audit_size, log_suppressed,
    denies, host_denies, and cells (as in `cellctl list --json`).

    \b
    Examples:
      cellctl stats
      cellctl stats --prometheus
      # /etc/inetd.conf: serve the metrics on port 9742
      9742 stream tcp nowait root /usr/pkg/bin/cellctl cellctl stats --prometheus --http
    """
    if http and not prometheus:
        raise click.UsageError("--http needs --prometheus")
    if as_json and prometheus:
        raise click.UsageError("--json and --prometheus exclude each other")
    kernel = app.kernel()
    st = kernel.stats()
    cells = kernel.list()
    if prometheus:
        from cells.cli.ctl.metrics import exposition

        body = exposition(st, cells)
        if http:
            _read_request()
            head = (
                "HTTP/1.0 200 OK\r\n"
                "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            )
            app.write(head + body.decode())
        else:
            app.write(body.decode())
        return
    if as_json:
        from cells.cli.ctl.common import cell_record

        app.json({**asdict(st), "cells": [cell_record(c) for c in cells]})
        return
    app.out(f"backend:        {st.backend} ({'enforcing' if st.enforcing else 'enforces nothing'})")
    app.out(f"abi version:    {st.abi_version}")
    app.out(f"cells:          {st.ncells} of {st.max_cells}")
    app.out(f"next id:        {st.next_id}")
    app.out(f"audit:          head {st.audit_head}, ring of {st.audit_size}")
    app.out(f"log suppressed: {st.log_suppressed}")
    app.out("denies:         " + _counts(st.denies))
    app.out("host denies:    " + _counts(st.host_denies))


def _counts(counts: dict[str, int]) -> str:
    return " ".join(f"{scope}={n}" for scope, n in counts.items())


def _read_request() -> None:
    """Consume an HTTP request head from inetd's socket, if one is there.

    Bounded: at most HTTP_HEAD_BYTES within HTTP_HEAD_SECONDS in all, read
    without blocking on a line that never ends (a client that sends half a
    request gets its answer when the time is up, and the process exits)."""
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        return
    import os
    import select
    import time

    try:
        fd = stdin.fileno()
    except (OSError, ValueError):
        return
    deadline = time.monotonic() + HTTP_HEAD_SECONDS
    head = b""
    while len(head) < HTTP_HEAD_BYTES and b"\r\n\r\n" not in head and b"\n\n" not in head:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return
        try:
            chunk = os.read(fd, HTTP_HEAD_BYTES - len(head))
        except OSError:
            return
        if not chunk:
            return
        head += chunk
