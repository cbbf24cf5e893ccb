"""`cellctl supervise CELL -- CMD...`: run one service in a cell, in the foreground.

Runs the supervisor engine (`cells.supervisor`) for a single service until
SIGTERM, SIGINT or SIGHUP, then stops the service (TERM to its process
group, KILL after the grace period) and exits 0.  Output lines go to syslog
with the tag `cell/<name>` on NetBSD, and to the local log store (read back
by `cellmgr logs`) on the sim or when `--log-dir` is given.  State changes
are reported on stderr.  Registered by the `cellctl` group
(`cells.cli.ctl.__init__`).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from cells.cli.app import Application, pass_app

if TYPE_CHECKING:
    from cells.kernel.api import Kernel, Rlimit
    from cells.supervisor import LogSink, RestartPolicy, ServiceEvent, ServiceSpec

EXIT_OK = 0
EXIT_ERROR = 1


def _restart_option(ctx: click.Context, param: click.Parameter, value: str) -> RestartPolicy:
    from cells.errors import CellsError
    from cells.supervisor.spec import parse_restart

    try:
        return parse_restart(value)
    except CellsError as exc:
        raise click.BadParameter(str(exc)) from None


def _rlimit_option(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[Rlimit, ...]:
    from cells.errors import CellsError
    from cells.supervisor.spec import parse_rlimit

    try:
        return tuple(parse_rlimit(v) for v in values)
    except CellsError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("supervise", context_settings={"ignore_unknown_options": True})
@click.argument("cell")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option(
    "--user", "-u", metavar="USER", help="Run as USER (name in the cell's passwd, or uid)."
)
@click.option("--group", "-g", metavar="GROUP", help="Run with primary GROUP (name or gid).")
@click.option(
    "--restart",
    default="on-failure",
    show_default=True,
    metavar="POLICY",
    callback=_restart_option,
    help="no | on-failure[:N] | always.",
)
@click.option(
    "--stop-timeout",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    metavar="S",
    help="Seconds between TERM and KILL when stopping.",
)
@click.option(
    "--rlimit",
    "rlimits",
    multiple=True,
    metavar="NAME=SOFT[:HARD]",
    callback=_rlimit_option,
    help="nofile, as, core or nproc; repeatable (overrides the cell's rlimits).",
)
@click.option(
    "--backoff",
    nargs=2,
    type=click.FloatRange(min=0.001),
    default=(1.0, 60.0),
    show_default=True,
    metavar="INITIAL MAX",
    help="Restart delay: starts at INITIAL seconds, doubles, capped at MAX.",
)
@click.option(
    "--log-dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Write output to the log store in DIR.  [default on the sim: STATE_DIR/logs; "
    "on NetBSD: syslog]",
)
@click.option(
    "--syslog-facility",
    default="daemon",
    show_default=True,
    metavar="FACILITY",
    help="Facility of the output lines sent to syslog.",
)
@pass_app
def supervise(
    app: Application,
    cell: str,
    command: tuple[str, ...],
    user: str | None,
    group: str | None,
    restart: RestartPolicy,
    stop_timeout: float,
    rlimits: tuple[Rlimit, ...],
    backoff: tuple[float, float],
    log_dir: str | None,
    syslog_facility: str,
) -> None:
    """Run COMMAND as a service in CELL and keep it running until SIGTERM,
    SIGINT or SIGHUP; then stop it (TERM, KILL after --stop-timeout) and exit.

    The service runs in its own process group: a stop reaches every process
    it started.  Its pid is recorded under STATE_DIR/run/supervise; a later
    `cellctl supervise` stops what a supervisor killed by SIGKILL left
    running before it starts anything.  Its stdout and stderr lines go to
    syslog (tag "cell/NAME", info and err) on NetBSD, or to the log store
    (`cellmgr logs NAME`).
    Put "--" before COMMAND.

    \b
    Exit status:
      0  stopped by a signal, or the service exited 0 and is not restarted
      1  error: unknown cell or user, the service could not be started, it
         exited non-zero with no restart left, or it was given up on
      2  usage error

    \b
    Examples:
      cellctl supervise web --user www -- /usr/sbin/httpd -f
      cellctl supervise db --restart on-failure:5 --stop-timeout 30 -- /usr/pkg/bin/postgres
      cellctl supervise web --rlimit nofile=1024 --log-dir /var/log/cells -- ./serve
    """
    import asyncio

    from cells.supervisor import ServiceSpec
    from cells.supervisor.syslog_sink import FACILITIES

    if backoff[1] < backoff[0]:
        raise click.BadParameter("MAX must not be below INITIAL", param_hint="'--backoff'")
    if syslog_facility not in FACILITIES:
        raise click.BadParameter(
            f"{syslog_facility!r} is not one of " + ", ".join(FACILITIES),
            param_hint="'--syslog-facility'",
        )
    kernel = app.kernel()
    info = kernel.get(cell)
    sink = _sink(app, kernel, info.name, log_dir, syslog_facility)
    spec = ServiceSpec(
        name=info.name,
        argv=command,
        cell=info.id,
        user=user,
        group=group,
        rlimits=rlimits,
        restart=restart,
        backoff_initial=backoff[0],
        backoff_max=backoff[1],
        stop_timeout=stop_timeout,
        log_sink=sink,
    )
    try:
        code, message = asyncio.run(_run(app, kernel, spec))
    finally:
        close = getattr(sink, "close", None)
        if close is not None:
            close()
    if code != EXIT_OK:
        app.abort(message or "the service ended", code)
    if message:
        app.note(message)


def _sink(
    app: Application, kernel: Kernel, cell_name: str, log_dir: str | None, facility: str
) -> LogSink:
    from cells.supervisor import LogStore, SyslogSink

    if log_dir is None and kernel.enforcing:
        return SyslogSink(facility=facility, tag=f"cell/{cell_name}")
    if log_dir is None:
        from cells.kernel import state_dir_from_env

        log_dir = str(state_dir_from_env(app.state_dir) / "logs")
    return LogStore(log_dir)


def _reporter(app: Application) -> Callable[[ServiceEvent], None]:
    """State changes worth a line on stderr."""

    def report(event: ServiceEvent) -> None:
        status = event.status
        if event.leftover and event.message:
            app.note(event.message)
            return
        if status.state == event.previous and event.message is None:
            return
        if status.state == "running" and event.previous != "running":
            app.note(f"{status.name}: running, pid {status.pid}")
        elif status.state == "backoff" and status.started_at is not None:
            app.note(f"{status.name}: {event.message}")
        elif status.state == "stopping" and event.previous != "stopping":
            app.note(f"{status.name}: stopping")
        elif event.message and status.state == "running":
            app.note(f"{status.name}: {event.message}")

    return report


async def _run(app: Application, kernel: Kernel, spec: ServiceSpec) -> tuple[int, str | None]:
    """Supervise until a signal or until the service is down for good."""
    import asyncio

    from cells.supervisor import Supervisor

    loop = asyncio.get_running_loop()
    requested = asyncio.Event()
    # SIGHUP too: a supervisor whose terminal goes away must not leave its
    # service running unsupervised in another session.
    signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    for sig in signals:
        loop.add_signal_handler(sig, requested.set)
    from cells.kernel import state_dir_from_env

    run_dir = state_dir_from_env(app.state_dir) / "run" / "supervise"
    sup = Supervisor(kernel=kernel, on_event=_reporter(app), run_dir=run_dir)
    sup.add(spec)
    try:
        status = await sup.start(spec.name)
        if status.started_at is None:
            return EXIT_ERROR, status.error or status.message
        down = loop.create_task(sup.wait_down(spec.name))
        stop = loop.create_task(requested.wait())
        await asyncio.wait({down, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if requested.is_set():
            down.cancel()
            status = await sup.stop(spec.name)
            return EXIT_OK, f"{spec.name}: stopped"
        status = down.result()
        if status.state == "exited" and status.exit_code == 0:
            return EXIT_OK, f"{spec.name}: exited with status 0"
        return EXIT_ERROR, f"service in cell {spec.name}: {status.message or status.state}"
    finally:
        await sup.close()
        for sig in signals:
            loop.remove_signal_handler(sig)
