"""The netbsd backend against a real kernel's answers.

fixtures/netbsd_answers.json holds the raw bytes secmodel_cell returned
in a NetBSD kernel for a scripted session (tests/kernel/cellktest.c, mode
record): a cell "web" (high, port 8080, bind address 127.0.0.1, one
member, two denials) and a cell "db" (low), their list, the stats, the
audit events and the kernel's errno for a set of bad requests.  The
replay below answers the backend's sysctl calls from those bytes, so the
backend's decoding and error mapping are checked against what the module
really sends.  Regenerate with `make ktest-fixtures`.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import pytest
from cells import errors
from cells.kernel.api import CellSpec
from cells.kernel.netbsd import PREFIX, NetbsdKernel

FIXTURE = Path(__file__).parent / "fixtures" / "netbsd_answers.json"
ANSWERS: dict[str, dict[str, str]] = json.loads(FIXTURE.read_text())["answers"]


def raw(name: str) -> bytes:
    return bytes.fromhex(ANSWERS[name]["hex"])


def result(name: str) -> int:
    """The recorded errno of an answer (0 for success)."""
    word = ANSWERS[name]["result"]
    return 0 if word == "ok" else int(getattr(errno, word))


class Replay:
    """sysctl(name, oldlen, new) answered from the recording.

    `script` names, per node, the recorded answer each call gets, in order;
    the last one repeats.  Reads of `list` follow the kernel's size
    protocol (oldlen 0 asks for the size, a short buffer is ENOMEM).
    """

    def __init__(self, **script: str | list[str]) -> None:
        self.script = {k: [v] if isinstance(v, str) else list(v) for k, v in script.items()}
        self.calls: list[str] = []

    def _answer(self, node: str) -> str:
        queue = self.script.get(node)
        if not queue:
            raise AssertionError(f"unscripted sysctl {node}")
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def __call__(self, name: str, oldlen: int | None, new: bytes | None) -> tuple[bytes, int]:
        assert name.startswith(PREFIX)
        node = name[len(PREFIX) :]
        self.calls.append(node)
        if node == "abi_version":
            return raw("abi_version"), 4
        rec = self._answer(node)
        err = result(rec)
        if err:
            raise OSError(err, name)
        data = raw(rec)
        if node == "list" and rec == "list":
            if oldlen == 0:
                return b"", len(data)
            if oldlen is not None and oldlen < len(data):
                raise OSError(errno.ENOMEM, name)
        return data, len(data)


def kernel(**script: str | list[str]) -> NetbsdKernel:
    return NetbsdKernel(Replay(**script))


def by_name(k: NetbsdKernel) -> dict[str, Any]:
    return {c.name: c for c in k.list()}


def test_recording_is_from_a_real_kernel() -> None:
    doc = json.loads(FIXTURE.read_text())
    assert doc["kernel"].startswith("NetBSD ")
    assert result("abi_version") == 0
    assert int.from_bytes(raw("abi_version"), "little") == 1


def test_create_decodes_the_kernels_answer() -> None:
    k = kernel(create="create", list="list")
    spec = CellSpec(
        name="web", root="/r1", profile="high", ports=(8080,), bind_addrs=("127.0.0.1",)
    )
    info = k.create(spec)
    assert info.name == "web"
    assert info.root == "/r1"
    assert info.profile == "high"
    assert info.ports == (8080,)
    assert info.bind_addrs == ("127.0.0.1",)
    assert info.state == "active"


def test_list_decodes_telemetry_and_counters() -> None:
    cells = by_name(kernel(list="list"))
    assert set(cells) == {"web", "db"}
    web, db = cells["web"], cells["db"]
    assert db.profile == "low"
    assert web.id < db.id
    # One sleeping member, sampled by the kernel's 1 s sampler.
    assert web.nprocs == 1
    assert web.nrefs >= 1
    assert web.vmsize > 0
    assert db.nprocs == 0
    # Two denials: a signal to init and a modload.
    assert web.denies.get("process", 0) >= 1
    assert web.denies.get("system", 0) >= 1
    assert sum(db.denies.values()) == 0


def test_stats_agree_with_the_list_and_the_events() -> None:
    k = kernel(stats="stats", events="events", list="list")
    st = k.stats()
    assert st.ncells == 2
    assert st.max_cells == 16384
    assert st.abi_version == 1
    assert st.enforcing
    events = k.events(1)
    assert st.audit_head == events[-1].seq
    web = by_name(k)["web"]
    assert {e.cell for e in events} == {web.id}
    assert sum(web.denies.values()) == len(events)
    assert sum(st.denies.values()) >= len(events)


def test_events_name_the_operations() -> None:
    events = kernel(events="events").events(1)
    ops = {e.op for e in events}
    assert "process.signal" in ops
    assert any(op.startswith("system.") for op in ops)
    assert [e.seq for e in events] == sorted(e.seq for e in events)


@pytest.mark.parametrize(
    ("answer", "exc"),
    [
        ("create_duplicate", errors.AlreadyExists),
        ("create_port_taken", errors.PortInUse),
        ("create_bad_profile", errors.InvalidArgument),
        ("create_id_set", errors.InvalidArgument),
    ],
)
def test_create_errors_map_to_exceptions(answer: str, exc: type[Exception]) -> None:
    k = kernel(create=answer, list="list")
    spec = CellSpec(name="web", root="/r1", profile="high")
    with pytest.raises(exc):
        k.create(spec)


def test_destroy_busy_and_unknown() -> None:
    with pytest.raises(errors.Busy):
        kernel(list="list", destroy="destroy_busy").destroy("web")
    with pytest.raises(errors.NotFound):
        kernel(list="list", destroy="destroy_unknown").destroy("web")
    k = kernel(list="list", destroy="destroy")
    k.destroy("web")


def test_enter_without_chroot_is_refused() -> None:
    with pytest.raises(errors.PermissionDenied):
        kernel(list="list", id="enter_unchrooted").enter("web")


def test_current_cell_of_the_host() -> None:
    assert kernel(id="id_host").current() == 0


def test_short_list_buffer_is_enomem() -> None:
    assert result("list_short") == errno.ENOMEM
    assert int.from_bytes(raw("list_size"), "little") == len(raw("list"))
