"""Attack: a cell plants a link or a fifo as its etc/passwd or etc/group.

The supervisor reads them as host root to resolve a service's user; a
link must not be followed to a host file and a fifo must not block it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cells.errors import InvalidArgument
from cells.supervisor.accounts import resolve_identity


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root" / "etc").mkdir(parents=True)
    return tmp_path / "root"


@pytest.fixture
def writer() -> Iterator[list[Path]]:
    """Give listed fifos a writer now and then, so a reader (the bug) returns."""
    fifos: list[Path] = []
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.5):
            for f in fifos:
                try:
                    os.close(os.open(f, os.O_WRONLY | os.O_NONBLOCK))
                except OSError:
                    continue

    t = threading.Thread(target=run, daemon=True)
    t.start()
    yield fifos
    stop.set()
    t.join(timeout=5)


def test_passwd_symlinked_to_a_host_file_is_not_read(root: Path, tmp_path: Path) -> None:
    host = tmp_path / "host-passwd"
    host.write_text("www:*:1234:1234::/home/www:/bin/sh\n")
    (root / "etc/passwd").symlink_to(host)
    with pytest.raises(InvalidArgument, match=r"etc/passwd: .*is a symlink"):
        resolve_identity("www", None, str(root), "service web")


def test_passwd_that_is_a_fifo_does_not_block(root: Path, writer: list[Path]) -> None:
    os.mkfifo(root / "etc/passwd")
    writer.append(root / "etc/passwd")
    started = time.monotonic()
    with pytest.raises(InvalidArgument, match=r"etc/passwd: .*a fifo, not a regular file"):
        resolve_identity("www", None, str(root), "service web")
    assert time.monotonic() - started < 0.4


def test_group_under_a_symlinked_etc_is_not_read(root: Path, tmp_path: Path) -> None:
    host_etc = tmp_path / "host-etc"
    host_etc.mkdir()
    (host_etc / "group").write_text("wheel:*:0:root\n")
    (root / "etc").rmdir()
    (root / "etc").symlink_to(host_etc)
    with pytest.raises(InvalidArgument, match=r"/etc: is a symlink"):
        resolve_identity("0", "wheel", str(root), "service web")
