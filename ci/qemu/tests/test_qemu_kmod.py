"""The module compiled as the guest compiles it: bsd.kmodule.mk at WARNS=5.

The guest runs `make S=/usr/src/sys` in kmod/secmodel_cell, which builds
with WARNS=5 and -Werror through bsd.sys.mk; that adds -Wsign-compare,
-Wformat=2 and more to what `make kmod-check` uses.  This compiles every
kernel source of the module with that gcc warning list, at -O2 as
sys.mk does, once with DIAGNOSTIC (a DIAGNOSTIC or -current kernel) and
once without (a release GENERIC, CELL_DIAGNOSTIC=no), against each NetBSD
sys/ tree given: NETBSD_SYS (e.g. NetBSD-current) and NETBSD10_SYS (a
netbsd-10 tree).  prop/ comes from NETBSD_COMMON, else the common/include
next to the tree, else the one next to NETBSD_SYS.  Skipped without a tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

# share/mk/bsd.sys.mk for gcc at WARNS=5 (each WARNS level adds to the one
# below), in its order, then -Werror (no NOGCCERROR).
WARNS5_GCC: tuple[str, ...] = (
    "-std=gnu99",
    # WARNS > 0
    "-Wall",
    "-Wstrict-prototypes",
    "-Wmissing-prototypes",
    "-Wpointer-arith",
    "-Wno-sign-compare",
    "-Wsystem-headers",
    "-Wno-traditional",
    "-Wa,--fatal-warnings",
    # WARNS > 1
    "-Wreturn-type",
    "-Wswitch",
    "-Wshadow",
    # WARNS > 2
    "-Wcast-qual",
    "-Wwrite-strings",
    "-Wextra",
    "-Wno-unused-parameter",
    "-Wno-sign-compare",
    # WARNS > 3 (and > 4)
    "-Wold-style-definition",
    "-Wsign-compare",
    "-Wformat=2",
    "-Wno-format-zero-length",
    "-Werror",
)
KERNEL_CFLAGS: tuple[str, ...] = (
    "-O2",
    "-nostdinc",
    "-ffreestanding",
    "-D_KERNEL",
    "-D_MODULE",
    "-fno-pie",
    "-mcmodel=kernel",
    "-mno-red-zone",
    "-mno-sse",
    "-mno-mmx",
    "-msoft-float",
    "-fno-strict-aliasing",
    "-fno-common",
)


def trees() -> list[tuple[str, Path]]:
    found = []
    for var in ("NETBSD_SYS", "NETBSD10_SYS"):
        value = os.environ.get(var, "")
        if value:
            found.append((var, Path(value)))
    return found


def common_for(sys_dir: Path) -> Path:
    if os.environ.get("NETBSD_COMMON"):
        return Path(os.environ["NETBSD_COMMON"])
    own = sys_dir.parent / "common" / "include"
    if (own / "prop" / "proplib.h").is_file():
        return own
    main = os.environ.get("NETBSD_SYS", "")
    return Path(main).parent / "common" / "include" if main else own


@pytest.mark.parametrize("diagnostic", [False, True], ids=["release", "diagnostic"])
@pytest.mark.parametrize("which", ["NETBSD_SYS", "NETBSD10_SYS"])
def test_module_builds_with_the_guests_warnings(
    tmp_path: Path, which: str, diagnostic: bool
) -> None:
    given = dict(trees())
    if which not in given:
        pytest.skip(f"set {which}=/path/to/netbsd/sys to compile the module against it")
    if shutil.which("gcc") is None or shutil.which("make") is None:
        pytest.skip("gcc and make needed: apt-get install gcc make")
    sys_dir = given[which]
    if not (sys_dir / "sys" / "kauth.h").is_file():
        pytest.skip(f"{which}={sys_dir} has no sys/kauth.h")
    flags = [*KERNEL_CFLAGS, *(["-DDIAGNOSTIC"] if diagnostic else []), *WARNS5_GCC]
    proc = subprocess.run(
        [
            "make",
            "-s",
            "-f",
            "kmod/secmodel_cell/Makefile.check",
            f"NETBSD_SYS={sys_dir}",
            f"NETBSD_COMMON={common_for(sys_dir)}",
            f"KMOD_CHECK_DIR={tmp_path / 'obj'}",
            f"KCFLAGS={' '.join(flags)}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning:" not in proc.stderr, proc.stderr
    assert len(list((tmp_path / "obj").rglob("*.o"))) >= 9
