"""Read cellktest's console lines (see tests/kernel/cellktest.c)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CASE = re.compile(r"^KTEST CASE (\S+) (PASS|FAIL)\s*$")
_FAILED = re.compile(r"^KTEST FAILED (.*?)\s*$")
_END = re.compile(r"^KTEST END (\d+) passed, (\d+) failed\s*$")
_REC = re.compile(r"^KTEST REC (\S+) (\S+) (\d+)\s*$")
_HEX = re.compile(r"^KTEST HEX (\S+) ([0-9a-f]*)\s*$")
_BENCH = re.compile(r"^KTEST BENCH (\S+) (\d+)\s*$")


@dataclass
class Run:
    cases: dict[str, bool] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    end: tuple[int, int] | None = None
    records: dict[str, dict[str, str]] = field(default_factory=dict)
    bench: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.end is not None
            and self.end[1] == 0
            and self.end[0] > 0
            and all(self.cases.values())
            and not self.failures
        )


def parse(console: str) -> Run:
    """Every result line; kernel messages between them are ignored."""
    run = Run()
    for raw in console.splitlines():
        line = raw.rstrip("\r")
        # The kernel's log may share a line with ours; ours start it.
        if m := _CASE.match(line):
            run.cases[m.group(1)] = m.group(2) == "PASS"
        elif m := _FAILED.match(line):
            run.failures.append(m.group(1))
        elif m := _END.match(line):
            run.end = (int(m.group(1)), int(m.group(2)))
        elif m := _REC.match(line):
            run.records[m.group(1)] = {"result": m.group(2), "hex": "", "size": m.group(3)}
        elif m := _HEX.match(line):
            if m.group(1) in run.records:
                run.records[m.group(1)]["hex"] += m.group(2)
        elif m := _BENCH.match(line):
            run.bench[m.group(1)] = int(m.group(2))
    return run
