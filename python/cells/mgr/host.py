"""The few host effects that need NetBSD, behind one small interface.

`NetbsdHost` runs the real commands (mount_null, mount_tmpfs, umount,
MAKEDEV, modload, chroot + pkg_info/pkg_add/sh) through a `Runner`, so tests
assert the exact argv it would run.  `SimHost` does the same jobs with plain
directories, copies and symlinks and no mounts, so the whole control plane
runs unprivileged on Linux.  Callers: rootfs, volumes, provision, bootstrap.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from cells.errors import BackendError

#: Runs argv, returns (exit status, combined output).
Runner = Callable[[Sequence[str]], tuple[int, str]]

#: Base directories shared read-only with every cell.
RO_DIRS: tuple[str, ...] = ("bin", "sbin", "lib", "libexec", "libdata", "rescue", "usr")


def run_command(argv: Sequence[str]) -> tuple[int, str]:
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    except OSError as e:
        return 127, f"{argv[0]}: {e.strerror}"
    return proc.returncode, (proc.stdout + proc.stderr).strip()


class Host(Protocol):
    name: str

    def mount_base(self, src: Path, dst: Path) -> None:
        """Make `src` (a base dir) appear read-only at `dst`."""
        ...

    def mount_volume(self, src: Path, dst: Path, readonly: bool) -> None: ...

    def unmount(self, dst: Path) -> None: ...

    def is_mounted(self, dst: Path) -> bool: ...

    def make_dev(self, dev: Path) -> None:
        """Give the cell its own /dev with the standard nodes."""
        ...

    def modload(self, module: str) -> None: ...

    def module_loaded(self, module: str) -> bool: ...

    def pkg_installed(self, root: Path, name: str) -> bool: ...

    def pkg_add(self, root: Path, name: str) -> None: ...

    def run_in(self, root: Path, argv: Sequence[str]) -> tuple[int, str]:
        """Run a command inside the cell's root."""
        ...


class NetbsdHost:
    """Real NetBSD effects; every effect is one argv through `runner`."""

    name = "netbsd"

    def __init__(self, runner: Runner = run_command) -> None:
        self.runner = runner
        self._mounts: set[str] | None = None

    def _run(self, argv: Sequence[str], what: str) -> str:
        if argv[0] in ("/sbin/mount_null", "/sbin/mount_tmpfs", "/sbin/umount"):
            self._mounts = None  # the mount table changes
        status, out = self.runner(argv)
        if status != 0:
            detail = out.splitlines()[-1] if out else f"exit status {status}"
            raise BackendError(f"{what}: {' '.join(argv)}: {detail}")
        return out

    def mount_base(self, src: Path, dst: Path) -> None:
        dst.mkdir(parents=True, exist_ok=True)
        self._run(["/sbin/mount_null", "-o", "ro", str(src), str(dst)], "mount base")

    def mount_volume(self, src: Path, dst: Path, readonly: bool) -> None:
        dst.mkdir(parents=True, exist_ok=True)
        argv = ["/sbin/mount_null", *(["-o", "ro"] if readonly else []), str(src), str(dst)]
        self._run(argv, "mount volume")

    def unmount(self, dst: Path) -> None:
        self._run(["/sbin/umount", str(dst)], "unmount")

    def is_mounted(self, dst: Path) -> bool:
        """From one read of the mount table, until this host changes it."""
        if self._mounts is None:
            out = self._run(["/sbin/mount"], "list mounts")
            self._mounts = {
                line.split(" on ", 1)[1].rsplit(" type ", 1)[0]
                for line in out.splitlines()
                if " on " in line
            }
        return str(dst) in self._mounts

    def make_dev(self, dev: Path) -> None:
        dev.mkdir(parents=True, exist_ok=True)
        self._run(["/sbin/mount_tmpfs", "-s", "1m", "-m", "0755", "tmpfs", str(dev)], "mount /dev")
        shutil.copy2("/dev/MAKEDEV", dev / "MAKEDEV")
        self._run(["/bin/sh", "-c", f"cd {dev} && sh ./MAKEDEV -M std"], "MAKEDEV")

    def modload(self, module: str) -> None:
        self._run(["/sbin/modload", module], "load module")

    def module_loaded(self, module: str) -> bool:
        status, out = self.runner(["/sbin/modstat", module])
        return status == 0 and module in out

    def pkg_installed(self, root: Path, name: str) -> bool:
        status, _ = self.runner(
            ["/usr/sbin/chroot", str(root), "/usr/sbin/pkg_info", "-q", "-e", name]
        )
        return status == 0

    def pkg_add(self, root: Path, name: str) -> None:
        self._run(["/usr/sbin/chroot", str(root), "/usr/sbin/pkg_add", name], "pkg_add")

    def run_in(self, root: Path, argv: Sequence[str]) -> tuple[int, str]:
        return self.runner(["/usr/sbin/chroot", str(root), *argv])


class SimHost:
    """Linux/sim: copies and symlinks instead of mounts; nothing is enforced."""

    name = "sim"

    def mount_base(self, src: Path, dst: Path) -> None:
        if dst.is_symlink() or dst.exists():
            return
        shutil.copytree(src, dst, symlinks=True)

    def mount_volume(self, src: Path, dst: Path, readonly: bool) -> None:
        if dst.is_symlink() and Path(os.readlink(dst)) == src:
            return
        if dst.exists() and not dst.is_symlink():
            if any(dst.iterdir()):
                raise BackendError(
                    f"mount volume: {dst} is a non-empty directory; "
                    "move its files into the volume first"
                )
            dst.rmdir()
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.symlink_to(src)

    def unmount(self, dst: Path) -> None:
        if dst.is_symlink():
            dst.unlink()

    def is_mounted(self, dst: Path) -> bool:
        return dst.is_symlink()

    def make_dev(self, dev: Path) -> None:
        dev.mkdir(parents=True, exist_ok=True)
        for node in ("null", "zero", "random", "urandom", "tty"):
            (dev / node).touch(exist_ok=True)

    def modload(self, module: str) -> None:
        raise BackendError(f"load module {module}: needs NetBSD (this is {sys.platform})")

    def module_loaded(self, module: str) -> bool:
        return False

    def pkg_installed(self, root: Path, name: str) -> bool:
        return (root / "var/db/pkg" / name).is_dir()

    def pkg_add(self, root: Path, name: str) -> None:
        # The sim registers the package in the cell's package database only.
        db = root / "var/db/pkg" / name
        db.mkdir(parents=True, exist_ok=True)
        (db / "+COMMENT").write_text(f"{name} (registered by the sim backend)\n")

    def run_in(self, root: Path, argv: Sequence[str]) -> tuple[int, str]:
        env = {**os.environ, "CELL_ROOT": str(root)}
        try:
            proc = subprocess.run(
                list(argv), cwd=root, env=env, capture_output=True, text=True, check=False
            )
        except OSError as e:
            return 127, f"{argv[0]}: {e.strerror}"
        return proc.returncode, (proc.stdout + proc.stderr).strip()


def host_for(backend: str) -> Host:
    return NetbsdHost() if backend == "netbsd" else SimHost()
