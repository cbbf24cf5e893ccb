"""The in-guest ATF programs under the real atf-sh, on Linux.

Where Debian's atf-sh is installed, every program must list its test cases
(heads parse, every case registered), and every case must refuse to pass
without the module: on a host that is not NetBSD with secmodel_cell loaded
it fails, saying so -- it never passes or skips silently.  Cleanups must
succeed when there is nothing to clean.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

ATF = Path(__file__).resolve().parents[1] / "atf"
ABI_DIR = ATF.parents[2] / "kmod" / "secmodel_cell" / "core"
PROGRAMS = sorted(ATF.glob("t_*.sh"))

pytestmark = pytest.mark.skipif(
    shutil.which("atf-sh") is None, reason="atf-sh missing: apt-get install atf-sh"
)


@pytest.fixture(scope="module")
def srcdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed: apt-get install gcc")
    d = tmp_path_factory.mktemp("atf")
    for f in ATF.iterdir():
        shutil.copy2(f, d / f.name)
    subprocess.run(
        [
            "gcc",
            "-std=gnu99",
            "-O1",
            "-I",
            str(ABI_DIR),
            "-o",
            str(d / "cellprobe"),
            str(d / "cellprobe.c"),
        ],
        check=True,
    )
    return d


def cases(srcdir: Path, program: str) -> list[str]:
    out = subprocess.run(
        ["atf-sh", str(srcdir / program), "-l"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert out.startswith('Content-Type: application/X-atf-tp; version="1"')
    return re.findall(r"^ident: (\S+)$", out, re.M)


@pytest.mark.parametrize("program", [p.name for p in PROGRAMS])
def test_every_case_lists_and_fails_without_the_module(
    srcdir: Path, program: str, tmp_path: Path
) -> None:
    idents = cases(srcdir, program)
    assert idents == registered(srcdir / program) and idents
    for ident in idents:
        work = tmp_path / ident
        work.mkdir()
        result = work / "result"
        subprocess.run(
            ["atf-sh", str(srcdir / program), "-s", str(srcdir), "-r", str(result), ident],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        text = result.read_text()
        if os.geteuid() == 0:
            assert text.startswith("failed: security.models.cell is missing"), (ident, text)
        else:
            assert text.startswith("skipped: needs root"), (ident, text)
        cleanup = subprocess.run(
            ["atf-sh", str(srcdir / program), "-s", str(srcdir), f"{ident}:cleanup"],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert cleanup.returncode == 0, cleanup.stderr


FAKE = Path(__file__).resolve().parent / "fake_cellprobe.py"
FAKE_TOOLS = {
    "sysctl": '#!/bin/sh\ncase "$*" in\n*security.models.cell*) exit 0 ;;\n'
    "*kern.securelevel*) echo 1 ;;\n*) exit 1 ;;\nesac\n",
    "modstat": "#!/bin/sh\nexit 0\n",
    "id": '#!/bin/sh\nif [ "$1" = -u ]; then echo 0; else exec /usr/bin/id "$@"; fi\n',
}


@pytest.fixture(scope="module")
def fake_srcdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fakeatf")
    for f in ATF.iterdir():
        shutil.copy2(f, d / f.name)
    shutil.copy2(FAKE, d / "cellprobe")
    (d / "cellprobe").chmod(0o755)
    return d


def run_case(argv: list[str], work: Path, env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        argv,
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        # Targets left running by a failing case belong to this session.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    (work / "stderr").write_bytes(err or b"")


def registered(program: Path) -> list[str]:
    return re.findall(r"^\s*atf_add_test_case (\S+)$", program.read_text(), re.M)


ALL_CASES = [(p.name, ident) for p in PROGRAMS for ident in registered(p)]
# Run by default: the cases with the most plumbing (background targets,
# zombies, parsed counters, relaxed flags); CELLS_ATF_MODEL=all runs all.
DEFAULT_CASES = {
    ("t_isolation.sh", "cross_ktrace"),
    ("t_lifecycle.sh", "destroy_zombie"),
    ("t_policy.sh", "sysvipc"),
    ("t_audit.sh", "counters_and_events"),
    ("t_stress.sh", "fork_exit"),
}


@pytest.mark.parametrize(("program", "ident"), ALL_CASES, ids=[f"{p}:{i}" for p, i in ALL_CASES])
def test_case_passes_against_the_model(
    fake_srcdir: Path, program: str, ident: str, tmp_path: Path
) -> None:
    """The scripts' plumbing, end to end, against fake_cellprobe's model."""
    if (program, ident) not in DEFAULT_CASES and os.environ.get("CELLS_ATF_MODEL") != "all":
        pytest.skip("set CELLS_ATF_MODEL=all to run every case against the model (~60 s)")
    if shutil.which("python3") is None:
        pytest.skip("python3 not on PATH for the fake cellprobe")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in FAKE_TOOLS.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = dict(
        os.environ,
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        FAKE_CELLS_STATE=str(tmp_path / "state.json"),
    )
    work = tmp_path / "work"
    work.mkdir()
    prog = str(fake_srcdir / program)
    run_case(["atf-sh", prog, "-s", str(fake_srcdir), "-r", str(work / "result"), ident], work, env)
    result = (work / "result").read_text()
    assert result.startswith("passed"), (result, (work / "stderr").read_text())
    run_case(["atf-sh", prog, "-s", str(fake_srcdir), f"{ident}:cleanup"], work, env)
    assert "cells left behind" not in (work / "stderr").read_text()
