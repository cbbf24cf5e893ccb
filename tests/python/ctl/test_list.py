"""cellctl list: table, TSV and JSON."""

from __future__ import annotations

from typing import Any


def test_table(cellctl: Any, two_cells: Any) -> None:
    result = cellctl("list")
    assert result.exit_code == 0
    web, db = two_cells["web"], two_cells["db"]
    assert result.stdout == (
        "ID  NAME  PROFILE  STATE   PROCS  PORTS   ADDRS      AGE  ROOT\n"
        f"1   web   high     active  0      80,443  -          0s   {web}\n"
        f"2   db    low      active  0      -       192.0.2.5  0s   {db}\n"
    )


def test_tsv(cellctl: Any, two_cells: Any) -> None:
    result = cellctl("list", "--tsv")
    assert result.stdout.splitlines() == [
        "id\tname\tprofile\tstate\tnprocs\tports\tbind_addrs\tage\troot",
        f"1\tweb\thigh\tactive\t0\t80,443\t\t0\t{two_cells['web']}",
        f"2\tdb\tlow\tactive\t0\t\t192.0.2.5\t0\t{two_cells['db']}",
    ]


def test_json(cellctl: Any, two_cells: Any) -> None:
    doc = cellctl("list", "--json").json()
    assert (doc["backend"], doc["enforcing"]) == ("sim", False)
    assert [c["name"] for c in doc["cells"]] == ["web", "db"]
    db = doc["cells"][1]
    assert list(db) == [
        "id",
        "name",
        "root",
        "profile",
        "overrides",
        "state",
        "ports",
        "bind_addrs",
        "rlimits",
        "nprocs",
        "nrefs",
        "created",
        "age",
        "vmsize",
        "cpu_1s",
        "cpu_10s",
        "denies",
    ]
    assert db["rlimits"] == [{"resource": "nofile", "soft": 1024, "hard": 2048}]
    assert db["bind_addrs"] == ["192.0.2.5"]


def test_empty(cellctl: Any) -> None:
    assert cellctl("list").stdout == "ID  NAME  PROFILE  STATE  PROCS  PORTS  ADDRS  AGE  ROOT\n"
    assert cellctl("list", "--json").json() == {"backend": "sim", "enforcing": False, "cells": []}
