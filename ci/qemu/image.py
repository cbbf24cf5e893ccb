"""Disk images: the project tree going in, the test results coming back.

The project tree travels as an ISO 9660 image with Rock Ridge (modes, long
names and symlinks kept; made with genisoimage, mkisofs or xorriso -- anita
itself needs genisoimage or mkisofs on Linux, see anita_iso_tool()) attached as a CD, or, when no
ISO tool is installed, as a tar archive written to a raw disk (pure Python)
that the guest unpacks with `tar xf /dev/rwd1d`.  Results come back the way
anita brings its own: the guest writes a tar archive straight onto a zeroed
scratch disk and the host reads it with cells.archive, the project's one
extraction routine, so a hostile guest cannot write outside the results
directory (and no tarfile extraction filter, absent before Python 3.11.4,
is needed).
Called by ci.qemu.run; tested in ci/qemu/tests/test_image.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from ci.qemu.errors import HarnessError

# Preferred in this order: genisoimage/mkisofs are what anita needs anyway.
ISO_TOOLS: tuple[str, ...] = ("genisoimage", "mkisofs", "xorriso")
# anita 2.x on Linux runs /usr/bin/genisoimage if that file exists, else
# "mkisofs" from PATH; on NetBSD /usr/sbin/makefs, on FreeBSD mkisofs.
ANITA_GENISOIMAGE = "/usr/bin/genisoimage"
RESULTS_MAX_BYTES = 256 << 20  # more than the scratch disk holds
ISO_LABEL = "CELLS"
# Never shipped into the guest: VCS data, the venv, caches, our work dir.
EXCLUDE_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        "build",
        "dist",
        "node_modules",
    }
)
EXCLUDE_PREFIXES: tuple[str, ...] = ("ci/qemu/work/",)
TAR_PAD = 1 << 20  # the tar disk is padded to a whole MiB


def project_files(root: Path) -> list[str]:
    """Relative paths of the tree to ship, sorted.

    In a git checkout: tracked plus untracked-but-not-ignored files (work in
    progress is tested too); otherwise a walk that skips EXCLUDE_DIRS.
    """
    if (root / ".git").exists() and shutil.which("git"):
        proc = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            check=False,
        )
        if proc.returncode == 0:
            names = [n for n in proc.stdout.decode().split("\0") if n]
            return sorted(n for n in names if _wanted(n) and (root / n).exists())
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDE_DIRS)
        rel = Path(dirpath).relative_to(root)
        found.extend(str(rel / f) if str(rel) != "." else f for f in filenames)
    return sorted(n for n in found if _wanted(n))


def _wanted(rel: str) -> bool:
    parts = rel.split("/")
    if any(p in EXCLUDE_DIRS for p in parts[:-1]):
        return False
    return not any(rel.startswith(p) for p in EXCLUDE_PREFIXES)


def find_iso_tool(which: Iterable[str] = ISO_TOOLS) -> str | None:
    """The first ISO 9660 maker on PATH, or None."""
    for tool in which:
        if shutil.which(tool):
            return tool
    return None


def anita_iso_tool(
    sysname: str | None = None,
    genisoimage: str = ANITA_GENISOIMAGE,
    which: Callable[[str], str | None] = shutil.which,
) -> str:
    """The ISO maker anita will run for its install image; HarnessError if none.

    anita builds the installer's ISO from the downloaded sets (make_iso) with
    a fixed tool, whatever find_iso_tool() picks for the project image:
    xorriso does not count, and Debian's xorriso package has no mkisofs.
    Checked before an install, not after the installer failed to boot.
    """
    sysname = sysname or os.uname().sysname
    if sysname == "NetBSD":
        if which("/usr/sbin/makefs") is None:
            raise HarnessError("ci/qemu: anita needs /usr/sbin/makefs to build its install ISO")
        return "/usr/sbin/makefs"
    if sysname == "Darwin":
        return "hdiutil"
    if sysname != "FreeBSD" and os.path.isfile(genisoimage):
        return genisoimage
    mkisofs = which("mkisofs")
    if mkisofs is None:
        raise HarnessError(
            f"ci/qemu: anita builds its install ISO with {genisoimage} or mkisofs,"
            " and neither is installed (xorriso is not enough);"
            " apt-get install genisoimage"
        )
    return mkisofs


def iso_argv(tool: str, out: Path, source: Path, label: str = ISO_LABEL) -> list[str]:
    """Command line that makes a Rock Ridge ISO of source (its contents at /).

    tool is a name from ISO_TOOLS or a path to one.
    """
    common = ["-quiet", "-R", "-V", label, "-o", str(out), str(source)]
    name = os.path.basename(tool)
    if name == "xorriso":
        return [tool, "-as", "mkisofs", *common]
    if name in ("genisoimage", "mkisofs"):
        return [tool, *common]
    raise ValueError(f"unknown ISO tool {tool!r}")


def stage_tree(
    root: Path, files: Sequence[str], dest: Path, extras: Mapping[str, Path] | None = None
) -> Path:
    """Copy the files (and extras: name in image -> host file) into dest, fresh."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name, src in (extras or {}).items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / name)
    for rel in files:
        src = root / rel
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            target.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, target)
    return dest


def build_iso(
    root: Path,
    files: Sequence[str],
    out: Path,
    tool: str,
    timeout: float,
    extras: Mapping[str, Path] | None = None,
) -> Path:
    """Stage the tree next to out and make the ISO; raises HarnessError on failure."""
    stage = stage_tree(root, files, out.parent / (out.stem + ".stage"), extras)
    argv = iso_argv(tool, out, stage)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise HarnessError(f"ci/qemu: {tool} took over {timeout:g} s making {out}") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        name = os.path.basename(tool)
        raise HarnessError(f"ci/qemu: {name} failed making {out}: {last}")
    return out


def build_tar_disk(
    root: Path, files: Sequence[str], out: Path, extras: Mapping[str, Path] | None = None
) -> Path:
    """Write the tree as a tar archive padded to whole MiB (a raw disk image).

    Plain ustar: the guest's tar need not know pax extended headers.
    """
    try:
        _write_tar(root, files, out, extras)
    except ValueError as exc:  # a name ustar cannot hold (over 255 bytes)
        raise HarnessError(
            f"ci/qemu: cannot put the tree in a tar disk: {exc}; use --image iso"
        ) from None
    size = out.stat().st_size
    padded = max(TAR_PAD, -(-size // TAR_PAD) * TAR_PAD + TAR_PAD)
    with open(out, "r+b") as fh:
        fh.truncate(padded)
    return out


def _write_tar(
    root: Path, files: Sequence[str], out: Path, extras: Mapping[str, Path] | None
) -> None:
    with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, src in (extras or {}).items():
            tar.add(str(src), arcname=name, filter=_root_owned)
        for rel in files:
            info = tar.gettarinfo(str(root / rel), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if info.isreg():
                with open(root / rel, "rb") as fh:
                    tar.addfile(info, fh)
            else:
                tar.addfile(info)


def _root_owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def make_scratch(path: Path, megabytes: int) -> Path:
    """A zero-filled (sparse) disk image for the guest's results tar."""
    if path.exists():
        path.unlink()
    with open(path, "wb") as fh:
        fh.truncate(megabytes << 20)
    return path


def read_results(image: Path, dest: Path, max_bytes: int = RESULTS_MAX_BYTES) -> list[str]:
    """Extract the tar the guest wrote on the scratch disk; returns member names.

    An image that still holds only zeros means the guest never saved its
    results: that is an error, not an empty result.  The archive is
    untrusted: cells.archive writes only its plain files and directories,
    never through a link, under dest, with a cap on the total size.
    """
    with open(image, "rb") as fh:
        head = fh.read(512)
    if not head.strip(b"\0"):
        raise HarnessError(
            f"ci/qemu: no results on the scratch disk {image}: the guest did not"
            " reach the save step; see console.log next to it"
        )
    from cells.archive import Policy, extract
    from cells.errors import ArchiveError

    dest.mkdir(parents=True, exist_ok=True)
    # Into a fresh directory first: a refused archive leaves nothing in dest.
    staging = Path(tempfile.mkdtemp(prefix=".results-", dir=dest))
    try:
        names = extract(image, staging, Policy(max_bytes=max_bytes, plain_only=True))
        for entry in sorted(os.listdir(staging)):
            old = dest / entry
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            elif old.exists() or old.is_symlink():
                old.unlink()
            os.rename(staging / entry, old)
        return names
    except (ArchiveError, OSError) as exc:
        raise HarnessError(f"ci/qemu: cannot read the results tar on {image}: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
