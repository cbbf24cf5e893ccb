"""Safe, typed conversion between the kernel API's dataclasses and the ABI.

`encode_create()` builds a `struct cell_create_req` from a `CellSpec`
(bind addresses parsed with `ipaddress`; the name charset, ranges and
duplicates are left to the core, which checks them exactly as the kernel
does); `decode_info()`, `decode_event()` and `decode_stats()` turn ABI
structs back into `CellInfo`, `Event` and `Stats`.  Callers: the sim and
netbsd backends.
"""

from __future__ import annotations

import errno
from typing import Any, Literal

from cells.errors import InvalidArgument, error_from_errno
from cells.ffi._binding import ffi, lib
from cells.kernel.api import (
    OVERRIDES,
    PROFILES,
    CellInfo,
    CellSpec,
    Event,
    Profile,
    Rlimit,
    RlimitName,
    Stats,
)
from cells.kernel.rlimits import UNLIMITED

PROFILE_CODES: dict[str, int] = {
    "low": lib.CELL_PROFILE_LOW,
    "medium": lib.CELL_PROFILE_MEDIUM,
    "high": lib.CELL_PROFILE_HIGH,
}
OVERRIDE_FLAGS: dict[str, int] = {
    "rawsock": lib.CELL_F_ALLOW_RAWSOCK,
    "sysvipc": lib.CELL_F_ALLOW_SYSVIPC,
}
RLIMIT_CODES: dict[str, int] = {
    "nofile": lib.CELL_RLIMIT_NOFILE,
    "as": lib.CELL_RLIMIT_AS,
    "core": lib.CELL_RLIMIT_CORE,
    "nproc": lib.CELL_RLIMIT_NPROC,
}
_PROFILE_NAMES: dict[int, Profile] = {code: name for name, code in PROFILE_CODES.items()}  # type: ignore[misc]
_RLIMIT_NAMES: dict[int, RlimitName] = {code: name for name, code in RLIMIT_CODES.items()}  # type: ignore[misc]
assert tuple(PROFILE_CODES) == PROFILES and tuple(OVERRIDE_FLAGS) == OVERRIDES

U64_MAX = 2**64 - 1


def _limit_to_abi(value: int) -> int:
    """An rlimit amount for the ABI: "no limit" is the largest value, which
    the kernel clamps to RLIM_INFINITY."""
    return U64_MAX if value == UNLIMITED else value


def _limit_from_abi(value: int) -> int:
    return UNLIMITED if value == U64_MAX else value


def scope_names() -> list[str]:
    """Counter slot names in index order, as the core names them."""
    return [ffi.string(lib.cell_scope_name(i)).decode() for i in range(lib.CELL_SCOPE_COUNT)]


_SCOPES = scope_names()


def _invalid(what: str, reason: str) -> InvalidArgument:
    return InvalidArgument(f"{what}: {reason}", err=errno.EINVAL)


def encode_addr(text: str, slot: Any, what: str) -> None:
    """Fill a `struct cell_addr` from an IPv4 or IPv6 address."""
    import ipaddress  # here, not at the top: start-up time of `cellctl list`

    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise _invalid(what, f"'{text}' is not an IPv4 or IPv6 address") from None
    if getattr(addr, "scope_id", None):
        raise _invalid(
            what,
            f"'{text}' has a zone: a cell's address carries none, so it would mean "
            "that address on every interface; give it without the %zone",
        )
    packed = addr.packed
    slot.ca_family = lib.CELL_AF_INET if addr.version == 4 else lib.CELL_AF_INET6
    ffi.memmove(slot.ca_addr, packed, len(packed))


def decode_addr(slot: Any) -> str:
    import ipaddress

    raw = bytes(ffi.buffer(slot.ca_addr, 16))
    if slot.ca_family == lib.CELL_AF_INET:
        return str(ipaddress.IPv4Address(raw[:4]))
    return str(ipaddress.IPv6Address(raw))


def encode_create(spec: CellSpec) -> Any:
    """A `struct cell_create_req *` for `spec`.

    Only what cannot be put in the struct at all is refused here (unknown
    profile, override or rlimit names, too many entries, values that do not
    fit their fields, unparsable addresses); everything else is the core's
    to judge.
    """
    what = f"create cell '{spec.name}'"
    req = ffi.new("struct cell_create_req *")
    req.cr_size = ffi.sizeof("struct cell_create_req")
    req.cr_abi = lib.CELL_ABI_VERSION
    if spec.profile not in PROFILE_CODES:
        raise _invalid(what, f"unknown profile '{spec.profile}' (use {', '.join(PROFILES)})")
    req.cr_profile = PROFILE_CODES[spec.profile]
    for name in spec.overrides:
        if name not in OVERRIDE_FLAGS:
            raise _invalid(what, f"unknown override '{name}' (use {', '.join(OVERRIDES)})")
        req.cr_flags |= OVERRIDE_FLAGS[name]
    _put_string(req.cr_name, spec.name, lib.CELL_NAME_MAX, what, "name")
    _put_string(req.cr_root, spec.root, lib.CELL_PATH_MAX, what, "root path")
    if len(spec.ports) > lib.CELL_PORTS_MAX:
        raise _invalid(what, f"{len(spec.ports)} ports; at most {lib.CELL_PORTS_MAX}")
    for i, port in enumerate(spec.ports):
        if not 0 <= port <= 65535:
            raise _invalid(what, f"port {port} is out of range (1-65535)")
        req.cr_ports[i] = port
    req.cr_nports = len(spec.ports)
    if len(spec.bind_addrs) > lib.CELL_ADDRS_MAX:
        raise _invalid(what, f"{len(spec.bind_addrs)} bind addresses; at most {lib.CELL_ADDRS_MAX}")
    for i, text in enumerate(spec.bind_addrs):
        encode_addr(text, req.cr_addrs[i], what)
    req.cr_naddrs = len(spec.bind_addrs)
    if len(spec.rlimits) > lib.CELL_RLIMITS_MAX:
        raise _invalid(what, f"{len(spec.rlimits)} rlimits; at most {lib.CELL_RLIMITS_MAX}")
    for i, rl in enumerate(spec.rlimits):
        if rl.resource not in RLIMIT_CODES:
            raise _invalid(what, f"unknown rlimit '{rl.resource}' (use {', '.join(RLIMIT_CODES)})")
        soft, hard = _limit_to_abi(rl.soft), _limit_to_abi(rl.hard)
        if not (0 <= soft <= U64_MAX and 0 <= hard <= U64_MAX):
            raise _invalid(what, f"rlimit {rl.resource} is out of range (0-{U64_MAX})")
        req.cr_rlimits[i].crl_resource = RLIMIT_CODES[rl.resource]
        req.cr_rlimits[i].crl_soft = soft
        req.cr_rlimits[i].crl_hard = hard
    req.cr_nrlimits = len(spec.rlimits)
    return req


def _put_string(field: Any, text: str, size: int, what: str, label: str) -> None:
    data = text.encode("utf-8", "surrogateescape")
    if b"\0" in data:
        raise _invalid(what, f"{label} contains a NUL byte")
    if len(data) > size:
        raise error_from_errno(
            errno.ENAMETOOLONG, what, reason=f"{label} is {len(data)} bytes; at most {size - 1}"
        )
    # Exactly `size` bytes is left unterminated on purpose: the core says so.
    ffi.memmove(field, data, len(data))


def request_bytes(req: Any) -> bytes:
    return bytes(ffi.buffer(req))


def request_from_bytes(data: bytes) -> Any:
    req = ffi.new("struct cell_create_req *")
    if len(data) != ffi.sizeof(req[0]):
        raise _invalid(
            "read a stored cell", f"record is {len(data)} bytes, not {ffi.sizeof(req[0])}"
        )
    ffi.memmove(req, data, len(data))
    return req


def request_from_info(info: Any) -> Any:
    """The create request that re-creates the cell `info` describes."""
    req = ffi.new("struct cell_create_req *")
    req.cr_size = ffi.sizeof("struct cell_create_req")
    req.cr_abi = lib.CELL_ABI_VERSION
    req.cr_flags = info.ci_flags
    req.cr_profile = info.ci_profile
    req.cr_nports = info.ci_nports
    req.cr_naddrs = info.ci_naddrs
    req.cr_nrlimits = info.ci_nrlimits
    ffi.memmove(req.cr_name, info.ci_name, lib.CELL_NAME_MAX)
    ffi.memmove(req.cr_root, info.ci_root, lib.CELL_PATH_MAX)
    ffi.memmove(req.cr_ports, info.ci_ports, ffi.sizeof(info.ci_ports))
    ffi.memmove(req.cr_addrs, info.ci_addrs, ffi.sizeof(info.ci_addrs))
    ffi.memmove(req.cr_rlimits, info.ci_rlimits, ffi.sizeof(info.ci_rlimits))
    return req


def _string(field: Any) -> str:
    return bytes(ffi.string(field)).decode("utf-8", "surrogateescape")


def counters(values: Any) -> dict[str, int]:
    """Per-scope counters keyed by the core's scope names."""
    return {name: int(values[i]) for i, name in enumerate(_SCOPES)}


def decode_info(
    info: Any,
    *,
    nprocs: int | None = None,
    nrefs: int | None = None,
    denies: dict[str, int] | None = None,
) -> CellInfo:
    """A `CellInfo` from a `struct cell_info`; the sim passes its own
    membership figures and persisted deny counters."""
    state: Literal["active", "dying"] = (
        "active" if info.ci_state == lib.CELL_STATE_ACTIVE else "dying"
    )
    return CellInfo(
        id=int(info.ci_id),
        name=_string(info.ci_name),
        root=_string(info.ci_root),
        profile=_PROFILE_NAMES.get(int(info.ci_profile), "high"),
        overrides=tuple(n for n, f in OVERRIDE_FLAGS.items() if info.ci_flags & f),
        state=state,
        ports=tuple(int(info.ci_ports[i]) for i in range(info.ci_nports)),
        bind_addrs=tuple(decode_addr(info.ci_addrs[i]) for i in range(info.ci_naddrs)),
        rlimits=tuple(
            Rlimit(
                _RLIMIT_NAMES.get(int(rl.crl_resource), "nofile"),
                _limit_from_abi(int(rl.crl_soft)),
                _limit_from_abi(int(rl.crl_hard)),
            )
            for rl in (info.ci_rlimits[i] for i in range(info.ci_nrlimits))
        ),
        nprocs=int(info.ci_nprocs) if nprocs is None else nprocs,
        nrefs=int(info.ci_nrefs) if nrefs is None else nrefs,
        created=int(info.ci_created),
        age=int(info.ci_age),
        vmsize=int(info.ci_vmsize),
        cpu_1s=int(info.ci_cpu_1s),
        cpu_10s=int(info.ci_cpu_10s) / 100,
        denies=counters(info.ci_denies) if denies is None else denies,
    )


def decode_event(ev: Any) -> Event:
    scope = lib.cell_scope_name(ev.ev_scope)
    op = lib.cell_op_name(ev.ev_op)
    reason = lib.cell_reason_name(ev.ev_reason)
    return Event(
        seq=int(ev.ev_seq),
        time=int(ev.ev_time),
        cell=int(ev.ev_cell),
        target=int(ev.ev_target),
        euid=int(ev.ev_euid),
        scope=ffi.string(scope).decode() if scope != ffi.NULL else str(int(ev.ev_scope)),
        op=ffi.string(op).decode() if op != ffi.NULL else str(int(ev.ev_op)),
        reason=ffi.string(reason).decode() if reason != ffi.NULL else str(int(ev.ev_reason)),
        action=int(ev.ev_action),
        request=int(ev.ev_request),
    )


def event_bytes(ev: Any) -> bytes:
    return bytes(ffi.buffer(ffi.addressof(ev), ffi.sizeof("struct cell_event")))


def event_from_bytes(data: bytes) -> Event:
    buf = ffi.new("struct cell_event *")
    ffi.memmove(buf, data, min(len(data), ffi.sizeof(buf[0])))
    return decode_event(buf[0])


def decode_stats(st: Any, *, backend: str, enforcing: bool) -> Stats:
    return Stats(
        backend=backend,
        enforcing=enforcing,
        abi_version=int(st.st_abi),
        ncells=int(st.st_ncells),
        max_cells=int(st.st_max_cells),
        next_id=int(st.st_next_id),
        hz=int(st.st_hz),
        audit_head=int(st.st_audit_head),
        audit_size=int(st.st_audit_size),
        log_suppressed=int(st.st_log_suppressed),
        denies=counters(st.st_denies),
        host_denies=counters(st.st_host_denies),
    )


_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


def invalid_reason(spec: CellSpec) -> str | None:
    """Words for the likely cause after the core rejected `spec` with
    EINVAL or ENAMETOOLONG (its errno says only that the payload is bad).
    The verdict stays the core's; this only names the field."""
    name_len = len(spec.name.encode("utf-8", "surrogateescape"))
    if name_len >= lib.CELL_NAME_MAX:
        return f"name is {name_len} bytes; at most {lib.CELL_NAME_MAX - 1}"
    root_len = len(spec.root.encode("utf-8", "surrogateescape"))
    if root_len >= lib.CELL_PATH_MAX:
        return f"root path is {root_len} bytes; at most {lib.CELL_PATH_MAX - 1}"
    if not spec.name or not set(spec.name) <= _NAME_CHARS:
        return f"bad name '{spec.name}': use 1-63 of A-Z a-z 0-9 . _ -, starting with a letter"
    if not spec.name[0].isalpha():
        return (
            f"bad name '{spec.name}': a name starts with a letter (a number is read as a cell id)"
        )
    if not spec.root.startswith("/"):
        return f"root {spec.root} is not an absolute path"
    if 0 in spec.ports:
        return "port 0 cannot be reserved (use 1-65535)"
    dups = sorted({p for p in spec.ports if spec.ports.count(p) > 1})
    if dups:
        return f"port {dups[0]} is listed twice"
    for rl in spec.rlimits:
        if rl.soft > rl.hard:
            return f"rlimit {rl.resource}: soft limit {rl.soft} is above hard limit {rl.hard}"
    if len(set(spec.bind_addrs)) != len(spec.bind_addrs):
        return "a bind address is listed twice"
    return None


def reword_invalid(exc: InvalidArgument, spec: CellSpec, what: str) -> InvalidArgument:
    """`exc` with the field named, when it can be told."""
    reason = invalid_reason(spec)
    if reason is None:
        return exc
    return InvalidArgument(f"{what}: {reason}", err=exc.errno)
