"""Suite-wide: where CI installed every test tool, no test skips for one.

`.ci/run` sets CELLS_REQUIRE_TOOLS=1 after installing what a fresh Debian
lacks; a test that then skips because a tool is missing (its reason names
the package: "... apt-get install X") is reported as a failure, so a broken
install cannot pass as a green run with fewer tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CELLS_REQUIRE_TOOLS") != "1" or not report.skipped:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if "apt-get install" in reason:
        report.outcome = "failed"
        report.longrepr = f"a required test tool is missing (CELLS_REQUIRE_TOOLS=1): {reason}"
