"""Isolation invariants of the compiled core, driven through the binding
with random cells, subjects, operations and objects (hypothesis)."""

from __future__ import annotations

from typing import Any

from cells.ffi._binding import lib
from cells.ffi.raw import Core
from cells.kernel import codec, policy
from cells.kernel.api import CellSpec
from hypothesis import given, settings
from hypothesis import strategies as st

OPS = list(range(lib.cell_op_count()))
CROSS_OPS = [op for op in OPS if lib.cell_op_class(op) == lib.CELL_CLASS_CROSS]
ALLOW_OPS = {op for op in OPS if lib.cell_op_class(op) == lib.CELL_CLASS_ALLOW}
BIND_OP = lib.cell_op_lookup(b"network.bind")

cell_specs = st.lists(
    st.tuples(
        st.sampled_from(["low", "medium", "high"]),
        st.lists(st.sampled_from(["rawsock", "sysvipc"]), unique=True, max_size=2),
        st.lists(st.integers(1, 65535), unique=True, max_size=4),
    ),
    min_size=2,
    max_size=6,
)


def build(specs: list[Any]) -> tuple[Core, list[int], dict[int, int]]:
    """A core with the given cells; (core, handles, port -> owner handle)."""
    core = Core()
    handles: list[int] = []
    owners: dict[int, int] = {}
    for i, (profile, overrides, ports) in enumerate(specs):
        free = tuple(p for p in ports if p not in owners)
        spec = CellSpec(f"c{i}", "/", profile, free, (), (), tuple(overrides))
        _, handle = core.create(codec.encode_create(spec), 0, "create")
        handles.append(handle)
        owners.update(dict.fromkeys(free, handle))
    return core, handles, owners


def verdict(core: Core, handle: int, euid: int, op: int, obj_handle: int, port: int = 0) -> int:
    subject = policy.make_subject(handle, euid)
    obj = policy.make_object(op, obj_handle, (port, 0, b"") if port else None)
    return core.decide(subject, op, obj)[0]


@settings(max_examples=150, deadline=None)
@given(cell_specs, st.data())
def test_no_cross_cell_operation_is_allowed_for_a_celled_subject(specs: Any, data: Any) -> None:
    core, handles, _ = build(specs)
    subject = data.draw(st.sampled_from(handles))
    other = data.draw(st.sampled_from([0, *[h for h in handles if h != subject]]))
    euid = data.draw(st.sampled_from([0, 1, 1000]))
    op = data.draw(st.sampled_from(CROSS_OPS))
    assert verdict(core, subject, euid, op, other) == lib.CELL_DENY


@settings(max_examples=150, deadline=None)
@given(cell_specs, st.data())
def test_binding_another_cells_port_is_denied(specs: Any, data: Any) -> None:
    core, handles, owners = build(specs)
    subject = data.draw(st.sampled_from([0, *handles]))
    euid = 1000 if subject == 0 else data.draw(st.sampled_from([0, 1000]))
    foreign = [p for p, h in owners.items() if h != subject]
    if not foreign:
        return
    port = data.draw(st.sampled_from(foreign))
    assert verdict(core, subject, euid, BIND_OP, subject, port) == lib.CELL_DENY


@settings(max_examples=150, deadline=None)
@given(cell_specs, st.data())
def test_host_root_is_never_denied(specs: Any, data: Any) -> None:
    core, handles, owners = build(specs)
    op = data.draw(st.sampled_from(OPS))
    obj = data.draw(st.sampled_from([0, *handles]))
    port = data.draw(st.sampled_from([0, *owners]))
    assert verdict(core, 0, 0, op, obj, port) != lib.CELL_DENY


@settings(max_examples=100, deadline=None)
@given(cell_specs, st.data())
def test_unknown_operation_is_denied(specs: Any, data: Any) -> None:
    core, handles, _ = build(specs)
    op = data.draw(st.integers(len(OPS), 2**32 - 1))
    subject = data.draw(st.sampled_from([0, *handles]))
    euid = data.draw(st.sampled_from([0, 1000]))
    assert verdict(core, subject, euid, op, 0) == lib.CELL_DENY


@settings(max_examples=100, deadline=None)
@given(cell_specs, st.data())
def test_the_model_grants_only_credential_bookkeeping(specs: Any, data: Any) -> None:
    core, handles, _owners = build(specs)
    op = data.draw(st.sampled_from(OPS))
    subject = data.draw(st.sampled_from([0, *handles]))
    euid = data.draw(st.sampled_from([0, 1000]))
    obj = data.draw(st.sampled_from([0, *handles]))
    result = verdict(core, subject, euid, op, obj)
    assert (result == lib.CELL_ALLOW) == (op in ALLOW_OPS)
