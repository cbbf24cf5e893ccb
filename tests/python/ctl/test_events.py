"""cellctl events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

HEADER = (
    "     SEQ  TIME                  CELL              TARGET              EUID  "
    "OP                      REASON\n"
)


def deny(cellctl: Any, *args: str) -> None:
    assert cellctl("explain", *args, "--record").exit_code == 0


def test_table(cellctl: Any, two_cells: Any) -> None:
    deny(cellctl, "web", "process.signal", "db")
    deny(cellctl, "host", "network.bind", "80", "--euid", "1000")
    result = cellctl("events")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == HEADER + (
        "       1  2027-01-15T08:00:00Z  web               db                     0  "
        "process.signal          cross_cell\n"
        "       2  2027-01-15T08:00:00Z  host              web                 1000  "
        "network.bind            port_owned\n"
    )


def test_since_and_json_lines(cellctl: Any, two_cells: Any) -> None:
    for _ in range(3):
        deny(cellctl, "db", "process.nice", "web")
    result = cellctl("events", "--since", "2", "--json")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["seq"] for e in events] == [2, 3]
    assert events[0] == {
        "seq": 2,
        "time": 1_800_000_000,
        "cell": 2,
        "target": 1,
        "euid": 0,
        "scope": "process",
        "op": "process.nice",
        "reason": "cross_cell",
        "action": 0,
        "request": 0,
    }


def test_events_of_a_destroyed_cell_show_its_id(cellctl: Any, two_cells: Any) -> None:
    deny(cellctl, "db", "system.sysctl_private")
    assert cellctl("destroy", "db").exit_code == 0
    line = cellctl("events").stdout.splitlines()[1]
    assert line.split()[2:4] == ["2", "host"]


def test_follow_prints_new_events(cellctl: Any, two_cells: Any, sim_env: dict[str, str]) -> None:
    follower = subprocess.Popen(
        [sys.executable, "-m", "cells.cli.ctl", "events", "--follow", "--json"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **sim_env},
    )
    try:
        time.sleep(0.5)
        deny(cellctl, "web", "process.ptrace", "db")
        assert follower.stdout is not None
        first = json.loads(follower.stdout.readline())
        deny(cellctl, "db", "process.ptrace", "web")
        second = json.loads(follower.stdout.readline())
        assert (first["seq"], first["cell"], second["seq"], second["cell"]) == (1, 1, 2, 2)
    finally:
        follower.terminate()
        follower.wait(timeout=10)


def test_tsv(cellctl: Any, two_cells: Any) -> None:
    deny(cellctl, "web", "process.signal", "db")
    result = cellctl("events", "--tsv")
    assert result.stdout.splitlines() == [
        "seq\ttime\tcell\ttarget\teuid\tscope\top\treason",
        "1\t1800000000\t1\t2\t0\tprocess\tprocess.signal\tcross_cell",
    ]
