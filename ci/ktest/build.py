"""Compile the module and the test program against a NetBSD sys/ tree.

The module is compiled by kmod/secmodel_cell/Makefile.check (the same
rules as `make kmod-check`) with the code-generation flags a NetBSD amd64
kernel is built with, and linked with the tree's module linker script; or,
when a NetBSD make is given (`nbmake-amd64` from build.sh, or make(1) on
NetBSD), by the module's own bsd.kmodule.mk Makefile.  The test program is
freestanding: NetBSD's own headers from the tree, no libc (kt_raw.c).
Called by ci.ktest.__main__.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ci.ktest.errors import KtestError

TOP = Path(__file__).resolve().parents[2]
KMOD_DIR = TOP / "kmod" / "secmodel_cell"
TEST_DIR = TOP / "tests" / "kernel"
TEST_SRCS = ("cellktest.c", "kt_common.c", "kt_raw.c")

# gcc as a NetBSD amd64 kernel compiler: what sys/arch/amd64/conf and
# sys/conf/Makefile.kern.inc pass, and what a Linux gcc needs to stop
# being a Linux compiler (predefines, the stack protector's %fs canary).
KERNEL_CFLAGS = (
    "-O2 -fno-omit-frame-pointer -mno-avx -Damd64 -Dx86_64 "
    "-fno-stack-protector -mstack-protector-guard=global "
    "-D__NetBSD__ -U__linux__ -U__linux -Ulinux -U__gnu_linux__"
)
USER_CFLAGS = [
    "-std=gnu99",
    "-O2",
    "-ffreestanding",
    "-fno-builtin",
    "-nostdinc",
    "-nostdlib",
    "-static",
    "-fno-pie",
    "-no-pie",
    "-fno-stack-protector",
    "-Wl,--build-id=none",
    "-Wall",
    "-Wextra",
    "-Wno-unused-parameter",
    "-Werror",
    "-D__NetBSD__",
    "-U__linux__",
    "-U__linux",
    "-Ulinux",
    "-U__gnu_linux__",
    "-Damd64",
    "-Dx86_64",
    "-D_NETBSD_SOURCE",
]
# libc headers the tree's userland headers include; the tree's own
# declarations are all the freestanding program uses.
_SHIMS = {
    "stdint.h": "#include <sys/stdint.h>\n",
    "limits.h": "#include <sys/syslimits.h>\n",
    "pthread_types.h": "/* no threads */\n",
    "time.h": "/* the tree's sys/time.h suffices */\n",
    "signal.h": "/* the tree's sys/signal.h suffices */\n",
}


@dataclass(frozen=True)
class Tree:
    """A NetBSD source tree: sys/ and the common/include beside it."""

    sys: Path
    common: Path

    @classmethod
    def find(cls, sys_dir: str, common: str | None = None) -> Tree:
        sysp = Path(sys_dir).resolve()
        if not (sysp / "sys" / "kauth.h").is_file():
            raise KtestError(f"{sysp}: not a NetBSD sys/ tree (no sys/kauth.h)")
        if not (sysp / "modules" / "xldscripts" / "kmodule").is_file():
            raise KtestError(f"{sysp}: no modules/xldscripts/kmodule (module linker script)")
        comp = Path(common).resolve() if common else sysp.parent / "common" / "include"
        if not (comp / "prop" / "proplib.h").is_file():
            raise KtestError(
                f"{comp}: no prop/proplib.h; pass --common /path/to/src/common/include"
            )
        return cls(sysp, comp)


def _run(
    argv: list[str], what: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> None:
    proc = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-20:])
        raise KtestError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def build_kmod(tree: Tree, out: Path, cflags: str = KERNEL_CFLAGS) -> Path:
    """secmodel_cell.kmod compiled with the kernel's flags and linked."""
    objdir = out / "kmod"
    _run(
        [
            "make",
            "-s",
            "-f",
            str(KMOD_DIR / "Makefile.check"),
            "kmod",
            f"NETBSD_SYS={tree.sys}",
            f"NETBSD_COMMON={tree.common}",
            f"KMOD_CHECK_DIR={objdir}",
            f"KMOD_CFLAGS={cflags}",
        ],
        "building secmodel_cell.kmod",
        cwd=TOP,
    )
    return objdir / "secmodel_cell.kmod"


def build_kmod_nbmake(tree: Tree, out: Path, make: str) -> Path:
    """secmodel_cell.kmod built by its own bsd.kmodule.mk Makefile.

    The sources are copied out first: a NetBSD make without an object
    directory builds in place, and the work tree stays clean.
    """
    src = out / "kmod-nbmake"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(KMOD_DIR, src, ignore=shutil.ignore_patterns("*.o", "*.kmod", "*.map"))
    _run([make, f"S={tree.sys}", "CELL_DIAGNOSTIC=yes"], f"{make} in {src}", src)
    found = sorted(src.rglob("secmodel_cell.kmod"))
    if not found:
        raise KtestError(f"{make} built no secmodel_cell.kmod under {src}")
    return found[0]


def _include_dir(tree: Tree, out: Path) -> Path:
    inc = out / "include"
    if inc.exists():
        shutil.rmtree(inc)
    inc.mkdir(parents=True)
    for name, target in (
        ("machine", tree.sys / "arch" / "amd64" / "include"),
        ("amd64", tree.sys / "arch" / "amd64" / "include"),
        ("x86", tree.sys / "arch" / "x86" / "include"),
        ("prop", tree.common / "prop"),
    ):
        (inc / name).symlink_to(target)
    for name, text in _SHIMS.items():
        (inc / name).write_text(text)
    return inc


def gcc_include() -> str:
    """gcc's own freestanding headers (stddef.h, stdarg.h)."""
    return subprocess.run(
        ["gcc", "-print-file-name=include"], capture_output=True, text=True, check=True
    ).stdout.strip()


def build_init(tree: Tree, out: Path) -> Path:
    """tests/kernel/cellktest as a static, freestanding NetBSD program."""
    inc = _include_dir(tree, out)
    exe = out / "cellktest"
    argv = [
        "gcc",
        *USER_CFLAGS,
        f"-I{inc}",
        f"-I{tree.sys}",
        f"-I{KMOD_DIR / 'core'}",
        "-idirafter",
        gcc_include(),
        "-o",
        str(exe),
        *(str(TEST_DIR / src) for src in TEST_SRCS),
    ]
    _run(argv, "building cellktest")
    return exe
