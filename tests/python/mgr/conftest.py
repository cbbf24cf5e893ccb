"""Shared setup for the cellmgr tests: the package and the hostile archive
corpus on sys.path (relocated paths come from tests/python/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

_PY = Path(__file__).resolve().parents[3] / "python"
#: The hostile archives (tests/corpus/archives/hostile.py), importable as `hostile`.
CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "archives"
for _dir in (_PY, CORPUS):
    if str(_dir) not in sys.path:
        sys.path.insert(0, str(_dir))


DATA = Path(__file__).parent / "data"
