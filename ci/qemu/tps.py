"""Parse what the in-guest ATF run produced.

`atf-run` writes the "application/X-atf-tps" stream (version 3): info
lines, `tps-count`, then per test program `tp-start: TS, NAME, N`, its test
cases as `tc-start: TS, NAME` ... `tc-end: TS, NAME, RESULT[, REASON]` with
`tc-so:`/`tc-se:` output lines in between, and `tp-end: TS, NAME[, REASON]`
where a reason means the program itself broke.  `atf-report -o ticker`
ends with a "Summary for N test programs:" block of counts.  parse_tps()
is the source of truth; parse_ticker_summary() lets ci.qemu.run cross-check
it.  Tested with sample outputs in ci/qemu/tests/test_tps.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"
EXPECTED = (
    "expected_death",
    "expected_exit",
    "expected_failure",
    "expected_signal",
    "expected_timeout",
)
_HEADER_RE = re.compile(r'^Content-Type: application/X-atf-tps; version="3"$')


class TpsError(ValueError):
    """The stream is not a tps stream we can trust."""


@dataclass
class CaseResult:
    program: str
    name: str
    result: str
    reason: str = ""


@dataclass
class TpsSummary:
    """Counts and the failures, with the reasons atf gave."""

    programs: int = 0
    declared_programs: int = 0
    cases: list[CaseResult] = field(default_factory=list)
    broken_programs: list[tuple[str, str]] = field(default_factory=list)
    complete: bool = False

    def count(self, result: str) -> int:
        return sum(1 for c in self.cases if c.result == result)

    @property
    def passed(self) -> int:
        return self.count(PASSED)

    @property
    def failed(self) -> int:
        return self.count(FAILED)

    @property
    def skipped(self) -> int:
        return self.count(SKIPPED)

    @property
    def expected_failures(self) -> int:
        return sum(1 for c in self.cases if c.result in EXPECTED)

    @property
    def ok(self) -> bool:
        """No failed case, no broken program, every program finished, >0 cases."""
        return (
            self.complete and not self.broken_programs and self.failed == 0 and len(self.cases) > 0
        )

    def failures(self) -> list[str]:
        out = [
            f"{c.program}:{c.name}: {c.reason or c.result}"
            for c in self.cases
            if c.result == FAILED
        ]
        out += [f"{p}: broken: {r}" for p, r in self.broken_programs]
        return out


def _fields(rest: str, count: int) -> list[str]:
    """Split 'a, b, c...' into at most count fields (the last keeps commas)."""
    return [p.strip() for p in rest.split(",", count - 1)]


def parse_tps(text: str) -> TpsSummary:
    """Parse an atf-run tps stream; raises TpsError on malformed input."""
    lines = text.splitlines()
    if not lines or not _HEADER_RE.match(lines[0]):
        raise TpsError("not an atf-run tps stream (missing version 3 header)")
    summary = TpsSummary()
    program: str | None = None
    case: str | None = None
    for lineno, line in enumerate(lines[1:], start=2):
        if not line or line.startswith(("tc-so:", "tc-se:", "info:")):
            continue
        key, sep, rest = line.partition(": ")
        if not sep:
            raise TpsError(f"line {lineno}: unexpected {line[:60]!r}")
        if key == "tps-count":
            summary.declared_programs = int(rest)
        elif key == "tp-start":
            _ts, name, _n = _fields(rest, 3)
            program = name
        elif key == "tc-start":
            if program is None:
                raise TpsError(f"line {lineno}: test case outside a test program")
            case = _fields(rest, 2)[1]
        elif key == "tc-end":
            parts = _fields(rest, 4)
            if program is None or case is None or len(parts) < 3 or parts[1] != case:
                raise TpsError(f"line {lineno}: tc-end without a matching tc-start")
            reason = parts[3] if len(parts) > 3 else ""
            summary.cases.append(CaseResult(program, case, parts[2], reason))
            case = None
        elif key == "tp-end":
            parts = _fields(rest, 3)
            if program is None or parts[1] != program:
                raise TpsError(f"line {lineno}: tp-end without a matching tp-start")
            if case is not None:
                summary.broken_programs.append((program, f"test case {case} never ended"))
            if len(parts) > 2 and parts[2]:
                summary.broken_programs.append((program, parts[2]))
            summary.programs += 1
            program = None
            case = None
        else:
            raise TpsError(f"line {lineno}: unknown key {key!r}")
    if program is not None:
        summary.broken_programs.append((program, "stream ended inside the program"))
    summary.complete = program is None and summary.programs == summary.declared_programs > 0
    return summary


_SUMMARY_LINE_RE = re.compile(r"^\s*(\d+) (passed|failed|expected failed|skipped) test cases?\.")


def parse_ticker_summary(text: str) -> dict[str, int] | None:
    """Counts from atf-report's ticker summary, or None if it has none."""
    start = text.rfind("Summary for ")
    if start < 0:
        return None
    counts: dict[str, int] = {}
    for line in text[start:].splitlines()[1:]:
        m = _SUMMARY_LINE_RE.match(line)
        if m:
            counts[m.group(2)] = int(m.group(1))
    return counts or None
