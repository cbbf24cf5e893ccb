"""Attacks: a cell plants symlinks (and fifos) in its root or a volume.

Each case in tests/corpus/planted/provision.json is played through
`cellmgr apply` on the sim: the cell is applied once, its root (or the
volume mounted at /data) is then made hostile, and the provision step is
applied.  The step must fail with one line naming the planted path, and
the sentinel outside the cell must keep its content, mode and owner.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cells.kernel import open_kernel
from cells.mgr.apply import Manager
from cells.mgr.host import SimHost
from cells.mgr.loader import ManifestError
from cells.mgr.paths import Paths

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "planted"
sys.path.insert(0, str(CORPUS))

from planted import SECRET, Sentinel, plant, plant_fifo  # noqa: E402

CASES: list[dict[str, Any]] = json.loads((CORPUS / "provision.json").read_text())


def write_manifest(paths: Paths, provision: list[dict[str, Any]]) -> None:
    docs = [
        {"kind": "Volume", "name": "data", "mode": "0755"},
        {"kind": "Cell", "name": "c", "mounts": ["data:/data:rw"], "provision": provision},
    ]
    (paths.config_dir / "c.yaml").write_text("\n---\n".join(json.dumps(d) for d in docs))


@pytest.fixture
def manager(paths: Paths) -> Iterator[Manager]:
    kernel = open_kernel("sim", paths.state_dir)
    m = Manager(paths, kernel, SimHost())
    yield m
    m.close()


@pytest.fixture
def unblock() -> Iterator[list[Path]]:
    """Fifos listed here get a writer now and then, so code that opens one
    for reading (the bug) returns instead of hanging the suite."""
    fifos: list[Path] = []
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.5):
            for f in fifos:
                with contextlib.suppress(OSError):
                    os.close(os.open(f, os.O_WRONLY | os.O_NONBLOCK))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    yield fifos
    stop.set()
    t.join(timeout=5)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_planted_link_is_refused(
    case: dict[str, Any], paths: Paths, manager: Manager, tmp_path: Path, unblock: list[Path]
) -> None:
    write_manifest(paths, [])
    assert manager.apply().ok
    root, volume = paths.root("c"), paths.volume("data")
    assert (root / "data").is_symlink()  # the sim mounts a volume as a symlink

    p = case["plant"]
    base = root if p["at"] == "root" else volume
    sentinel = None
    if p["to"] == "fifo":
        (base / p["path"]).unlink(missing_ok=True)
        unblock.append(plant_fifo(base, p["path"]))
    else:
        host = tmp_path / "host"
        sentinel = (Sentinel.file if p["to"] == "file" else Sentinel.dir)(host / "target")
        (base / p["path"]).unlink(missing_ok=True)
        plant(base, p["path"], sentinel.path)

    write_manifest(paths, [case["step"]])
    try:
        report = manager.apply()
    except ManifestError as exc:
        # Refused by plan's preflight, before any change: as good.
        detail = str(exc).splitlines()[0]
    else:
        failed = [r for r in report.results if not r.ok]
        assert len(failed) == 1, report.to_dict()
        detail = failed[0].detail
    assert case["names"] in detail
    assert "\n" not in detail and "Traceback" not in detail
    if sentinel is not None:
        assert sentinel.unchanged()
    for f in root.rglob("*"):
        if f.is_file() and not f.is_symlink() and not os.path.islink(f.parent):
            assert SECRET not in f.read_text(errors="replace"), f


def test_file_step_replaces_a_planted_final_link_without_following_it(
    paths: Paths, manager: Manager, tmp_path: Path
) -> None:
    write_manifest(paths, [])
    assert manager.apply().ok
    sentinel = Sentinel.file(tmp_path / "host" / "motd")
    plant(paths.root("c"), "etc/motd", sentinel.path)
    write_manifest(paths, [{"file": {"path": "/etc/motd", "content": "hi\n", "mode": "0600"}}])
    assert manager.apply().ok
    motd = paths.root("c") / "etc/motd"
    assert not motd.is_symlink() and motd.read_text() == "hi\n"
    assert sentinel.unchanged()
