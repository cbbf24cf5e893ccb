"""Encoding a CellSpec into the ABI and decoding the core's answers."""

from __future__ import annotations

import errno

import pytest
from cells.errors import InvalidArgument
from cells.ffi._binding import ffi, lib
from cells.ffi.raw import Core, validate_create
from cells.kernel import codec
from cells.kernel.api import CellSpec, Rlimit

SPEC = CellSpec(
    name="web",
    root="/var/cells/web",
    profile="medium",
    ports=(80, 443),
    bind_addrs=("192.0.2.10", "2001:db8::1"),
    rlimits=(Rlimit("nofile", 1024, 4096), Rlimit("as", 1 << 30, 1 << 31)),
    overrides=("rawsock",),
)


def test_encode_fills_the_request() -> None:
    req = codec.encode_create(SPEC)
    assert req.cr_size == 1440 and req.cr_abi == lib.CELL_ABI_VERSION
    assert req.cr_profile == lib.CELL_PROFILE_MEDIUM
    assert req.cr_flags == lib.CELL_F_ALLOW_RAWSOCK
    assert ffi.string(req.cr_name) == b"web"
    assert ffi.string(req.cr_root) == b"/var/cells/web"
    assert (req.cr_nports, req.cr_ports[0], req.cr_ports[1]) == (2, 80, 443)
    assert req.cr_naddrs == 2
    assert req.cr_addrs[0].ca_family == lib.CELL_AF_INET
    assert bytes(req.cr_addrs[0].ca_addr)[:4] == bytes([192, 0, 2, 10])
    assert req.cr_addrs[1].ca_family == lib.CELL_AF_INET6
    assert req.cr_nrlimits == 2 and req.cr_rlimits[1].crl_resource == lib.CELL_RLIMIT_AS
    validate_create(req, "create")


def test_round_trip_through_the_core() -> None:
    core = Core()
    cell_id, _ = core.create(codec.encode_create(SPEC), 1000, "create")
    info = codec.decode_info(core.info(cell_id, 1010, "read"))
    assert info.id == cell_id and info.name == "web" and info.root == "/var/cells/web"
    assert info.profile == "medium" and info.overrides == ("rawsock",)
    assert info.ports == (80, 443)
    assert info.bind_addrs == ("192.0.2.10", "2001:db8::1")
    assert info.rlimits == SPEC.rlimits
    assert info.created == 1000 and info.age == 10 and info.state == "active"


def test_request_from_info_recreates_the_cell() -> None:
    core = Core()
    cell_id, _ = core.create(codec.encode_create(SPEC), 0, "create")
    info = core.info(cell_id, 0, "read")
    again = codec.request_from_info(info)
    assert codec.request_bytes(again) == codec.request_bytes(codec.encode_create(SPEC))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"profile": "extreme"}, "unknown profile 'extreme'"),
        ({"overrides": ("ptrace",)}, "unknown override 'ptrace'"),
        ({"ports": tuple(range(1, 34))}, "33 ports; at most 32"),
        ({"ports": (70000,)}, "port 70000 is out of range"),
        ({"bind_addrs": ("example.org",)}, "'example.org' is not an IPv4 or IPv6 address"),
        ({"bind_addrs": ("10.0.0.1",) * 9}, "9 bind addresses; at most 8"),
        ({"rlimits": (Rlimit("nofile", -2, 5),)}, "rlimit nofile is out of range"),
        ({"name": "a\0b"}, "name contains a NUL byte"),
    ],
)
def test_what_cannot_be_encoded_is_refused(change: dict[str, object], message: str) -> None:
    spec = CellSpec(**{**SPEC.__dict__, **change})  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument) as info:
        codec.encode_create(spec)
    assert message in str(info.value)


def test_long_names_are_the_cores_to_refuse() -> None:
    req = codec.encode_create(CellSpec("x" * 64, "/"))
    with pytest.raises(InvalidArgument) as info:
        validate_create(req, "create")
    assert info.value.errno == errno.ENAMETOOLONG
    with pytest.raises(InvalidArgument, match="name is 65 bytes; at most 63"):
        codec.encode_create(CellSpec("x" * 65, "/"))


def test_unlimited_travels_as_the_largest_abi_value() -> None:
    """No limit is UNLIMITED in Python and 2**64-1 in the ABI (the kernel
    clamps it to RLIM_INFINITY); it survives a round trip through the core."""
    from cells.kernel.rlimits import UNLIMITED, parse_rlimit

    spec = CellSpec(name="u", root="/", rlimits=(parse_rlimit("core=0:unlimited"),))
    req = codec.encode_create(spec)
    assert (req.cr_rlimits[0].crl_soft, req.cr_rlimits[0].crl_hard) == (0, 2**64 - 1)
    core = Core()
    cell_id, _ = core.create(req, 1, "create")
    (rl,) = codec.decode_info(core.info(cell_id, 1, "read")).rlimits
    assert (rl.resource, rl.soft, rl.hard) == ("core", 0, UNLIMITED)
