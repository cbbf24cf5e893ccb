"""The sim backend: persistence, membership, privileges and audit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cells.errors import Busy, NotFound, PermissionDenied, PortInUse
from cells.kernel.api import CellSpec
from cells.kernel.sim import SimKernel


def test_state_survives_a_new_kernel_object(
    sim_kernel: SimKernel, state_dir: Path, make_root: Callable[[str], Path]
) -> None:
    sim_kernel.create(CellSpec("web", str(make_root("web")), ports=(80,)))
    again = SimKernel(state_dir)
    (info,) = again.list()
    assert (info.id, info.name, info.ports) == (1, "web", (80,))
    assert again.get("1") == again.get("web")


def test_ids_are_never_reused(sim_kernel: SimKernel, make_root: Callable[[str], Path]) -> None:
    root = str(make_root("r"))
    ids = [sim_kernel.create(CellSpec(f"c{i}", root)).id for i in range(3)]
    sim_kernel.destroy("c2")
    sim_kernel.destroy("c1")
    assert sim_kernel.create(CellSpec("c1", root)).id == 4
    assert ids == [1, 2, 3]
    assert sim_kernel.stats().next_id == 5


def test_sim_says_it_enforces_nothing(sim_kernel: SimKernel) -> None:
    st = sim_kernel.stats()
    assert (sim_kernel.enforcing, st.enforcing, st.backend) == (False, False, "sim")


def run_member(state_dir: Path, cell: str, then: str) -> subprocess.Popen[str]:
    """A child process that enters `cell`, prints "in", then runs `then`."""
    code = (
        "import os, sys\n"
        "from cells.kernel.sim import SimKernel\n"
        f"k = SimKernel({str(state_dir)!r})\n"
        f"k.enter({cell!r})\n"
        "print('in', k.current(), flush=True)\n"
        f"{textwrap.dedent(then)}\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().split()[0] == "in"
    return proc


def finish(member: subprocess.Popen[str]) -> str:
    """The rest of a member's output (after the line run_member read)."""
    assert member.stdout is not None
    out = member.stdout.read()
    member.wait(timeout=30)
    return out


def test_destroy_is_refused_while_a_member_lives(
    sim_kernel: SimKernel, state_dir: Path, make_root: Callable[[str], Path]
) -> None:
    sim_kernel.create(CellSpec("web", str(make_root("web"))))
    member = run_member(state_dir, "web", "import time; time.sleep(60)")
    try:
        assert sim_kernel.get("web").nprocs == 1
        with pytest.raises(Busy, match="destroy cell 'web': the cell still has processes"):
            sim_kernel.destroy("web")
    finally:
        member.kill()
        member.wait()
    sim_kernel.destroy("web")
    assert sim_kernel.list() == []


def test_a_zombie_member_still_counts(
    sim_kernel: SimKernel, state_dir: Path, make_root: Callable[[str], Path]
) -> None:
    sim_kernel.create(CellSpec("web", str(make_root("web"))))
    member = run_member(state_dir, "web", "os._exit(0)")
    deadline = time.monotonic() + 10
    while Path(f"/proc/{member.pid}/stat").read_text().split(") ")[1][0] != "Z":
        assert time.monotonic() < deadline, "child did not exit"
        time.sleep(0.02)
    with pytest.raises(Busy):
        sim_kernel.destroy("web")
    member.wait()  # reaped: the member is gone
    sim_kernel.destroy("web")


def test_current_and_host_only_operations(
    sim_kernel: SimKernel, state_dir: Path, make_root: Callable[[str], Path]
) -> None:
    sim_kernel.create(CellSpec("web", str(make_root("web"))))
    then = """
        from cells.kernel.api import CellSpec
        try:
            k.create(CellSpec("x", "/"))
        except Exception as exc:
            print(type(exc).__name__, exc, flush=True)
        """
    member = run_member(state_dir, "web", then)
    out = finish(member)
    assert out.strip() == (
        "PermissionDenied create cell 'x': operation needs host root (euid 0 outside any cell)"
    )
    assert sim_kernel.current() == 0


def test_children_of_a_member_are_in_the_cell(
    sim_kernel: SimKernel, state_dir: Path, make_root: Callable[[str], Path]
) -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to follow process ancestry")
    sim_kernel.create(CellSpec("web", str(make_root("web"))))
    inner = (
        "import os; from cells.kernel.sim import SimKernel; "
        'print(SimKernel(os.environ["CELLS_STATE_DIR"]).current())'
    )
    then = f"import subprocess; subprocess.run([sys.executable, '-c', {inner!r}])"
    member = run_member(state_dir, "web", then)
    out = finish(member)
    assert out.strip() == "1"


def test_dead_members_are_pruned(
    sim_kernel: SimKernel, state_dir: Path, make_root: Callable[[str], Path]
) -> None:
    sim_kernel.create(CellSpec("web", str(make_root("web"))))
    member = run_member(state_dir, "web", "import time; time.sleep(60)")
    os.kill(member.pid, signal.SIGKILL)
    member.wait()
    assert sim_kernel.get("web").nprocs == 0
    sim_kernel.destroy("web")


def test_attempt_counts_and_audits_denials(
    sim_kernel: SimKernel, make_root: Callable[[str], Path]
) -> None:
    sim_kernel.create(CellSpec("web", str(make_root("web")), ports=(80,)))
    sim_kernel.create(CellSpec("db", str(make_root("db"))))
    assert sim_kernel.attempt("db", "process.signal", "web").verdict == "deny"
    assert sim_kernel.attempt("web", "network.bind", "80").verdict == "defer"
    assert sim_kernel.attempt("host", "network.bind", "80", euid=1000).verdict == "deny"
    events = sim_kernel.events()
    assert [(e.seq, e.cell, e.target, e.op, e.reason) for e in events] == [
        (1, 2, 1, "process.signal", "cross_cell"),
        (2, 0, 1, "network.bind", "port_owned"),
    ]
    assert [e.seq for e in sim_kernel.events(2)] == [2]
    st = sim_kernel.stats()
    assert (st.audit_head, st.denies["process"], st.denies["network"]) == (2, 1, 1)
    assert st.host_denies["network"] == 1 and st.host_denies["process"] == 0
    assert sim_kernel.get("db").denies["process"] == 1
    assert sim_kernel.get("web").denies["network"] == 0


def test_explain_is_pure(sim_kernel: SimKernel, make_root: Callable[[str], Path]) -> None:
    sim_kernel.create(CellSpec("web", str(make_root("web"))))
    decision = sim_kernel.explain("web", "system.mount")
    assert (decision.verdict, decision.reason, decision.scope) == ("deny", "profile_deny", "system")
    assert sim_kernel.events() == [] and sim_kernel.stats().audit_head == 0


@pytest.mark.parametrize(
    ("target", "verdict", "reason"),
    [
        ("192.0.2.1:8080", "defer", "port_free"),
        ("192.0.2.2:8080", "deny", "bind_addr"),
        ("[2001:db8::1]:443", "defer", "port_free"),
        ("[2001:db8::2]:443", "deny", "bind_addr"),
        ("8080", "deny", "bind_addr"),  # the wildcard would reach every address
    ],
)
def test_bind_addresses(
    sim_kernel: SimKernel, make_root: Callable[[str], Path], target: str, verdict: str, reason: str
) -> None:
    spec = CellSpec("web", str(make_root("web")), bind_addrs=("192.0.2.1", "2001:db8::1"))
    sim_kernel.create(spec)
    decision = sim_kernel.explain("web", "network.bind", target)
    assert (decision.verdict, decision.reason) == (verdict, reason)


def test_unknown_cell_messages(sim_kernel: SimKernel) -> None:
    with pytest.raises(NotFound, match=r"^destroy cell 'x': no cell named 'x'$"):
        sim_kernel.destroy("x")
    with pytest.raises(NotFound, match=r"^enter cell '5': no cell with id 5$"):
        sim_kernel.enter(5)


def test_unwritable_state_dir_is_one_clear_error(tmp_path: Path) -> None:
    from cells.errors import BackendError

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(BackendError, match=r"cannot open the sim state .*CELLS_STATE_DIR"):
        SimKernel(blocker / "state").list()


def test_member_recorded_with_enter(sim_kernel: Any, make_root: Callable[[str], Path]) -> None:
    sim_kernel.create(CellSpec("web", str(make_root("web"))))
    with pytest.raises(PermissionDenied):
        run_in_cell_then_enter(sim_kernel)


def run_in_cell_then_enter(kernel: SimKernel) -> None:
    """Enter from this process (a forked child) twice: the second is refused."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            kernel.enter("web")
            kernel.enter("web")
        except PermissionDenied:
            os._exit(3)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 3:
        raise PermissionDenied("refused")


def test_two_kernels_on_one_state_dir_see_each_others_changes(
    state_dir: Path, make_root: Callable[[str], Path]
) -> None:
    root = str(make_root("r"))
    a, b = SimKernel(state_dir), SimKernel(state_dir)
    a.create(CellSpec("one", root, ports=(80,)))
    assert [c.name for c in b.list()] == ["one"]  # b builds and keeps its core
    b.create(CellSpec("two", root))
    with pytest.raises(PortInUse):
        b.create(CellSpec("three", root, ports=(80,)))
    a.destroy("one")
    assert [c.name for c in b.list()] == ["two"]
    assert b.create(CellSpec("three", root, ports=(80,))).id == 3
    assert b.explain("two", "network.bind", "80").reason == "port_owned"
    assert a.explain("two", "network.bind", "80").reason == "port_owned"


def test_a_reused_core_recounts_members(
    sim_kernel: SimKernel, state_dir: Path, make_root: Callable[[str], Path]
) -> None:
    sim_kernel.create(CellSpec("web", str(make_root("web"))))
    member = run_member(state_dir, "web", "import time; time.sleep(60)")
    with pytest.raises(Busy):
        sim_kernel.destroy("web")
    assert sim_kernel.get("web").nprocs == 1
    member.kill()
    member.wait()
    assert sim_kernel.get("web").nprocs == 0
    sim_kernel.destroy("web")


def test_enter_does_not_touch_the_database(
    sim_kernel: SimKernel,
    state_dir: Path,
    make_root: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """enter runs between fork and exec, where SQLite may be locked forever."""
    import sqlite3

    sim_kernel.create(CellSpec("web", str(make_root("web"))))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("enter opened the database")

    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        monkeypatch.setattr(sqlite3, "connect", refuse)
        try:
            SimKernel(state_dir).enter("web")
        except BaseException:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_enter_into_a_cell_being_destroyed_fails(
    sim_kernel: SimKernel, state_dir: Path, make_root: Callable[[str], Path]
) -> None:
    """The door (cells/<id>) closes before destroy looks for members."""
    cell = sim_kernel.create(CellSpec("web", str(make_root("web"))))
    (state_dir / "cells" / str(cell.id)).unlink()  # destroy's first step
    with pytest.raises(NotFound):
        SimKernel(state_dir).enter("web")
    assert list((state_dir / "members").iterdir()) == []
    # The next session puts the marker of a stored cell back.
    assert sim_kernel.get("web").id == cell.id
    assert (state_dir / "cells" / str(cell.id)).exists()


def test_a_member_recorded_during_destroy_makes_it_busy(
    sim_kernel: SimKernel,
    state_dir: Path,
    make_root: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ticket written after destroy loaded its session still blocks it."""
    cell = sim_kernel.create(CellSpec("web", str(make_root("web"))))
    sleeper = subprocess.Popen(["sleep", "60"])
    ticket = state_dir / "members" / str(sleeper.pid)
    load = SimKernel._load

    def load_then_enter(self: SimKernel, db: Any, cache: Any) -> Any:
        session = load(self, db, cache)
        ticket.write_text(f"{cell.id}\n")
        return session

    try:
        monkeypatch.setattr(SimKernel, "_load", load_then_enter)
        with pytest.raises(Busy):
            sim_kernel.destroy("web")
        monkeypatch.undo()
        assert (state_dir / "cells" / str(cell.id)).exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    sim_kernel.destroy("web")
    assert not (state_dir / "cells" / str(cell.id)).exists()
