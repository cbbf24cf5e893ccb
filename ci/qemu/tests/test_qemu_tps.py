"""atf-run's tps stream and atf-report's ticker summary."""

from __future__ import annotations

import pytest

from ci.qemu import tps
from ci.qemu.tests.fakes import PASSING_TPS

MIXED = """Content-Type: application/X-atf-tps; version="3"

info: atf.version, Automated Testing Framework 0.20 (atf-0.20)
info: tests.root, /usr/cells/ci/qemu/atf
info: time.start, Sun Nov 29 03:00:00 UTC 2026
tps-count: 3
tp-start: 1764385200.100000, t_policy, 3
tc-start: 1764385200.200000, rawsock4
tc-so:kern.securelevel=1
tc-end: 1764385201.000000, rawsock4, passed
tc-start: 1764385201.100000, modload
tc-se:incell 3 /tmp/root modload: got 'ok', want 'EPERM'
tc-end: 1764385202.000000, modload, failed, incell 3 /tmp/root modload: got 'ok', want a denial
tc-start: 1764385202.100000, sysvipc
tc-end: 1764385202.200000, sysvipc, skipped, needs root (host root creates cells)
tp-end: 1764385202.300000, t_policy
tp-start: 1764385202.400000, t_stress, 1
tc-start: 1764385202.500000, fork_exit
tc-end: 1764385300.000000, fork_exit, expected_failure, known slow path
tp-end: 1764385300.100000, t_stress
tp-start: 1764385300.200000, t_broken, 0
tp-end: 1764385300.300000, t_broken, Invalid format of test case list: 1: Unexpected token
info: time.end, Sun Nov 29 03:05:00 UTC 2026
"""

TICKER = """t_policy (1/3): 3 test cases
    rawsock4: [0.800000s] Passed.
    modload: [0.900000s] Failed: incell 3 /tmp/root modload: got 'ok', want a denial
    sysvipc: [0.100000s] Skipped: needs root (host root creates cells)
[2.200000s]

Failed test cases:
    t_policy:modload

Summary for 3 test programs:
    1 passed test cases.
    1 failed test cases.
    1 expected failed test cases.
    1 skipped test cases.
"""


def test_all_passing() -> None:
    s = tps.parse_tps(PASSING_TPS)
    assert (s.passed, s.failed, s.skipped, s.programs) == (2, 0, 0, 1)
    assert s.complete and s.ok and s.failures() == []


def test_mixed_results_and_a_broken_program() -> None:
    s = tps.parse_tps(MIXED)
    assert (s.passed, s.failed, s.skipped, s.expected_failures) == (1, 1, 1, 1)
    assert s.programs == s.declared_programs == 3
    assert not s.ok
    assert s.failures() == [
        "t_policy:modload: incell 3 /tmp/root modload: got 'ok', want a denial",
        "t_broken: broken: Invalid format of test case list: 1: Unexpected token",
    ]


def test_stream_cut_short_is_incomplete() -> None:
    cut = MIXED.split("tp-start: 1764385202.400000")[0]
    s = tps.parse_tps(cut)
    assert not s.complete and not s.ok
    hung = PASSING_TPS.split("tc-end: 1700000002.500000")[0]
    s = tps.parse_tps(hung)
    assert s.broken_programs == [("t_isolation", "stream ended inside the program")]


def test_no_test_cases_is_not_a_pass() -> None:
    s = tps.parse_tps('Content-Type: application/X-atf-tps; version="3"\n\ntps-count: 0\n')
    assert not s.ok


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "hello\n",
        'Content-Type: application/X-atf-tps; version="2"\n',
        'Content-Type: application/X-atf-tps; version="3"\n\ntps-count: 1\nbogus\n',
        'Content-Type: application/X-atf-tps; version="3"\n\ntps-count: 1\ntc-start: 1.0, orphan\n',
        'Content-Type: application/X-atf-tps; version="3"\n\ntps-count: 1\n'
        "tp-start: 1.0, p, 1\ntc-start: 1.1, a\ntc-end: 1.2, b, passed\n",
    ],
)
def test_malformed_streams_are_refused(bad: str) -> None:
    with pytest.raises(tps.TpsError):
        tps.parse_tps(bad)


def test_ticker_summary() -> None:
    assert tps.parse_ticker_summary(TICKER) == {
        "passed": 1,
        "failed": 1,
        "expected failed": 1,
        "skipped": 1,
    }
    assert tps.parse_ticker_summary("no summary here\n") is None
