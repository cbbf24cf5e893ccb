"""cellctl explain."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

POLICY = Path(__file__).resolve().parents[3] / "kmod" / "secmodel_cell" / "core" / "cell_policy.def"


def test_cross_cell_signal(cellctl: Any, two_cells: Any) -> None:
    result = cellctl("explain", "web", "process.signal", "db")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "verdict: deny\n"
        "reason:  cross_cell (the object is in another cell (or the host))\n"
        "subject: cell 1, euid 0; target: db\n"
        "row:     process.signal scope=process class=cross low=deny medium=deny high=deny "
        "relaxed-by=-\n"
        "         signal another process, kill(pid, 0) included\n"
    )


@pytest.mark.parametrize(
    ("args", "verdict", "reason"),
    [
        (["web", "process.signal", "web"], "defer", "same_cell"),
        (["web", "process.signal"], "deny", "cross_cell"),
        (["1", "system.mount"], "deny", "profile_deny"),
        (["db", "system.mount"], "defer", "profile_defer"),
        (["db", "network.bind", "80"], "deny", "port_owned"),
        (["web", "network.bind", "80"], "defer", "port_free"),
        (["db", "network.bind", "192.0.2.5:8080"], "defer", "port_free"),
        (["db", "network.bind", "192.0.2.6:8080"], "deny", "bind_addr"),
        (["host", "network.bind", "443", "--euid", "1000"], "deny", "port_owned"),
        (["host", "process.signal", "web"], "defer", "host_root"),
        (["host", "process.signal", "web", "--euid", "5"], "deny", "into_cell"),
        (["web", "cred.any"], "allow", "cred"),
    ],
)
def test_verdicts_as_json(
    cellctl: Any, two_cells: Any, args: list[str], verdict: str, reason: str
) -> None:
    result = cellctl("explain", *args, "--json")
    assert result.exit_code == 0, result.stderr
    doc = result.json()
    assert (doc["verdict"], doc["reason"]) == (verdict, reason)
    assert doc["op"] == args[1] == doc["row"]["op"]
    assert list(doc) == [
        "cell",
        "op",
        "scope",
        "verdict",
        "reason",
        "detail",
        "target",
        "euid",
        "row",
    ]


def test_overrides_relax_their_row(cellctl: Any, make_root: Any) -> None:
    root = str(make_root("r"))
    cellctl("create", "plain", "--root", root)
    cellctl("create", "ping", "--root", root, "--allow", "rawsock")
    plain = cellctl("explain", "plain", "network.rawsock", "--json").json()
    ping = cellctl("explain", "ping", "network.rawsock", "--json").json()
    assert (plain["verdict"], plain["reason"]) == ("deny", "profile_deny")
    assert (ping["verdict"], ping["reason"]) == ("defer", "override")


def test_table_lists_every_operation(cellctl: Any) -> None:
    rows = cellctl("explain", "--list", "--json").json()
    assert [r["op"] for r in rows] == re.findall(
        r'^CELL_OP\(\w+,\s*\w+, "([\w.]+)"', POLICY.read_text(), re.M
    )
    assert rows[0] == {
        "op": "process.cansee",
        "scope": "process",
        "klass": "cross",
        "low": "deny",
        "medium": "deny",
        "high": "deny",
        "relaxed_by": None,
        "doc": "see another process",
    }
    text = cellctl("explain", "--list").stdout.splitlines()
    assert text[0].split() == ["OP", "SCOPE", "CLASS", "LOW", "MEDIUM", "HIGH", "RELAXED-BY"]
    rawsock = next(line for line in text if line.startswith("network.rawsock "))
    assert rawsock.split() == [
        "network.rawsock",
        "network",
        "profile",
        "defer",
        "deny",
        "deny",
        "rawsock",
    ]
    scope_at = text[0].index("SCOPE")
    assert all(line[scope_at - 2 : scope_at] == "  " and line[scope_at] != " " for line in text)


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        (
            ["web", "process.teleport"],
            1,
            "cellctl: error: unknown operation 'process.teleport' "
            "(see `cellctl explain --list` for the table)\n",
        ),
        (
            ["web", "network.bind", "80:80:80"],
            1,
            "cellctl: error: explain network.bind: bad target '80:80:80' (use PORT, ADDR:PORT or "
            "[IPV6]:PORT, port 0-65535)\n",
        ),
        (
            ["web", "system.mount", "db"],
            1,
            "cellctl: error: explain system.mount: this operation takes no TARGET\n",
        ),
        (
            ["ghost", "process.signal"],
            1,
            "cellctl: error: explain process.signal for cell 'ghost': no cell named 'ghost'\n",
        ),
        (
            ["web", "process.signal", "ghost"],
            1,
            "cellctl: error: explain process.signal for cell 'web': no cell named 'ghost'\n",
        ),
        (
            ["web"],
            2,
            "cellctl: usage error: CELL and ACTION are required (or --list) "
            "(see: cellctl explain --help)\n",
        ),
    ],
)
def test_errors(cellctl: Any, two_cells: Any, args: list[str], code: int, stderr: str) -> None:
    result = cellctl("explain", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (code, "", stderr)


def test_record_feeds_events_and_counters(cellctl: Any, two_cells: Any) -> None:
    assert cellctl("explain", "web", "process.ptrace", "db", "--record").exit_code == 0
    assert cellctl("explain", "web", "process.ptrace", "web", "--record").exit_code == 0
    (event,) = [line for line in cellctl("events", "--json").stdout.splitlines()]
    assert '"op":"process.ptrace"' in event
    web = cellctl("list", "--json").json()["cells"][0]
    assert web["denies"]["process"] == 1


def test_table_as_tsv(cellctl: Any) -> None:
    lines = cellctl("explain", "--list", "--tsv").stdout.splitlines()
    assert lines[0] == "op\tscope\tklass\tlow\tmedium\thigh\trelaxed_by"
    assert "system.sysvipc\tsystem\tprofile\tdefer\tdefer\tdeny\tsysvipc" in lines
