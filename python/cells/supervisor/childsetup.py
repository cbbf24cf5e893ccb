"""The one step that puts a freshly forked child into its cell, then execs.

`plan_child_setup()` runs in the supervisor: it resolves the cell (root,
id), the user and group (from the cell's own passwd and group files) and
the rlimits, and decides what the child must do.  The result is a
`ChildSetup`, called in the child between fork and exec (as `preexec_fn`):

  netbsd (an enforcing backend):
          chroot(root), chdir(cwd or "/"), enter(cell), setrlimit...,
          setgroups/setgid/setuid
  sim:    chdir(root + cwd), enter(cell) (membership record), setrlimit...,
          setgroups/setgid/setuid only when running as root

A failure in the child is written as one line ("cannot enter cell web:
...") to a pipe that the parent reads (`cells.supervisor.spawn`); nothing is
printed and no traceback escapes.  Callers: `cells.supervisor.spawn`, the
supervisor engine (services and healthchecks alike).
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from dataclasses import dataclass

from cells.errors import CellsError, InvalidArgument
from cells.kernel.api import Kernel, Rlimit
from cells.supervisor.accounts import resolve_identity
from cells.supervisor.spec import RLIM_INFINITY, ServiceSpec

#: The environment of a cell service before the spec's own `env` is added.
CELL_PATH = "/bin:/sbin:/usr/bin:/usr/sbin:/usr/pkg/bin:/usr/pkg/sbin:/usr/local/bin"

_RESOURCES: dict[str, int] = {
    "nofile": resource.RLIMIT_NOFILE,
    "as": resource.RLIMIT_AS,
    "core": resource.RLIMIT_CORE,
    "nproc": resource.RLIMIT_NPROC,
}


def _limit(value: int) -> int:
    return resource.RLIM_INFINITY if value == RLIM_INFINITY else value


@dataclass(frozen=True)
class ChildSetup:
    """What the child does before exec; every field was resolved by the parent."""

    label: str
    chroot: str | None = None
    cwd: str | None = None
    enter: Callable[[], None] | None = None
    rlimits: tuple[tuple[int, str, int, int], ...] = ()
    uid: int | None = None
    gid: int | None = None
    groups: tuple[int, ...] | None = None

    def run(self, report_fd: int) -> None:
        """Run in the child.  On failure write one line to `report_fd` and raise."""
        step = f"start in {self.label}"
        try:
            if self.chroot is not None:
                step = f"chroot to {self.chroot} for {self.label}"
                os.chroot(self.chroot)
            if self.cwd is not None:
                step = f"change directory to {self.cwd} in {self.label}"
                os.chdir(self.cwd)
            if self.enter is not None:
                step = f"enter {self.label}"
                self.enter()
            for res, name, soft, hard in self.rlimits:
                step = f"set rlimit {name} in {self.label}"
                resource.setrlimit(res, (_limit(soft), _limit(hard)))
            if self.groups is not None:
                step = f"set supplementary groups in {self.label}"
                os.setgroups(list(self.groups))
            if self.gid is not None:
                step = f"switch to gid {self.gid} in {self.label}"
                os.setgid(self.gid)
            if self.uid is not None:
                step = f"switch to uid {self.uid} in {self.label}"
                os.setuid(self.uid)
        except BaseException as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            message = f"cannot {step}: {reason or type(exc).__name__}"
            os.write(report_fd, message.encode("utf-8", "replace")[:4000])
            raise


@dataclass(frozen=True)
class PlannedChild:
    """The setup step plus the environment of a service's processes."""

    setup: ChildSetup
    env: dict[str, str]
    cell_name: str | None
    note: str | None = None


def _merge_rlimits(
    cell_limits: tuple[Rlimit, ...], service_limits: tuple[Rlimit, ...]
) -> tuple[tuple[int, str, int, int], ...]:
    merged: dict[str, Rlimit] = {r.resource: r for r in cell_limits}
    merged.update({r.resource: r for r in service_limits})
    return tuple((_RESOURCES[name], name, r.soft, r.hard) for name, r in sorted(merged.items()))


def plan_child_setup(spec: ServiceSpec, kernel: Kernel | None) -> PlannedChild:
    """Resolve everything the child needs; raise `CellsError` (one line) if impossible.

    Cell rlimits recorded in the kernel apply first; the service's own
    rlimits override them resource by resource.
    """
    where = f"service {spec.name}"
    if spec.cell is None:
        ident = resolve_identity(spec.user, spec.group, None, where)
        _check_can_switch(ident.uid, ident.gid, where)
        host_env = dict(os.environ)
        host_env.update(spec.env)
        setup = ChildSetup(
            label="the host",
            cwd=spec.cwd,
            rlimits=_merge_rlimits((), spec.rlimits),
            uid=ident.uid,
            gid=ident.gid,
            groups=ident.groups,
        )
        return PlannedChild(setup=setup, env=host_env, cell_name=None)

    if kernel is None:
        raise InvalidArgument(f"{where}: runs in cell {spec.cell} but no kernel backend is open")
    try:
        info = kernel.get(spec.cell)
    except CellsError as exc:
        raise type(exc)(f"{where}: cell {spec.cell}: {exc}") from None
    label = f"cell {info.name}"
    ident = resolve_identity(spec.user, spec.group, info.root, f"{where} in {label}")
    cell_id = info.id

    def enter() -> None:
        kernel.enter(cell_id)

    chrooted = kernel.enforcing
    note = None
    uid, gid, groups = ident.uid, ident.gid, ident.groups
    if chrooted:
        _check_can_switch(uid, gid, where)
        cwd = spec.cwd or "/"
        chroot: str | None = info.root
        home = ident.home or "/"
    else:
        if (uid is not None or gid is not None) and os.geteuid() != 0:
            note = f"{kernel.backend} backend without root: user and group left unchanged"
            uid = gid = None
            groups = None
        cwd = _inside(info.root, spec.cwd or "/")
        chroot = None
        home = _inside(info.root, ident.home or "/")

    env: dict[str, str] = {"PATH": CELL_PATH, "HOME": home, "CELL": info.name}
    if ident.user_name is not None:
        env["USER"] = env["LOGNAME"] = ident.user_name
    env.update(spec.env)
    setup = ChildSetup(
        label=label,
        chroot=chroot,
        cwd=cwd,
        enter=enter,
        rlimits=_merge_rlimits(info.rlimits, spec.rlimits),
        uid=uid,
        gid=gid,
        groups=groups,
    )
    return PlannedChild(setup=setup, env=env, cell_name=info.name, note=note)


def _inside(root: str, path: str) -> str:
    """`path` of a cell as seen from the host (sim: no chroot)."""
    return os.path.normpath(os.path.join(root, path.lstrip("/")))


def _check_can_switch(uid: int | None, gid: int | None, where: str) -> None:
    if os.geteuid() == 0:
        return
    if (uid is not None and uid != os.geteuid()) or (gid is not None and gid != os.getegid()):
        raise InvalidArgument(f"{where}: switching user or group needs root; run as root")
