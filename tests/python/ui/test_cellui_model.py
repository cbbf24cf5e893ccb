"""cells.ui.model: parsing, filter, search, sort and formatting, no Textual."""

from __future__ import annotations

from cells.ui.model import (
    CellFilter,
    CellRow,
    SortKey,
    cell_texts,
    detail_lines,
    format_age,
    format_bytes,
    format_time,
    parse_backups,
    parse_cell,
    parse_plan,
    parse_snapshot,
    parse_volumes,
    select,
)
from cellui_fake_daemon import FROZEN_NOW, sample_cells


def snapshot_cells() -> list[CellRow]:
    return list(parse_snapshot({"cells": sample_cells()}, FROZEN_NOW).cells)


def names(rows: list[CellRow]) -> list[str]:
    return [r.name for r in rows]


def test_parse_cell_reads_every_column() -> None:
    c = parse_cell(sample_cells()[0], FROZEN_NOW)
    assert (c.name, c.id, c.state, c.profile, c.procs) == ("web", 1, "running", "high", 2)
    assert (c.cpu_1s, c.cpu_10s, c.memory) == (3.0, 2.9, 58 * 1024 * 1024)
    assert c.ports == (80, 443) and c.health == "healthy"
    # the age advances from when the record arrived
    assert c.age_at(FROZEN_NOW) == 3725.0
    assert c.age_at(FROZEN_NOW + 10) == 3735.0
    assert parse_cell(sample_cells()[0]).age_at(FROZEN_NOW + 10) == 3725.0
    assert (c.extra["service"], c.extra["restarts"], c.extra["pid"]) == ("running", 0, 1001)


def test_parse_cell_tolerates_missing_and_bad_values() -> None:
    c = parse_cell({"name": "x", "procs": "3", "cpu_1s": "junk", "ports": "80", "id": None})
    assert (c.state, c.procs, c.cpu_1s, c.memory, c.health) == ("unknown", 3, 0.0, 0, "-")
    assert c.ports == () and c.id is None and c.age_at(FROZEN_NOW) is None
    assert cell_texts(c, FROZEN_NOW)[7] == "-"


def test_snapshot_skips_what_is_not_a_cell() -> None:
    assert len(parse_snapshot({"cells": sample_cells()}, 0).cells) == 6
    assert len(parse_snapshot({"cells": [*sample_cells(), "junk", 3]}, 0).cells) == 6
    assert parse_snapshot({"nothing": 1}, 0).cells == ()
    assert parse_snapshot(None, 0).cells == ()
    assert parse_snapshot({"cells": "junk"}, 0).cells == ()


def test_filters_partition_the_cells() -> None:
    cells = snapshot_cells()
    assert names(select(cells, CellFilter.RUNNING)) == ["cache", "db", "dns", "web"]
    assert names(select(cells, CellFilter.STOPPED)) == ["mail"]
    # failed = failed or backoff state, or unhealthy; an unhealthy running cell is in both
    assert names(select(cells, CellFilter.FAILED)) == ["build", "dns"]
    backoff = parse_cell({"name": "b", "state": "backoff"})
    absent = parse_cell({"name": "a", "state": "absent"})
    assert names(select([backoff, absent], CellFilter.FAILED)) == ["b"]
    assert names(select([backoff, absent], CellFilter.STOPPED)) == ["a"]
    assert len(select(cells, CellFilter.ALL)) == 6


def test_filter_cycle_order() -> None:
    seen = [CellFilter.ALL]
    for _ in range(4):
        seen.append(seen[-1].next())
    assert [f.value for f in seen] == ["all", "running", "stopped", "failed", "all"]


def test_search_matches_words_over_fields() -> None:
    cells = snapshot_cells()
    assert names(select(cells, search="WE")) == ["web"]
    assert names(select(cells, search="5432")) == ["db"]
    assert names(select(cells, search="running high")) == ["db", "dns", "web"]
    assert names(select(cells, search="medium")) == ["cache"]
    assert select(cells, search="nosuchthing") == []


def test_sort_orders() -> None:
    cells = snapshot_cells()
    assert names(select(cells, order=SortKey.CPU))[:2] == ["db", "web"]
    assert names(select(cells, order=SortKey.MEMORY))[0] == "db"
    assert names(select(cells, order=SortKey.AGE, now=FROZEN_NOW))[:3] == ["db", "mail", "web"]
    assert names(select(cells, order=SortKey.STATE)) == ["build", "cache", "db", "dns", "web",
                                                         "mail"]  # fmt: skip


def test_formatting() -> None:
    assert format_bytes(None) == "-"
    assert format_bytes(512) == "512B"
    assert format_bytes(58 * 1024 * 1024) == "58.0M"
    assert [format_age(s) for s in (None, 42, 303, 3725, 3 * 86400 + 3600)] == [
        "-", "42s", "5m03s", "1h02m", "3d01h",
    ]  # fmt: skip
    web = parse_cell(sample_cells()[0], FROZEN_NOW)
    assert cell_texts(web, FROZEN_NOW) == (
        "web", "running", "high", "2", "3.0%", "2.9%", "58.0M", "1h02m", "healthy", "80,443",
    )  # fmt: skip
    assert cell_texts(web, FROZEN_NOW + 60)[7] == "1h03m"


def test_detail_lines_include_extra_fields() -> None:
    lines = dict(detail_lines(parse_cell(sample_cells()[0], FROZEN_NOW), FROZEN_NOW))
    assert (lines["service"], lines["restarts"], lines["autostart"]) == ("running", "0", "yes")
    assert lines["started"] == "2027-01-15 06:57:55"
    assert lines["ports"] == "80,443"


def test_parse_volumes_backups_plan() -> None:
    vols = parse_volumes({"volumes": [{"name": "www", "exists": False, "used_by": ["web"]}]})
    assert vols[0].name == "www" and vols[0].used_by == ("web",) and vols[0].exists is False
    backups = parse_backups({"backups": [{"id": "b1", "cell": "db", "size": 2048,
                                          "created": "2026-11-29T04:15:00Z"}]})  # fmt: skip
    assert (backups[0].id, backups[0].cell, backups[0].size) == ("b1", "db", 2048)
    assert format_time(backups[0].created) == "2026-11-29 04:15:00"
    assert parse_backups({"backups": [{"id": "b2", "created": "yesterday"}]})[0].created is None
    reason = {"field": "profile", "old": "high", "new": "low", "drift": False}
    drift = {"field": "ports", "old": [80], "new": [80, 443], "drift": True}
    plan = parse_plan({
        "version": 1, "fingerprint": "fp", "changes": True,
        "actions": [{"op": "cell.replace", "name": "web", "cause": "edit",
                     "reasons": [reason, drift], "restarts": ["web"], "steps": []}],
        "drift": [{"name": "web", **drift}], "notes": ["sim backend"],
    })  # fmt: skip
    assert plan.fingerprint == "fp" and not plan.empty
    action = plan.actions[0]
    assert (action.op, action.name, action.cause, action.restarts) == (
        "cell.replace",
        "web",
        "edit",
        ("web",),
    )
    assert action.reasons == ("profile: high → low", "ports: [80] → [80, 443] (drift)")
    assert plan.drift == ("web: ports: [80] → [80, 443] (drift)",)
    assert plan.notes == ("sim backend",)
    assert parse_plan({"actions": [], "fingerprint": "x"}).empty
