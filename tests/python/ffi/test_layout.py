"""The binding's view of the ABI structs matches cell_abi.h byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cells.ffi._binding import ABI_VERSION, ffi, lib

ABI_H = Path(__file__).resolve().parents[3] / "kmod" / "secmodel_cell" / "core" / "cell_abi.h"


def header_sizes() -> dict[str, int]:
    """struct name -> size, from the header's _Static_assert lines."""
    text = ABI_H.read_text()
    found = re.findall(r"sizeof\(struct (\w+)\) == (\d+)", text)
    assert found, "no size assertions found in cell_abi.h"
    return {name: int(size) for name, size in found}


@pytest.mark.parametrize("name", sorted(header_sizes()))
def test_struct_size_matches_header(name: str) -> None:
    assert ffi.sizeof(f"struct {name}") == header_sizes()[name]


# Offsets worked out by hand from the declarations and their padding.
OFFSETS = {
    "cell_addr": {"ca_family": 0, "ca_pad": 1, "ca_addr": 4},
    "cell_rlimit": {"crl_resource": 0, "crl_pad": 4, "crl_soft": 8, "crl_hard": 16},
    "cell_create_req": {
        "cr_size": 0,
        "cr_abi": 4,
        "cr_flags": 8,
        "cr_profile": 12,
        "cr_id": 16,
        "cr_nports": 20,
        "cr_naddrs": 22,
        "cr_nrlimits": 24,
        "cr_pad0": 26,
        "cr_pad1": 28,
        "cr_name": 32,
        "cr_root": 96,
        "cr_ports": 1120,
        "cr_addrs": 1184,
        "cr_rlimits": 1344,
    },
    "cell_info": {
        "ci_id": 0,
        "ci_profile": 4,
        "ci_flags": 8,
        "ci_state": 12,
        "ci_nports": 16,
        "ci_naddrs": 18,
        "ci_nrlimits": 20,
        "ci_pad0": 22,
        "ci_nprocs": 24,
        "ci_nrefs": 28,
        "ci_created": 32,
        "ci_age": 40,
        "ci_vmsize": 48,
        "ci_cpu_1s": 56,
        "ci_cpu_10s": 60,
        "ci_pad1": 64,
        "ci_pad2": 68,
        "ci_denies": 72,
        "ci_name": 136,
        "ci_root": 200,
        "ci_ports": 1224,
        "ci_addrs": 1288,
        "ci_rlimits": 1448,
    },
    "cell_event": {
        "ev_seq": 0,
        "ev_time": 8,
        "ev_cell": 16,
        "ev_target": 20,
        "ev_euid": 24,
        "ev_scope": 28,
        "ev_op": 30,
        "ev_reason": 32,
        "ev_pad": 36,
        "ev_action": 40,
        "ev_request": 48,
    },
    "cell_stats": {
        "st_size": 0,
        "st_abi": 4,
        "st_ncells": 8,
        "st_max_cells": 12,
        "st_next_id": 16,
        "st_hz": 20,
        "st_audit_head": 24,
        "st_audit_size": 32,
        "st_pad0": 36,
        "st_log_suppressed": 40,
        "st_denies": 48,
        "st_host_denies": 112,
    },
}


@pytest.mark.parametrize("struct", sorted(OFFSETS))
def test_field_offsets(struct: str) -> None:
    got = {field: ffi.offsetof(f"struct {struct}", field) for field in OFFSETS[struct]}
    assert got == OFFSETS[struct]


def test_every_field_is_covered() -> None:
    for struct, offsets in OFFSETS.items():
        fields = [name for name, _ in ffi.typeof(f"struct {struct}").fields]
        assert fields == list(offsets), struct


def test_constants_match_header() -> None:
    text = ABI_H.read_text()
    for name, value in re.findall(r"#define (CELL_\w+)\s+(\d+)", text):
        assert getattr(lib, name) == int(value), name
    assert lib.CELL_ABI_VERSION == ABI_VERSION


def test_build_stamps_match_the_package() -> None:
    from cells import __version__

    assert ffi.string(lib.CELLS_BUILD_VERSION).decode() == __version__
    assert lib.CELLS_BUILD_ABI == ABI_VERSION


def test_a_stale_build_is_refused_with_the_fix() -> None:
    import subprocess
    import sys

    code = (
        "import cells\n"
        "cells.__version__ = '9.9.9'\n"
        "try:\n"
        "    import cells.ffi._binding\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    from cells import __version__

    assert out.stdout == (
        f"BackendError the compiled core was built for cells {__version__}, this is cells 9.9.9; "
        "rebuild it with: pip install -e . (or pip install . for a non-editable install)\n"
    )
