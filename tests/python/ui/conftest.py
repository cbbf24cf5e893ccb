"""Fixtures of the cellui tests: a fake daemon on a short socket path."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cellui_fake_daemon import FakeDaemon


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    # Unix socket paths are limited to ~100 bytes; pytest's tmp_path can be longer.
    path = Path(tempfile.mkdtemp(prefix="cellui-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def fake(sock_dir: Path) -> Iterator[FakeDaemon]:
    daemon = FakeDaemon(str(sock_dir / "cellmgr.sock")).start()
    yield daemon
    daemon.close()
