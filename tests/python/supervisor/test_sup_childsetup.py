"""The child-setup step: cells on the sim, rlimits, identities, one-line errors."""

from __future__ import annotations

import os
import pwd
from dataclasses import replace
from pathlib import Path

import pytest
from cells.errors import InvalidArgument, PermissionDenied
from cells.kernel import open_kernel
from cells.kernel.api import CellRef, CellSpec, Kernel
from cells.supervisor import ServiceSpec, Supervisor, parse_restart, parse_rlimit
from cells.supervisor.accounts import resolve_identity
from cells.supervisor.childsetup import plan_child_setup
from sup_helpers import Recorder, run


@pytest.fixture
def sim(tmp_path: Path) -> tuple[Kernel, Path]:
    root = tmp_path / "roots" / "web"
    (root / "etc").mkdir(parents=True)
    (root / "srv").mkdir()
    (root / "etc" / "passwd").write_text(
        "root:*:0:0:Charlie &:/root:/bin/sh\nwww:*:80:81:web:/srv:/sbin/nologin\n"
    )
    (root / "etc" / "group").write_text("wheel:*:0:root\nwww:*:81:\nlogs:*:90:www,root\n")
    kernel = open_kernel("sim", tmp_path / "state")
    kernel.create(CellSpec(name="web", root=str(root)))
    return kernel, root


def _once(name: str, argv: tuple[str, ...], rec: Recorder, **kw: object) -> ServiceSpec:
    spec = ServiceSpec(name=name, argv=argv, restart=parse_restart("no"), log_sink=rec.sink)
    return replace(spec, **kw)  # type: ignore[arg-type]


def test_sim_cell_service_runs_in_its_root_as_a_member(
    sim: tuple[Kernel, Path], rec: Recorder
) -> None:
    kernel, root = sim
    script = 'pwd; echo "$CELL $HOME"; read _ < /dev/null; exec sleep 30'

    async def scenario() -> None:
        sup = Supervisor(kernel=kernel, on_event=rec.on_event)
        sup.add(_once("web", ("sh", "-c", script), rec, cell="web"))
        status = await sup.start("web")
        assert (status.state, status.cell) == ("running", "web")
        await rec.until(lambda: len(rec.lines_of("web")) >= 2)
        assert kernel.get("web").nprocs == 1
        await sup.stop("web")
        assert kernel.get("web").nprocs == 0
        await sup.close()

    run(scenario())
    assert rec.lines_of("web") == [str(root), f"web {root}"]
    kernel.destroy("web")


def test_rlimits_reach_the_child_of_a_cell(sim: tuple[Kernel, Path], rec: Recorder) -> None:
    kernel, _ = sim
    limits = (parse_rlimit("nofile=99:120"), parse_rlimit("core=0"))

    async def scenario() -> None:
        sup = Supervisor(kernel=kernel)
        sup.add(_once("lim", ("cat", "/proc/self/limits"), rec, cell="web", rlimits=limits))
        await sup.start("lim")
        await sup.wait_down("lim")
        await sup.close()

    run(scenario())
    rows = {line[:26].strip(): line[26:].split() for line in rec.lines_of("lim")}
    assert rows["Max open files"][:2] == ["99", "120"]
    assert rows["Max core file size"][:2] == ["0", "0"]


def test_rlimit_on_a_host_service(rec: Recorder) -> None:
    async def scenario() -> None:
        sup = Supervisor()
        spec = _once("h", ("sh", "-c", "ulimit -n"), rec, rlimits=(parse_rlimit("nofile=123"),))
        sup.add(spec)
        await sup.start("h")
        await sup.wait_down("h")
        await sup.close()

    run(scenario())
    assert rec.lines_of("h") == ["123"]


class _RefusingKernel:
    """A sim kernel whose enter fails in the child, as a busy or dying cell would."""

    def __init__(self, inner: Kernel) -> None:
        self._inner = inner
        self.backend = inner.backend
        self.enforcing = inner.enforcing

    def get(self, cell: CellRef) -> object:
        return self._inner.get(cell)

    def enter(self, cell: CellRef) -> None:
        raise PermissionDenied(f"enter cell '{cell}': operation needs host root")


def test_enter_failure_is_one_line_and_no_traceback(
    sim: tuple[Kernel, Path], rec: Recorder
) -> None:
    kernel, _ = sim

    async def scenario() -> None:
        sup = Supervisor(kernel=_RefusingKernel(kernel), on_event=rec.on_event)  # type: ignore[arg-type]
        sup.add(_once("web", ("true",), rec, cell="web"))
        status = await sup.start("web")
        assert status.state == "failed"
        assert status.message == (
            "cannot enter cell web: enter cell '1': operation needs host root"
        )
        await sup.close()

    run(scenario())
    assert rec.lines == []


def test_bad_working_directory_is_one_line(rec: Recorder) -> None:
    async def scenario() -> str | None:
        sup = Supervisor()
        sup.add(_once("cwd", ("true",), rec, cwd="/nonexistent/dir"))
        status = await sup.start("cwd")
        assert status.state == "failed"
        await sup.close()
        return status.message

    message = run(scenario())
    assert message == (
        "cannot change directory to /nonexistent/dir in the host: No such file or directory"
    )
    assert rec.lines == []


def test_missing_command_is_one_line(sim: tuple[Kernel, Path], rec: Recorder) -> None:
    kernel, _ = sim

    async def scenario() -> str | None:
        sup = Supervisor(kernel=kernel)
        sup.add(_once("web", ("no-such-command-xyz",), rec, cell="web"))
        status = await sup.start("web")
        await sup.close()
        return status.message

    assert run(scenario()) == (
        "cannot run no-such-command-xyz in cell web: No such file or directory"
    )


def test_unknown_cell_is_one_line(sim: tuple[Kernel, Path], rec: Recorder) -> None:
    kernel, _ = sim

    async def scenario() -> str | None:
        sup = Supervisor(kernel=kernel)
        sup.add(_once("x", ("true",), rec, cell="nosuch"))
        status = await sup.start("x")
        assert status.state == "failed"
        await sup.close()
        return status.message

    message = run(scenario())
    assert message is not None and "\n" not in message
    assert message.startswith("service x: cell nosuch: ")


def test_identity_comes_from_the_cells_own_files(sim: tuple[Kernel, Path]) -> None:
    _, root = sim
    ident = resolve_identity("www", None, str(root), "service web")
    assert (ident.uid, ident.gid, ident.groups, ident.home) == (80, 81, (81, 90), "/srv")
    ident = resolve_identity("www", "logs", str(root), "service web")
    assert (ident.uid, ident.gid, ident.groups) == (80, 90, (90,))
    ident = resolve_identity("1234", "555", str(root), "service web")
    assert (ident.uid, ident.gid, ident.groups, ident.user_name) == (1234, 555, (555,), None)
    with pytest.raises(InvalidArgument, match=r"unknown user 'nobody-here' in .*/etc; add it"):
        resolve_identity("nobody-here", None, str(root), "service web")
    with pytest.raises(InvalidArgument, match="unknown group 'staff'"):
        resolve_identity(None, "staff", str(root), "service web")


class _NetbsdLike:
    """Reports as the netbsd backend, to plan (not run) a chrooted child."""

    backend = "netbsd"
    enforcing = True

    def __init__(self, inner: Kernel) -> None:
        self._inner = inner

    def get(self, cell: CellRef) -> object:
        return self._inner.get(cell)


def test_netbsd_plan_chroots_enters_then_drops(
    sim: tuple[Kernel, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    kernel, root = sim
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    spec = ServiceSpec(
        name="web",
        argv=("httpd",),
        cell="web",
        user="www",
        rlimits=(parse_rlimit("nofile=64"),),
        env={"A": "1"},
    )
    planned = plan_child_setup(spec, _NetbsdLike(kernel))  # type: ignore[arg-type]
    setup = planned.setup
    assert (setup.chroot, setup.cwd, setup.uid, setup.gid, setup.groups) == (
        str(root),
        "/",
        80,
        81,
        (81, 90),
    )
    assert setup.enter is not None
    assert [r[1:] for r in setup.rlimits] == [("nofile", 64, 64)]
    assert planned.env["HOME"] == "/srv"
    assert (planned.env["USER"], planned.env["CELL"], planned.env["A"]) == ("www", "web", "1")


def test_sim_without_root_leaves_the_identity_alone(
    sim: tuple[Kernel, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    kernel, _ = sim
    monkeypatch.setattr(os, "geteuid", lambda: 4321)
    spec = ServiceSpec(name="web", argv=("httpd",), cell="web", user="www")
    planned = plan_child_setup(spec, kernel)
    assert (planned.setup.uid, planned.setup.gid, planned.setup.groups) == (None, None, None)
    assert planned.note == "sim backend without root: user and group left unchanged"


def test_host_service_cannot_switch_user_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 4321)
    spec = ServiceSpec(name="h", argv=("true",), user="0")
    with pytest.raises(InvalidArgument, match="switching user or group needs root; run as root"):
        plan_child_setup(spec, None)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching user needs root")
def test_user_and_group_are_dropped_as_root(rec: Recorder) -> None:
    nobody = pwd.getpwnam("nobody")

    async def scenario() -> None:
        sup = Supervisor()
        sup.add(_once("u", ("sh", "-c", "id -u; id -g; id -G"), rec, user="nobody"))
        await sup.start("u")
        await sup.wait_down("u")
        await sup.close()

    run(scenario())
    uid, gid, groups = rec.lines_of("u")
    assert (int(uid), int(gid)) == (nobody.pw_uid, nobody.pw_gid)
    assert "0" not in groups.split()
