"""The root image and the boot ISO of one boot.

The root file system is FFSv1 made by makefs(8) from a staging directory
and an mtree spec: /sbin/init is the test program, /secmodel_cell.kmod
the module (for modctl(2) and for reloading after an unload), /ktest.conf
says what to do, /r0 ... /r15 are cell roots, each with a raw disk node
for the device rows.  The kernel mounts it read-only and nothing writes
to it.  The ISO is GRUB's (grub-mkrescue), which loads a NetBSD kernel
with `knetbsd` and, in the preload mode, the module with
`knetbsd_module_elf`.  Called by ci.ktest.__main__ and ci.ktest.bench.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ci.ktest.errors import KtestError

NROOTS = 16
# amd64 majors (sys/arch/amd64/conf/majors.amd64): cons 0, mem 2, wd 3.
_DEVICES = (
    ("dev/console", "char", "0600", "0,0"),
    ("dev/null", "char", "0666", "2,2"),
)
_RAW_DISK = ("char", "0600", "3,3")  # rwd0d


def spec_text() -> str:
    """The mtree spec of the image (directories, files, device nodes)."""
    lines = ["/set type=dir uid=0 gid=0 mode=0755", "."]
    lines += ["sbin", "    init type=file mode=0555", ".."]
    lines += ["    secmodel_cell.kmod type=file mode=0444"]
    lines += ["    ktest.conf type=file mode=0444"]
    lines += ["dev"]
    for path, kind, mode, dev in _DEVICES:
        lines.append(f"    {path.split('/')[1]} type={kind} mode={mode} device=netbsd,{dev}")
    lines.append("..")
    kind, mode, dev = _RAW_DISK
    for i in range(NROOTS):
        lines += [f"r{i}", f"    rwd0d type={kind} mode={mode} device=netbsd,{dev}", ".."]
    return "\n".join(lines) + "\n"


def conf_text(load: str, mode: str, cells: int = 0) -> str:
    return f"load={load}\nmode={mode}\nkmod=/secmodel_cell.kmod\ncells={cells}\n"


def make_root(work: Path, init: Path, kmod: Path, conf: str) -> Path:
    """A root image with init, the module and the configuration."""
    stage = work / "stage"
    if stage.exists():
        shutil.rmtree(stage)
    (stage / "sbin").mkdir(parents=True)
    (stage / "dev").mkdir()
    for i in range(NROOTS):
        (stage / f"r{i}").mkdir()
    shutil.copy2(init, stage / "sbin" / "init")
    shutil.copy2(kmod, stage / "secmodel_cell.kmod")
    (stage / "ktest.conf").write_text(conf)
    spec = work / "root.spec"
    spec.write_text(spec_text())
    img = work / "root.img"
    img.unlink(missing_ok=True)
    proc = subprocess.run(
        [
            "makefs",
            "-t",
            "ffs",
            "-o",
            "version=1",
            "-s",
            "16m",
            "-F",
            str(spec),
            str(img),
            str(stage),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise KtestError(f"makefs: {proc.stderr.strip() or proc.stdout.strip()}")
    return img


def grub_cfg(preload: bool) -> str:
    mod = "  knetbsd_module_elf /secmodel_cell.kmod\n" if preload else ""
    return f"set timeout=0\nmenuentry ktest {{\n  knetbsd /netbsd\n{mod}}}\n"


def make_iso(work: Path, kernel: Path, kmod: Path, preload: bool) -> Path:
    """A GRUB rescue ISO that boots kernel (and preloads kmod)."""
    tree = work / "iso"
    if tree.exists():
        shutil.rmtree(tree)
    (tree / "boot" / "grub").mkdir(parents=True)
    shutil.copy2(kernel, tree / "netbsd")
    shutil.copy2(kmod, tree / "secmodel_cell.kmod")
    (tree / "boot" / "grub" / "grub.cfg").write_text(grub_cfg(preload))
    iso = work / ("boot-preload.iso" if preload else "boot.iso")
    proc = subprocess.run(
        ["grub-mkrescue", "-o", str(iso), str(tree)], capture_output=True, text=True
    )
    if proc.returncode != 0 or not iso.is_file():
        raise KtestError(f"grub-mkrescue: {proc.stderr.strip()[-400:]}")
    return iso
