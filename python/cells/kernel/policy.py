"""The policy table and decisions, read from the compiled core.

`policy_rows()` lists cell_policy.def as `PolicyRow`s; `explain()` asks
`cell_decide()` what a subject (a cell, or the host with an euid) may do
and turns the answer into a `Decision`.  The decision is the core's own;
nothing here re-implements policy.  Callers: the sim backend (explain,
attempt) and the netbsd backend (explain on a local copy of the table).
"""

from __future__ import annotations

import errno
import ipaddress
from typing import Any

from cells.errors import InvalidArgument
from cells.ffi._binding import ffi, lib
from cells.ffi.raw import Core
from cells.kernel.api import Decision, PolicyRow, Verdict
from cells.kernel.codec import OVERRIDE_FLAGS, PROFILE_CODES

VERDICTS: dict[int, Verdict] = {
    lib.CELL_DEFER: "defer",
    lib.CELL_DENY: "deny",
    lib.CELL_ALLOW: "allow",
}
CLASSES: dict[int, str] = {
    lib.CELL_CLASS_CROSS: "cross",
    lib.CELL_CLASS_PROFILE: "profile",
    lib.CELL_CLASS_BIND: "bind",
    lib.CELL_CLASS_ALLOW: "allow",
}
#: What each reason means, for people (the header's comments, keyed by value).
REASON_TEXT: dict[int, str] = {
    lib.CELL_R_HOST_ROOT: "host root is never restricted",
    lib.CELL_R_HOST: "host subject and nothing reserved",
    lib.CELL_R_SAME_CELL: "the object is in the subject's own cell",
    lib.CELL_R_CROSS_CELL: "the object is in another cell (or the host)",
    lib.CELL_R_INTO_CELL: "host non-root acting on a celled object",
    lib.CELL_R_PROFILE_DEFER: "the profile column says defer",
    lib.CELL_R_PROFILE_DENY: "the profile column says deny",
    lib.CELL_R_OVERRIDE: "relaxed by a create-time override",
    lib.CELL_R_PORT_FREE: "the port is unreserved, the cell's own, or 0",
    lib.CELL_R_PORT_OWNED: "the port is reserved by another cell",
    lib.CELL_R_BIND_ADDR: "the address is not in the cell's bind list",
    lib.CELL_R_UNKNOWN_OP: "the operation is outside the table",
    lib.CELL_R_BAD_PROFILE: "corrupted profile: fail closed",
    lib.CELL_R_BAD_HANDLE: "the subject names no cell: fail closed",
    lib.CELL_R_CRED: "credential bookkeeping",
}

HOST = "host"


def _text(ptr: Any) -> str:
    return "" if ptr == ffi.NULL else str(ffi.string(ptr).decode())


def op_names() -> list[str]:
    return [_text(lib.cell_op_name(i)) for i in range(lib.cell_op_count())]


def reason_name(reason: int) -> str:
    return _text(lib.cell_reason_name(reason)) or str(reason)


def lookup_op(name: str) -> int:
    """The operation number of `name`; unknown names are an error for people."""
    op = int(lib.cell_op_lookup(name.encode()))
    if op < 0:
        raise InvalidArgument(
            f"unknown operation '{name}' (see `cellctl explain --list` for the table)",
            err=errno.EINVAL,
        )
    return op


def policy_row(op: int) -> PolicyRow:
    relax = int(lib.cell_op_relax(op))
    relaxed_by = next((n for n, f in OVERRIDE_FLAGS.items() if relax & f), None)
    return PolicyRow(
        op=_text(lib.cell_op_name(op)),
        scope=_text(lib.cell_scope_name(lib.cell_op_scope(op))),
        klass=CLASSES[int(lib.cell_op_class(op))],  # type: ignore[arg-type]
        low=VERDICTS[int(lib.cell_op_default(op, PROFILE_CODES["low"]))],
        medium=VERDICTS[int(lib.cell_op_default(op, PROFILE_CODES["medium"]))],
        high=VERDICTS[int(lib.cell_op_default(op, PROFILE_CODES["high"]))],
        relaxed_by=relaxed_by,
        doc=_text(lib.cell_op_doc(op)),
    )


def policy_rows() -> list[PolicyRow]:
    return [policy_row(i) for i in range(lib.cell_op_count())]


def row_text(row: PolicyRow) -> str:
    """One line that shows a table row the way cell_policy.def has it."""
    return (
        f"{row.op} ({row.scope}, {row.klass}): low={row.low} medium={row.medium} "
        f"high={row.high} relaxed-by={row.relaxed_by or '-'}: {row.doc}"
    )


def parse_bind_target(text: str, what: str) -> tuple[int, int, bytes]:
    """(port, family, packed address) from PORT, ADDR:PORT or [V6]:PORT."""
    addr_text = ""
    port_text = text
    if text.startswith("["):
        close = text.find("]")
        if close < 0 or not text[close + 1 :].startswith(":"):
            raise _bad_target(what, text)
        addr_text, port_text = text[1:close], text[close + 2 :]
    elif ":" in text:
        if text.count(":") > 1:
            raise _bad_target(what, text)
        addr_text, port_text = text.split(":")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise _bad_target(what, text)
    if not addr_text:
        return int(port_text), 0, b""
    try:
        addr = ipaddress.ip_address(addr_text)
    except ValueError:
        raise _bad_target(what, text) from None
    family = lib.CELL_AF_INET if addr.version == 4 else lib.CELL_AF_INET6
    return int(port_text), family, addr.packed


def _bad_target(what: str, text: str) -> InvalidArgument:
    return InvalidArgument(
        f"{what}: bad target '{text}' (use PORT, ADDR:PORT or [IPV6]:PORT, port 0-65535)",
        err=errno.EINVAL,
    )


def make_subject(handle: int, euid: int) -> Any:
    subject = ffi.new("struct cell_subject *")
    subject.cs_handle = handle
    subject.cs_euid = euid
    return subject


def make_object(op: int, target_handle: int, bind: tuple[int, int, bytes] | None) -> Any:
    obj = ffi.new("struct cell_object *")
    obj.co_handle = target_handle
    if bind is not None:
        port, family, packed = bind
        obj.co_port = port
        obj.co_family = family
        ffi.memmove(obj.co_addr, packed, len(packed))
    return obj


def decide(
    core: Core,
    *,
    subject_id: int,
    subject_handle: int,
    op_name: str,
    target: str | None,
    resolve: Any,
    euid: int = 0,
    record_at: int | None = None,
) -> Decision:
    """Ask the core about `op_name` for a subject and describe the answer.

    `resolve(ref) -> handle` turns a CROSS target (a cell name or id) into
    the object's handle; TARGET "host" (the default) is the host.  With
    `record_at` (a time) the question goes through `cell_check()`, which
    counts and audits a denial as a kernel listener would.
    """
    op = lookup_op(op_name)
    row = policy_row(op)
    what = f"explain {op_name}"
    target_handle = subject_handle
    bind = None
    if row.klass == "cross":
        target_handle = 0 if target in (None, HOST) else int(resolve(target))
    elif row.klass == "bind":
        bind = parse_bind_target(target or "0", what)
    elif target is not None:
        raise InvalidArgument(f"{what}: this operation takes no TARGET", err=errno.EINVAL)
    subject = make_subject(subject_handle, euid)
    obj = make_object(op, target_handle, bind)
    verdict, reason = core.decide(subject, op, obj)
    if record_at is not None:
        core.check(subject, op, obj, record_at)
    return Decision(
        cell=subject_id,
        op=row.op,
        scope=row.scope,
        verdict=VERDICTS.get(verdict, "deny"),
        reason=reason_name(reason),
        detail=REASON_TEXT.get(reason, ""),
    )
