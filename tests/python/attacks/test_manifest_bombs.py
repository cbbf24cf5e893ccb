"""Attacks on cellmgr's readers: YAML alias bombs, deep nesting, oversized
and endless manifests, and `apply --plan` pointed at /dev/zero or a bomb.

Each case once exhausted memory or raised a RecursionError; now each is one
problem line and exit status 1, quickly.  The committed cases live in
tests/corpus/manifests/."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "manifests"
EXPECTED = {
    "alias-bomb.yaml": "alias-bomb.yaml:6:8: yaml: aliases are not allowed",
    "merge-key.yaml": "merge-key.yaml:5:5: yaml: aliases are not allowed",
}
#: A child that reaches this much memory has expanded something.
MEMORY_CAP = 1 << 30


def cellmgr(
    config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """cellmgr in a child with an address-space cap and a time limit, so a
    bomb that goes off fails the test instead of taking the machine."""
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP}))\n"
        "from cells.cli.mgr import main\n"
        "main(sys.argv[1:])\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("CELLS_")}
    base.update(
        CELLS_BACKEND="sim",
        CELLS_QUIET="1",
        CELLS_CONFIG_DIR=str(config),
        CELLS_STATE_DIR=str(config.parent / "db"),
        CELLS_DIR=str(config.parent / "cells"),
        CELLS_SOCKET=str(config.parent / "run" / "cellmgr.sock"),
        **(env or {}),
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def config_with(tmp_path: Path, name: str, text: str | bytes) -> Path:
    config = tmp_path / "etc"
    config.mkdir(exist_ok=True)
    target = config / name
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text)
    return config


def one_problem(proc: subprocess.CompletedProcess[str], expected: str) -> None:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "RecursionError" not in proc.stderr
    lines = proc.stderr.splitlines()
    problems = [line for line in lines if not line.startswith("cellmgr:")]
    assert len(problems) == 1 and expected in problems[0], proc.stderr


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_manifest_is_refused(tmp_path: Path, name: str) -> None:
    config = config_with(tmp_path, name, (CORPUS / name).read_text())
    started = time.monotonic()
    one_problem(cellmgr(config, "validate"), EXPECTED[name])
    assert time.monotonic() - started < 20


def test_every_corpus_file_is_expected() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("kind: Cell\nname: deep\nports: " + "[" * 100_000 + "]" * 100_000 + "\n", "3:71"),
        ("- " * 100_000 + "1\n", "1:129"),
        ("kind: Cell\nname: deep\nx: " + "{a: " * 100_000 + "1" + "}" * 100_000 + "\n", "3:"),
    ],
    ids=["flow-list", "block-list", "flow-map"],
)
def test_100000_deep_nesting_is_one_line(tmp_path: Path, text: str, where: str) -> None:
    config = config_with(tmp_path, "deep.yaml", text)
    one_problem(cellmgr(config, "validate"), "nested deeper than 64 levels")
    assert f"deep.yaml:{where}" in cellmgr(config, "validate").stderr


def test_oversized_manifest_is_refused(tmp_path: Path) -> None:
    text = "kind: Cell\nname: big\n# " + "x" * (1 << 20) + "\n"
    config = config_with(tmp_path, "big.yaml", text)
    one_problem(cellmgr(config, "validate"), "big.yaml:1:1: (file): larger than 1 MiB")


def test_total_cap_is_configurable(tmp_path: Path) -> None:
    config = tmp_path / "etc"
    config.mkdir()
    for i in range(3):
        (config / f"c{i}.yaml").write_text(f"kind: Cell\nname: c{i}\n# {'x' * 1000}\n")
    assert cellmgr(config, "validate").returncode == 0
    proc = cellmgr(config, "validate", env={"CELLS_MAX_MANIFEST_BYTES": "2500"})
    one_problem(proc, "c2.yaml:1:1: (file): the manifests together are larger than 2500 bytes")


def test_manifest_that_is_a_device_or_fifo_is_refused(tmp_path: Path) -> None:
    # `cellmgr` lists only regular files, but load_files is the reader every
    # caller shares: it must not read /dev/zero for ever nor block on a fifo.
    # In a capped child: a regression must fail this test, not the machine.
    config = tmp_path / "etc"
    config.mkdir()
    (config / "zero.yaml").symlink_to("/dev/zero")
    os.mkfifo(config / "fifo.yaml")
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP}))\n"
        "from pathlib import Path\n"
        "from cells.mgr.loader import ManifestError, load_files\n"
        "try:\n"
        "    load_files([Path(a) for a in sys.argv[1:]])\n"
        "except ManifestError as e:\n"
        "    print('\\n'.join(p.message for p in e.problems))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(config / "zero.yaml"), str(config / "fifo.yaml")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (
        proc.stdout.splitlines() == ["not a regular file; a manifest must be a regular file"] * 2
    ), proc.stderr


@pytest.mark.parametrize("plan", ["/dev/zero", "fifo", "big", "deep", "deep100", "shape"])
def test_apply_plan_refuses_hostile_files(tmp_path: Path, plan: str) -> None:
    config = config_with(tmp_path, "web.yaml", "kind: Cell\nname: web\n")
    files = {
        "big": '{"fingerprint": "' + "x" * (65 << 20) + '"}',
        "deep": "[" * 100_000 + "]" * 100_000,
        "deep100": '{"fingerprint": "f", "cells": ' + "[" * 100 + "]" * 100 + "}",
        "shape": '{"fingerprint": "f", "cells": [["web"]]}',
    }
    path = plan
    if plan == "fifo":
        path = str(tmp_path / "plan.fifo")
        os.mkfifo(path)  # nobody ever writes: opening must not block
    elif plan in files:
        path = str(tmp_path / f"{plan}.json")
        Path(path).write_text(files[plan])
    started = time.monotonic()
    proc = cellmgr(config, "apply", "--plan", path)
    assert time.monotonic() - started < 20
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "not a saved plan" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "cells").exists()


def test_memory_cap_is_real() -> None:
    # The child's cap must be able to stop an expansion (else the tests
    # above would prove nothing about memory).
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    assert soft == resource.RLIM_INFINITY or soft > MEMORY_CAP
