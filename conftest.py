"""Suite-wide: a test tool CI installs is never silently missing.

`.ci/run` installs what a fresh Debian lacks and sets CELLS_REQUIRE_TOOLS
to the packages it guarantees (e.g. "gcc atf-sh genisoimage shellcheck
mandoc").  A test that then skips because one of those is missing (its
reason names the package: "... apt-get install atf-sh") is reported as a
failure, so a broken install cannot pass as a green run with fewer tests.
Tools CI does not install (qemu) still skip with their reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

_PACKAGE = re.compile(r"apt-get install ([A-Za-z0-9.+-]+)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    outcome = yield
    report = outcome.get_result()
    required = set(os.environ.get("CELLS_REQUIRE_TOOLS", "").split())
    if not required or not report.skipped:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    named = _PACKAGE.search(reason)
    if named is not None and named.group(1) in required:
        report.outcome = "failed"
        report.longrepr = f"{named.group(1)} is required here (CELLS_REQUIRE_TOOLS): {reason}"
