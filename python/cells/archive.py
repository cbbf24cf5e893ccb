"""The one way the project extracts a tar archive it did not make itself.

Backups (written where a cell's data flows, easy to hand-edit) and release
sets (downloaded) are untrusted input to code running as host root.
`extract()` reads the archive as a stream and writes every member itself,
relative to directory descriptors opened with O_NOFOLLOW, so that no path,
link or field of the archive can reach outside the destination, whatever
the Python patch level (tarfile's extraction filters are not used).

Refused, with one line naming the member (`UnsafeArchive`):
- absolute member names and `..` components;
- a member whose path runs through a symlink or a non-directory (one from
  this archive or one already in the destination);
- a symlink with a relative target that climbs out of the destination,
  resolved lexically from the link's own directory;
- a hard link to anything but an earlier regular-file member;
- a name that is already there (a second member of the same name, or a
  file the destination already holds), except directory over directory;
- device nodes, fifos and unknown member types;
- setuid/setgid regular files, unless the policy keeps them;
- more members, more bytes or a larger extended header than the policy's
  caps (a decompression bomb fails instead of filling the disk).

Absolute symlink targets are kept as they are.  The trees extracted here
become cell roots, volumes or bases, where an absolute target means a path
inside the cell's root at run time (the cell is chrooted there); NetBSD's
sets and the cells' own files (etc/localtime) hold such links.  Host-side
code must therefore never follow a link inside these trees: this module
never does, and its callers move whole entries with rename(2).

Ownership is restored numerically when running as root (the ids are the
cell's, not names looked up on the host); modes are applied after the
owner (chown clears set-id bits), directories last.  Files and directories
are created 0600/0700 and get their mode only when complete.

The caller gives an empty or caller-owned staging directory and discards
it on failure; nothing outside it is touched.

`write_tree()` is the other direction, for trees a cell can change while
they are read (a volume another cell mounts): it walks with O_NOFOLLOW
descriptors too, so a directory swapped for a link mid-walk is never
followed out of the tree, and writes only what `extract()` accepts.  Callers: cells.mgr.backups
(restore), cells.mgr.rootfs (release sets), ci/qemu (the guest's results).
"""

from __future__ import annotations

import errno
import os
import stat
import tarfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cells.errors import ArchiveError, UnsafeArchive

_CHUNK = 1 << 20
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_EXTENDED = (
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
)


@dataclass(frozen=True)
class Policy:
    """What one kind of archive may hold, and how much of it."""

    #: Keep setuid/setgid bits of regular files (release sets: su, passwd);
    #: otherwise a set-id file is refused.
    keep_setid: bool = False
    max_members: int = 1_000_000
    max_bytes: int = 256 << 30
    #: Largest pax/GNU extended header: tarfile reads one whole into memory.
    max_header: int = 1 << 20
    #: Only regular files and directories (no links of either kind): for
    #: archives that carry results, not file trees (ci/qemu's guest tar).
    plain_only: bool = False


#: Backups: a cell's own files and volumes.
BACKUP = Policy()
#: NetBSD release sets: base.tgz holds setuid programs; devices come from MAKEDEV.
RELEASE_SET = Policy(keep_setid=True)


class _Refused(Exception):
    """A member the policy refuses; the message is the reason only."""


def _parts(name: str) -> tuple[str, ...]:
    if "\0" in name:
        raise _Refused("NUL in the name")
    if name.startswith("/"):
        raise _Refused("absolute path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise _Refused("'..' in the path")
    return parts


def _check_symlink(parts: tuple[str, ...], target: str) -> None:
    if not target or "\0" in target:
        raise _Refused("empty or NUL in the symlink target")
    if target.startswith("/"):
        return  # inside the cell's root at run time; see the module docstring
    depth = len(parts) - 1
    for p in target.split("/"):
        if p in ("", "."):
            continue
        depth = depth - 1 if p == ".." else depth + 1
        if depth < 0:
            raise _Refused(f"symlink target {target!r} leaves the destination")


def _bounded(max_header: int) -> type[tarfile.TarInfo]:
    class Bounded(tarfile.TarInfo):
        # tarfile's documented override point for member processing: refuse
        # an extended header before tarfile reads all of it into memory.
        def _proc_member(self, tar: tarfile.TarFile) -> Any:
            if self.type in _EXTENDED and self.size > max_header:
                raise UnsafeArchive(
                    f"member {self.name!r}: extended header of {self.size} bytes "
                    f"(the cap is {max_header})"
                )
            return super()._proc_member(tar)  # type: ignore[misc]

    return Bounded


class _Writer:
    """Writes members under one root descriptor, never following a link."""

    def __init__(self, root_fd: int, policy: Policy) -> None:
        self.root_fd, self.policy = root_fd, policy
        self.kinds: dict[tuple[str, ...], str] = {(): "dir"}
        self.dirs: dict[tuple[str, ...], tarfile.TarInfo] = {}
        self.members = 0
        self.names: list[str] = []
        self.bytes = 0
        self.as_root = os.geteuid() == 0

    def _open_dir(self, parts: tuple[str, ...], *, create: bool) -> int:
        """A descriptor of the directory `parts`, each component opened with
        O_NOFOLLOW; missing ones are made (0700) when `create`."""
        fd = os.dup(self.root_fd)
        try:
            for i, p in enumerate(parts):
                prefix = "/".join(parts[: i + 1])
                kind = self.kinds.get(parts[: i + 1], "dir")
                if kind != "dir":
                    raise _Refused(f"path runs through the {kind} member {prefix!r}")
                try:
                    nfd = os.open(p, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    os.mkdir(p, 0o700, dir_fd=fd)
                    self.kinds[parts[: i + 1]] = "dir"
                    nfd = os.open(p, _DIR_FLAGS, dir_fd=fd)
                except OSError as e:
                    try:
                        link = stat.S_ISLNK(os.lstat(p, dir_fd=fd).st_mode)
                    except OSError:
                        raise e from None
                    what = "symlink" if link else "non-directory"
                    raise _Refused(f"path runs through the {what} {prefix!r}") from None
                os.close(fd)
                fd = nfd
            return fd
        except BaseException:
            os.close(fd)
            raise

    def _own(self, info: tarfile.TarInfo, fd: int) -> None:
        if self.as_root:
            os.fchown(fd, info.uid, info.gid)

    def add(self, tar: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        self.members += 1
        if self.members > self.policy.max_members:
            raise _Refused(f"more than {self.policy.max_members} members (the cap)")
        self.names.append(info.name)
        parts = _parts(info.name)
        if info.ischr() or info.isblk():
            raise _Refused("device node")
        if info.isfifo():
            raise _Refused("fifo")
        if not (info.isreg() or info.isdir() or info.issym() or info.islnk()):
            raise _Refused(f"unsupported member type {info.type!r}")
        if self.policy.plain_only and not (info.isreg() or info.isdir()):
            raise _Refused("a link, where only files and directories are allowed")
        if not parts:
            if not info.isdir():
                raise _Refused("the archive's root is not a directory")
            self.dirs[()] = info
            return
        seen = self.kinds.get(parts)
        if seen is not None and not (seen == "dir" and info.isdir()):
            raise _Refused(f"appears again (earlier as a {seen})")
        parent = self._open_dir(parts[:-1], create=True)
        leaf = parts[-1]
        try:
            if info.isdir():
                self._dir(parent, parts, info)
            elif info.isreg():
                self._file(tar, parent, parts, info)
            elif info.issym():
                _check_symlink(parts, info.linkname)
                self._new(lambda: os.symlink(info.linkname, leaf, dir_fd=parent))
                self.kinds[parts] = "symlink"
                if self.as_root:
                    os.chown(leaf, info.uid, info.gid, dir_fd=parent, follow_symlinks=False)
            else:
                self._hardlink(parent, parts, info)
        finally:
            os.close(parent)

    @staticmethod
    def _new(make: Any) -> None:
        try:
            make()
        except FileExistsError:
            raise _Refused("already exists in the destination") from None

    def _dir(self, parent: int, parts: tuple[str, ...], info: tarfile.TarInfo) -> None:
        leaf = parts[-1]
        try:
            os.mkdir(leaf, 0o700, dir_fd=parent)
        except FileExistsError:
            os.close(self._open_dir(parts, create=False))  # a real directory, not a link
        self.kinds[parts] = "dir"
        self.dirs[parts] = info

    def _file(
        self, tar: tarfile.TarFile, parent: int, parts: tuple[str, ...], info: tarfile.TarInfo
    ) -> None:
        if info.mode & (stat.S_ISUID | stat.S_ISGID) and not self.policy.keep_setid:
            raise _Refused("setuid/setgid file")
        if self.bytes + info.size > self.policy.max_bytes:
            raise _Refused(f"expands beyond {self.policy.max_bytes} bytes (the cap)")
        fd = -1

        def create() -> None:
            nonlocal fd
            fd = os.open(parts[-1], _FILE_FLAGS, 0o600, dir_fd=parent)

        self._new(create)
        self.kinds[parts] = "file"
        try:
            src = tar.extractfile(info)
            if src is not None:
                self._copy(src, fd)
            self._own(info, fd)
            os.fchmod(fd, info.mode & 0o7777)
            os.utime(fd, (info.mtime, info.mtime))
        finally:
            os.close(fd)

    def _copy(self, src: IO[bytes], fd: int) -> None:
        while chunk := src.read(_CHUNK):
            self.bytes += len(chunk)
            if self.bytes > self.policy.max_bytes:
                raise _Refused(f"expands beyond {self.policy.max_bytes} bytes (the cap)")
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]

    def _hardlink(self, parent: int, parts: tuple[str, ...], info: tarfile.TarInfo) -> None:
        try:
            target = _parts(info.linkname)
        except _Refused as e:
            raise _Refused(f"hard link target {info.linkname!r}: {e}") from None
        if self.kinds.get(target) != "file":
            raise _Refused(
                f"hard link to {info.linkname!r}, which is not an earlier file of the archive"
            )
        tparent = self._open_dir(target[:-1], create=False)
        try:
            self._new(
                lambda: os.link(
                    target[-1],
                    parts[-1],
                    src_dir_fd=tparent,
                    dst_dir_fd=parent,
                    follow_symlinks=False,
                )
            )
        finally:
            os.close(tparent)
        self.kinds[parts] = "hardlink"

    def finish(self) -> None:
        """Directory owners, modes and times, deepest first (a read-only
        directory must not block its own members)."""
        for parts in sorted(self.dirs, key=len, reverse=True):
            info = self.dirs[parts]
            fd = self._open_dir(parts, create=False)
            try:
                self._own(info, fd)
                os.fchmod(fd, info.mode & 0o1777)  # set-id bits on directories: never
                os.utime(fd, (info.mtime, info.mtime))
            finally:
                os.close(fd)


def _tree_info(arc: str, st: os.stat_result, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(arc)
    info.type = kind
    info.mode = stat.S_IMODE(st.st_mode) & ~(stat.S_ISUID | stat.S_ISGID)
    info.uid, info.gid, info.mtime = st.st_uid, st.st_gid, int(st.st_mtime)
    return info


class _TreeWriter:
    def __init__(self, tar: tarfile.TarFile, skip: Collection[str]) -> None:
        self.tar, self.skip = tar, skip
        self.files: dict[tuple[int, int], str] = {}

    def skipped(self, rel: str) -> bool:
        return rel in self.skip or any(rel.startswith(s + "/") for s in self.skip)

    def add_dir(self, fd: int, arc: str, rel: str) -> None:
        self.tar.addfile(_tree_info(arc, os.fstat(fd), tarfile.DIRTYPE))
        with os.scandir(fd) as it:
            names = sorted(e.name for e in it)
        for name in names:
            if not self.skipped(rel + name):
                self.add(fd, name, f"{arc}/{name}", rel + name)

    def add(self, parent: int, name: str, arc: str, rel: str) -> None:
        try:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                info = _tree_info(arc, st, tarfile.SYMTYPE)
                info.linkname = os.readlink(name, dir_fd=parent)
                self.tar.addfile(info)
                return
            if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
                return  # devices, fifos, sockets: never archived
            flags = _DIR_FLAGS if stat.S_ISDIR(st.st_mode) else _READ_FLAGS
            fd = os.open(name, flags, dir_fd=parent)
        except FileNotFoundError:
            return  # gone meanwhile
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR, getattr(errno, "EFTYPE", errno.ELOOP)):
                return  # became a link meanwhile: never followed
            raise
        try:
            if stat.S_ISDIR(st.st_mode):
                self.add_dir(fd, arc, rel + "/")
                return
            fst = os.fstat(fd)
            if not stat.S_ISREG(fst.st_mode):
                return
            key = (fst.st_dev, fst.st_ino)
            if fst.st_nlink > 1 and key in self.files:
                info = _tree_info(arc, fst, tarfile.LNKTYPE)
                info.linkname = self.files[key]
                self.tar.addfile(info)
                return
            info = _tree_info(arc, fst, tarfile.REGTYPE)
            info.size = fst.st_size
            with os.fdopen(os.dup(fd), "rb") as f:
                self.tar.addfile(info, f)
            if fst.st_nlink > 1:
                self.files[key] = arc
        finally:
            os.close(fd)


def write_tree(src: Path, out: IO[bytes], skip: Collection[str] = ()) -> None:
    """A gzip'd tar of the tree `src` (members `.` and `./rel/...`) on `out`,
    leaving out the relative paths in `skip` (and what is below them),
    devices, fifos and sockets, with setuid/setgid bits cleared; links are
    recorded, never followed."""
    root = os.open(src, _DIR_FLAGS)
    try:
        with tarfile.open(fileobj=out, mode="w:gz") as tar:
            _TreeWriter(tar, skip).add_dir(root, ".", "")
    finally:
        os.close(root)


def extract(archive: Path, into: Path, policy: Policy) -> list[str]:
    """Extract `archive` (tar, optionally gzip/bzip2/xz) into the directory
    `into`; returns the member names in archive order.  Raises UnsafeArchive for a
    refused member or cap, ArchiveError for an unreadable archive; what was
    written so far stays under `into` for the caller to discard."""
    root_fd = os.open(into, _DIR_FLAGS)
    writer = _Writer(root_fd, policy)
    info: tarfile.TarInfo | None = None
    try:
        with tarfile.open(archive, "r|*", tarinfo=_bounded(policy.max_header)) as tar:
            for info in tar:
                writer.add(tar, info)
        info = None
        writer.finish()
    except _Refused as e:
        where = f"member {info.name!r}" if info is not None else "directories"
        raise UnsafeArchive(f"{archive.name}: {where}: {e}") from None
    except UnsafeArchive as e:
        raise UnsafeArchive(f"{archive.name}: {e}") from None
    except (tarfile.TarError, EOFError, ValueError, OverflowError, RecursionError) as e:
        raise ArchiveError(f"{archive.name}: not a readable tar archive: {e}") from None
    except OSError as e:
        if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise ArchiveError(f"{archive.name}: no space left while extracting") from None
        detail = e.strerror or str(e)
        where = f" (member {info.name!r})" if info is not None else ""
        raise ArchiveError(f"{archive.name}: cannot extract{where}: {detail}") from None
    finally:
        os.close(root_fd)
    return writer.names
