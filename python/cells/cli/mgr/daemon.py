"""`cellmgr daemon`: run the supervisor, reconcile loop, IPC socket, metrics."""

from __future__ import annotations

import os

import click

from cells.cli.app import Number
from cells.cli.mgr.common import MgrApp, pass_mgr


@click.command()
@click.option(
    "--metrics-port",
    type=Number(1, 65535),
    metavar="PORT",
    help="Serve Prometheus metrics on 127.0.0.1:PORT.",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 3600),
    default=2.0,
    show_default=True,
    help="Seconds between reconcile passes.",
)
@click.option("--pidfile", type=click.Path(dir_okay=False), help="Write the pid here.")
@click.option("--detach", is_flag=True, help="Run in the background (for rc.d).")
@click.option(
    "--destroy-on-exit",
    is_flag=True,
    help="After stopping every service, destroy the managed kernel cells.",
)
@pass_mgr
def daemon(
    app: MgrApp,
    metrics_port: int | None,
    interval: float,
    pidfile: str | None,
    detach: bool,
    destroy_on_exit: bool,
) -> None:
    """Supervise the services of applied cells and serve the IPC socket.

    Services start in dependency order once their dependencies are
    healthy; restart policies, healthchecks and bounded restarts apply; on
    SIGTERM every service stops, dependents first (and, with
    --destroy-on-exit, the managed kernel cells are destroyed).  Only root or the
    socket's owner may use the socket (protocol: docs/ipc.md).

    \b
    Examples:
      cellmgr daemon --metrics-port 9417
      cellmgr --socket /tmp/cellmgr.sock daemon
    """
    import asyncio

    from cells.mgr.daemon import Daemon
    from cells.mgr.host import host_for

    paths = app.paths()
    kernel = app.kernel()
    kernel.stats()  # a missing module or ABI mismatch fails here, before detaching
    told: int | None = None
    if detach:
        # The parent exits only once the child is ready (0) or has failed
        # (1, after the child's error line): rc.d reports what happened.
        told_read, told = os.pipe()
        if os.fork() > 0:
            os.close(told)
            os._exit(0 if os.read(told_read, 1) == b"1" else 1)
        os.close(told_read)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1):
            os.dup2(devnull, fd)
    if pidfile is not None:
        # 0644 whatever the umask: rc.d kills the pid written here.
        fd = os.open(pidfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w") as f:
            os.fchmod(fd, 0o644)
            f.write(f"{os.getpid()}\n")

    def ready() -> None:
        nonlocal told
        app.note(
            f"daemon ready: socket {paths.socket}, backend {kernel.backend}"
            + (f", metrics on 127.0.0.1:{metrics_port}" if metrics_port else "")
        )
        if told is not None:
            os.write(told, b"1")
            os.close(told)
            told = None

    d = Daemon(
        paths,
        kernel,
        host_for(kernel.backend),
        interval=interval,
        destroy_on_exit=destroy_on_exit,
        debug=app.debug,
    )
    try:
        asyncio.run(d.run(metrics_port, ready))
    finally:
        if pidfile is not None and os.path.exists(pidfile):
            os.unlink(pidfile)
    for problem in d.exit_problems:
        app.note(problem)
    if d.exit_problems:
        app.abort(f"{len(d.exit_problems)} kernel cells could not be destroyed")
