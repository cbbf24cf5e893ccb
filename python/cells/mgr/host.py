"""The few host effects that need NetBSD, behind one small interface.

`NetbsdHost` runs the real commands (mount_null, mount_tmpfs, umount,
MAKEDEV, modload, `cellctl exec` + pkg_info/pkg_add/sh) through a `Runner`, so tests
assert the exact argv it would run; no command goes through a shell.
Paths inside a cell root reach this module already verified (every
component a real directory: `cells.mgr.mountpoint`), and nothing here
creates or follows a path there by itself.  `SimHost` does the same jobs with plain
directories, copies and symlinks and no mounts, so the whole control plane
runs unprivileged on Linux.  Callers: rootfs, volumes, provision, bootstrap.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from cells.errors import BackendError
from cells.mgr import safefs


class Runner(Protocol):
    """Runs argv (in `cwd` if given), returns (exit status, combined output)."""

    def __call__(self, argv: Sequence[str], cwd: Path | None = None) -> tuple[int, str]: ...


#: Base directories shared read-only with every cell.
RO_DIRS: tuple[str, ...] = ("bin", "sbin", "lib", "libexec", "libdata", "rescue", "usr")


def run_command(argv: Sequence[str], cwd: Path | None = None) -> tuple[int, str]:
    try:
        proc = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, check=False)
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

    def mount_table(self) -> frozenset[str]:
        """Every mount point, as the kernel names it (resolved paths)."""
        ...

    def make_dev(self, dev: Path) -> None:
        """Give the cell its own /dev with the standard nodes."""
        ...

    def mount_dev(self, dev: Path) -> None:
        """The first half of `make_dev`: the cell's own /dev file system."""
        ...

    def populate_dev(self, dev: Path) -> None:
        """The second half: the standard nodes in it (after it was verified)."""
        ...

    def modload(self, module: str) -> None: ...

    def module_loaded(self, module: str) -> bool: ...

    def pkg_installed(self, root: Path, name: str, cell: str | None = None) -> bool: ...

    def pkg_add(self, root: Path, name: str, cell: str | None = None) -> None: ...

    def run_in(self, root: Path, argv: Sequence[str], cell: str | None = None) -> tuple[int, str]:
        """Run a command inside the cell (`cell`, whose root is `root`)."""
        ...


class NetbsdHost:
    """Real NetBSD effects; every effect is one argv through `runner`."""

    name = "netbsd"
    #: The host's MAKEDEV, copied into each cell's fresh /dev.
    makedev = Path("/dev/MAKEDEV")
    #: How to start cellctl (this interpreter, so the same package).
    cellctl: tuple[str, ...] = (sys.executable, "-m", "cells.cli.ctl")

    def __init__(self, runner: Runner = run_command) -> None:
        self.runner = runner
        self._mounts: set[str] | None = None

    def _run(self, argv: Sequence[str], what: str, cwd: Path | None = None) -> str:
        if argv[0] in ("/sbin/mount_null", "/sbin/mount_tmpfs", "/sbin/umount"):
            self._mounts = None  # the mount table changes
        status, out = self.runner(argv) if cwd is None else self.runner(argv, cwd=cwd)
        if status != 0:
            detail = out.splitlines()[-1] if out else f"exit status {status}"
            raise BackendError(f"{what}: {' '.join(argv)}: {detail}")
        return out

    def mount_base(self, src: Path, dst: Path) -> None:
        self._run(["/sbin/mount_null", "-o", "ro", str(src), str(dst)], "mount base")

    def mount_volume(self, src: Path, dst: Path, readonly: bool) -> None:
        argv = ["/sbin/mount_null", *(["-o", "ro"] if readonly else []), str(src), str(dst)]
        self._run(argv, "mount volume")

    def unmount(self, dst: Path) -> None:
        self._run(["/sbin/umount", str(dst)], "unmount")

    def is_mounted(self, dst: Path) -> bool:
        """From one read of the mount table, until this host changes it."""
        return str(dst) in self.mount_table()

    def mount_table(self) -> frozenset[str]:
        if self._mounts is None:
            out = self._run(["/sbin/mount"], "list mounts")
            self._mounts = {
                line.split(" on ", 1)[1].rsplit(" type ", 1)[0]
                for line in out.splitlines()
                if " on " in line
            }
        return frozenset(self._mounts)

    def make_dev(self, dev: Path) -> None:
        """Mount a tmpfs on the verified directory `dev` and run the host's
        MAKEDEV in it (a copy written into the fresh tmpfs, never through a
        name the cell may have made; run with `cwd`, no shell)."""
        self.mount_dev(dev)
        self.populate_dev(dev)

    def mount_dev(self, dev: Path) -> None:
        self._run(["/sbin/mount_tmpfs", "-s", "1m", "-m", "0755", "tmpfs", str(dev)], "mount /dev")

    def populate_dev(self, dev: Path) -> None:
        with open(self.makedev, "rb") as f:
            script = f.read()
        with safefs.Dir.open(dev, "/dev") as d:
            d.write_file("MAKEDEV", script, 0o555)
        self._run(["/bin/sh", "./MAKEDEV", "-M", "std"], "MAKEDEV", cwd=dev)

    def modload(self, module: str) -> None:
        self._run(["/sbin/modload", module], "load module")

    def module_loaded(self, module: str) -> bool:
        status, out = self.runner(["/sbin/modstat", module])
        return status == 0 and module in out

    # Commands for a cell run chrooted *and entered into the kernel cell*
    # (`cellctl exec`: chroot, enter, exec, in a fresh single-threaded
    # process).  Chroot alone would leave host root outside the policy while
    # it runs binaries and reads files (ld.so.conf, libraries, pkg
    # metadata) that the cell controls, and root in a chroot can leave it.
    def _in_cell(self, cell: str | None, argv: Sequence[str]) -> list[str]:
        if not cell:
            raise BackendError(f"{argv[0]}: runs only inside a cell, and no cell was named")
        # A clean environment: nothing of the daemon's crosses into the cell.
        return [*self.cellctl, "--backend", "netbsd", "exec", "--clean-env", cell, "--", *argv]

    def pkg_installed(self, root: Path, name: str, cell: str | None = None) -> bool:
        status, _ = self.runner(self._in_cell(cell, ["/usr/sbin/pkg_info", "-q", "-e", name]))
        return status == 0

    def pkg_add(self, root: Path, name: str, cell: str | None = None) -> None:
        self._run(self._in_cell(cell, ["/usr/sbin/pkg_add", name]), "pkg_add")

    def run_in(self, root: Path, argv: Sequence[str], cell: str | None = None) -> tuple[int, str]:
        return self.runner(self._in_cell(cell, argv))


class SimHost:
    """Linux/sim: copies and symlinks instead of mounts; nothing is enforced."""

    name = "sim"

    def mount_base(self, src: Path, dst: Path) -> None:
        if dst.is_symlink() or dst.exists():
            return
        shutil.copytree(src, dst, symlinks=True)

    def mount_volume(self, src: Path, dst: Path, readonly: bool) -> None:
        """`dst` is a verified directory (cells.mgr.mountpoint); it becomes a
        symlink to the volume."""
        with safefs.Dir.open(dst.parent) as parent:
            if parent.readlink(dst.name) == str(src):
                return
            st = parent.lstat(dst.name)
            if st is not None:
                with parent.sub(dst.name) as d:
                    if os.listdir(d.fd):
                        raise BackendError(
                            f"mount volume: {dst} is a non-empty directory; "
                            "move its files into the volume first"
                        )
                os.rmdir(dst.name, dir_fd=parent.fd)
            parent.symlink(dst.name, str(src))

    def unmount(self, dst: Path) -> None:
        with safefs.Dir.open(dst.parent) as parent:
            if parent.readlink(dst.name) is not None:
                parent.unlink(dst.name)

    def is_mounted(self, dst: Path) -> bool:
        return dst.is_symlink()

    def mount_table(self) -> frozenset[str]:
        return frozenset()

    def make_dev(self, dev: Path) -> None:
        self.populate_dev(dev)

    def mount_dev(self, dev: Path) -> None:
        pass  # the sim's /dev is a plain directory

    def populate_dev(self, dev: Path) -> None:
        """Empty placeholder files in the verified directory `dev`."""
        with safefs.Dir.open(dev, "/dev") as d:
            for node in ("null", "zero", "random", "urandom", "tty"):
                if d.lstat(node) is None:
                    d.write_file(node, b"", 0o666, exclusive=True)

    def modload(self, module: str) -> None:
        raise BackendError(f"load module {module}: needs NetBSD (this is {sys.platform})")

    def module_loaded(self, module: str) -> bool:
        return False

    def pkg_installed(self, root: Path, name: str, cell: str | None = None) -> bool:
        try:
            with safefs.opened(root, ("var", "db", "pkg", name)):
                return True
        except (OSError, safefs.UnsafePath):
            return False

    def pkg_add(self, root: Path, name: str, cell: str | None = None) -> None:
        # The sim registers the package in the cell's package database only.
        with safefs.opened(root) as top, top.walk(("var", "db", "pkg", name), create=True) as db:
            db.write_file("+COMMENT", f"{name} (registered by the sim backend)\n".encode())

    def run_in(self, root: Path, argv: Sequence[str], cell: str | None = None) -> tuple[int, str]:
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
