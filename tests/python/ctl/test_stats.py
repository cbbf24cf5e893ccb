"""cellctl stats: text, JSON, Prometheus and HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families


def test_text(cellctl: Any, two_cells: Any) -> None:
    assert cellctl("explain", "web", "process.signal", "--record").exit_code == 0
    result = cellctl("stats")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "backend:        sim (enforces nothing)\n"
        "abi version:    1\n"
        "cells:          2 of 16384\n"
        "next id:        3\n"
        "audit:          head 1, ring of 1024\n"
        "log suppressed: 0\n"
        "denies:         process=1 system=0 network=0 device=0 machdep=0 cred=0\n"
        "host denies:    process=0 system=0 network=0 device=0 machdep=0 cred=0\n"
    )


def test_json(cellctl: Any, two_cells: Any) -> None:
    doc = cellctl("stats", "--json").json()
    assert list(doc) == [
        "backend",
        "enforcing",
        "abi_version",
        "ncells",
        "max_cells",
        "next_id",
        "hz",
        "audit_head",
        "audit_size",
        "log_suppressed",
        "denies",
        "host_denies",
        "cells",
    ]
    assert (doc["backend"], doc["enforcing"], doc["ncells"]) == ("sim", False, 2)
    assert [c["name"] for c in doc["cells"]] == ["web", "db"]


def test_prometheus(cellctl: Any, two_cells: Any) -> None:
    assert cellctl("explain", "db", "process.signal", "web", "--record").exit_code == 0
    result = cellctl("stats", "--prometheus")
    assert result.exit_code == 0
    assert (
        "# HELP cells_cells Live cells.\n# TYPE cells_cells gauge\ncells_cells 2.0\n"
        in result.stdout
    )
    families = {f.name: f for f in text_string_to_metric_families(result.stdout)}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert samples[("cells_cells", ())] == 2
    assert samples[("cells_denies_total", (("scope", "process"),))] == 1
    assert (
        samples[("cells_cell_denies_total", (("cell", "db"), ("id", "2"), ("scope", "process")))]
        == 1
    )
    assert samples[("cells_cell_processes", (("cell", "web"), ("id", "1")))] == 0
    assert samples[("cells_backend_info", (("backend", "sim"), ("enforcing", "false")))] == 1
    assert families["cells_denies"].type == "counter"


def test_http_response(cellctl: Any, two_cells: Any) -> None:
    result = cellctl("stats", "--prometheus", "--http", input="GET /metrics HTTP/1.0\r\n\r\n")
    head, _, body = result.stdout_bytes.decode().partition("\r\n\r\n")
    lines = head.split("\r\n")
    assert lines[0] == "HTTP/1.0 200 OK"
    assert "Content-Type: text/plain; version=0.0.4; charset=utf-8" in lines
    assert f"Content-Length: {len(body.encode())}" in lines
    assert body.startswith("# HELP cells_backend_info")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--http"], "--http needs --prometheus"),
        (["--json", "--prometheus"], "--json and --prometheus exclude each other"),
    ],
)
def test_option_conflicts(cellctl: Any, args: list[str], message: str) -> None:
    result = cellctl("stats", *args)
    assert (result.exit_code, result.stderr) == (
        2,
        f"cellctl: usage error: {message} (see: cellctl stats --help)\n",
    )


def test_http_under_inetd_reads_the_request_first(
    cellctl: Any, two_cells: Any, sim_env: dict[str, str]
) -> None:
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "cells.cli.ctl", "stats", "--prometheus", "--http"],
        input=b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n",
        capture_output=True,
        env={**os.environ, **sim_env},
        timeout=60,
    )
    head, _, body = proc.stdout.partition(b"\r\n\r\n")
    assert proc.returncode == 0
    assert head.split(b"\r\n")[0] == b"HTTP/1.0 200 OK"
    assert f"Content-Length: {len(body)}".encode() in head.split(b"\r\n")
    assert b"\ncells_cells 2.0\n" in body
