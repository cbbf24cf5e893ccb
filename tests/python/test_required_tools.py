"""The suite-wide rule (conftest.py at the top): a tool CI installs never skips."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TOP = Path(__file__).resolve().parents[2]
SKIPS = """
import pytest

def test_atf():
    pytest.skip("atf-sh missing: apt-get install atf-sh")

def test_qemu():
    pytest.skip("qemu-system-x86_64 missing: apt-get install qemu-system-x86")
"""


def test_a_required_tool_that_is_missing_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest((TOP / "conftest.py").read_text())
    pytester.makepyfile(SKIPS)
    monkeypatch.setenv("CELLS_REQUIRE_TOOLS", "gcc atf-sh")
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(failed=1, skipped=1)
    monkeypatch.delenv("CELLS_REQUIRE_TOOLS")
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(skipped=2)
