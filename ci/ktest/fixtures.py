"""The module's recorded sysctl answers, as fixtures for the netbsd backend.

`python -m ci.ktest record` boots cellktest in record mode, which runs a
scripted session (abi_version, create, list, stats, events and a set of
errors) and prints every raw answer in hex.  This module writes them as
one JSON file that tests/python/kernel/test_netbsd_recorded.py replays
through the fake sysctl.  Regenerate with `make ktest-fixtures`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_UNAME = re.compile(r"^(?:\[[ \d.]+\] )?(NetBSD \d+\.\d+\S* \([^)]*\) #\d+)", re.M)


def write(out: Path, records: dict[str, dict[str, str]], console: str) -> None:
    m = _UNAME.search(console)
    doc = {
        "about": "raw answers of security.models.cell.* from a real kernel; "
        "regenerate with make ktest-fixtures",
        "kernel": m.group(1).strip() if m else "unknown",
        "answers": {
            name: {"result": rec["result"], "hex": rec["hex"]}
            for name, rec in sorted(records.items())
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
