"""The netbsd backend's sysctl protocol, over a fake sysctl function."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from cells.errors import AbiMismatch, Busy, ModuleNotLoaded, NotFound, PermissionDenied
from cells.kernel import codec
from cells.kernel.api import CellSpec, Rlimit
from cells.kernel.netbsd import PREFIX, NetbsdKernel

from .fake_sysctl import FakeSysctl


@pytest.fixture
def fake() -> FakeSysctl:
    return FakeSysctl()


@pytest.fixture
def kernel(fake: FakeSysctl) -> NetbsdKernel:
    return NetbsdKernel(fake)


def test_create_writes_the_request_and_reads_back_the_id(
    kernel: NetbsdKernel, fake: FakeSysctl, tmp_path: Path
) -> None:
    spec = CellSpec(
        "web", str(tmp_path), "low", (80,), ("::1",), (Rlimit("core", 0, 0),), ("rawsock",)
    )
    info = kernel.create(spec)
    assert (info.id, info.name, info.root, info.profile) == (1, "web", str(tmp_path), "low")
    assert (info.ports, info.bind_addrs, info.overrides) == ((80,), ("::1",), ("rawsock",))
    assert info.rlimits == (Rlimit("core", 0, 0),)
    _name, oldlen, new = next(c for c in fake.calls if c[0] == PREFIX + "create")
    assert oldlen == 1440 and new is not None and len(new) == 1440


def test_abi_is_checked_once_before_anything_else(kernel: NetbsdKernel, fake: FakeSysctl) -> None:
    assert kernel.list() == []
    assert kernel.list() == []
    names = [c[0] for c in fake.calls]
    assert names[0] == PREFIX + "abi_version"
    assert names.count(PREFIX + "abi_version") == 1


@pytest.mark.parametrize(("abi", "upgrade"), [(2, "this cells package"), (0, "secmodel_cell")])
def test_abi_mismatch_says_what_to_upgrade(abi: int, upgrade: str) -> None:
    kernel = NetbsdKernel(FakeSysctl(abi=abi))
    with pytest.raises(AbiMismatch) as info:
        kernel.list()
    assert str(info.value) == (
        f"secmodel_cell speaks ABI {abi}, this cells package ABI 1; upgrade {upgrade} so both match"
    )


def test_module_not_loaded() -> None:
    kernel = NetbsdKernel(FakeSysctl(loaded=False))
    with pytest.raises(
        ModuleNotLoaded, match=r"modload secmodel_cell \(--backend sim isolates nothing\)"
    ):
        kernel.stats()


def test_destroy_enter_current_and_busy(
    kernel: NetbsdKernel, fake: FakeSysctl, tmp_path: Path
) -> None:
    kernel.create(CellSpec("a", str(tmp_path)))
    kernel.create(CellSpec("b", str(tmp_path)))
    assert kernel.current() == 0
    kernel.destroy("a")
    assert [c.name for c in kernel.list()] == ["b"]
    kernel.enter("b")
    assert kernel.current() == 2
    with pytest.raises(PermissionDenied):
        kernel.list()
    fake.cell = 0  # look from the host again
    with pytest.raises(Busy, match="destroy cell 'b': the cell still has processes"):
        kernel.destroy("b")


def test_unknown_cells(kernel: NetbsdKernel) -> None:
    with pytest.raises(NotFound, match="no cell named 'x'"):
        kernel.get("x")
    with pytest.raises(NotFound, match="no cell with id 7"):
        kernel.destroy(7)


def test_list_retries_when_cells_appear_between_size_and_read(
    fake: FakeSysctl, tmp_path: Path
) -> None:
    grow = {"left": 12}

    def racing(name: str, oldlen: int | None, new: bytes | None) -> tuple[bytes, int]:
        if name.endswith(".list") and oldlen and grow["left"]:
            for _ in range(grow["left"]):
                spec = CellSpec(f"n{grow['left']}", str(tmp_path))
                fake.core.create(codec.encode_create(spec), 0, "create")
                grow["left"] -= 1
        return fake(name, oldlen, new)

    kernel = NetbsdKernel(racing)
    assert len(kernel.list()) == 12


def test_stats_and_events_decode(kernel: NetbsdKernel, fake: FakeSysctl, tmp_path: Path) -> None:
    from cells.kernel import policy

    kernel.create(CellSpec("web", str(tmp_path)))
    subject = policy.make_subject(1, 0)
    op = policy.lookup_op("network.rawsock")
    fake.core.check(subject, op, policy.make_object(op, 1, None), 1234)
    st = kernel.stats()
    assert (st.backend, st.enforcing, st.ncells, st.abi_version) == ("netbsd", True, 1, 1)
    assert st.denies["network"] == 1 and st.audit_head == 1
    (event,) = kernel.events(0)
    assert (event.seq, event.time, event.cell, event.op, event.reason) == (
        1,
        1234,
        1,
        "network.rawsock",
        "profile_deny",
    )
    assert kernel.events(2) == []
    assert kernel.get("web").denies["network"] == 1


def test_explain_uses_the_live_cells(kernel: NetbsdKernel, tmp_path: Path) -> None:
    kernel.create(CellSpec("web", str(tmp_path), ports=(80,)))
    kernel.create(CellSpec("db", str(tmp_path)))
    assert kernel.explain("db", "network.bind", "80").verdict == "deny"
    assert kernel.explain("web", "network.bind", "80").verdict == "defer"
    decision = kernel.explain("web", "process.signal", "db")
    assert (decision.verdict, decision.reason) == ("deny", "cross_cell")
    assert kernel.explain("host", "process.signal", "web", euid=0).verdict == "defer"
    assert kernel.explain("host", "process.signal", "web", euid=5).verdict == "deny"


def test_libc_sysctl_fails_cleanly_off_netbsd() -> None:
    import sys

    from cells.kernel.netbsd import libc_sysctl, module_loaded

    if sys.platform.startswith("netbsd"):
        pytest.skip("needs a system without sysctlbyname(3) to see the stub")
    with pytest.raises(OSError) as info:
        libc_sysctl(PREFIX + "abi_version", 4, None)
    assert info.value.errno == errno.ENOSYS
    assert module_loaded() is False
