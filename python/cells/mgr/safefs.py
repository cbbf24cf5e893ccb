"""File operations inside a directory a cell controls, never following its links.

Everything under a cell's root or a volume is written by root inside the
cell, so a path there is untrusted: any component may be a symlink planted
to send a host-side write, chmod or read somewhere else.  `Dir` is an open
directory reached from a trusted base without following a symlink: each
component is opened with ``O_NOFOLLOW | O_DIRECTORY`` relative to the
previous one (``dir_fd=``), ``..`` is refused, and the final component is
acted on through the parent's descriptor with no-follow semantics (or
through its own descriptor: ``fchmod``, ``fchown``).  Only ``O_NOFOLLOW``,
``O_DIRECTORY`` and the ``*at`` calls are used, which NetBSD and Linux both
have; ``O_PATH`` (Linux only) is not.

Regular files are opened only after ``lstat`` says they are regular, with
``O_NONBLOCK`` (a fifo swapped in cannot block the host), and the opened
file must be the inode that was checked.  Writes replace the file
atomically (a temporary in the same directory, then ``rename``), so a hard
link to the old inode is never written through.

Errors are `UnsafePath` (a symlink, ``..``, the wrong type) or `OSError`
from the system; both name the path as the cell sees it.  Callers:
provision, rootfs, volumes, mountpoint, the sim host.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from cells.errors import CellsError

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
#: errno values for "the final component is a symlink" under O_NOFOLLOW
#: (ELOOP on Linux, EFTYPE on NetBSD).
_LINK_ERRNOS = {errno.ELOOP, getattr(errno, "EFTYPE", errno.ELOOP)}


class UnsafePath(CellsError):
    """A path inside a cell leads through a symlink, `..` or the wrong file type."""


def parts_of(path: str) -> tuple[str, ...]:
    """The components of a cell path (absolute or relative); refuses `..`."""
    parts = tuple(p for p in path.split("/") if p not in ("", "."))
    if ".." in parts:
        raise UnsafePath(f"{path}: '..' is not allowed in a cell path")
    return parts


def _shown(label: str, *names: str) -> str:
    return "/".join([label.rstrip("/"), *names]) if names else label


class Dir:
    """An open directory reached without following a symlink.

    `label` is how errors name it (the cell path, e.g. ``/etc``); `path` is
    the host path it was reached by (what is handed to mount and the like).
    """

    def __init__(self, fd: int, path: Path, label: str) -> None:
        self.fd, self.path, self.label = fd, path, label

    @classmethod
    def open(cls, path: Path, label: str | None = None) -> Dir:
        """Open a trusted base directory (the path leading to it is the host's
        own; the directory itself must not be a symlink)."""
        name = label if label is not None else str(path)
        try:
            fd = os.open(path, DIR_FLAGS)
        except OSError as e:
            raise _explain(e, name, os.lstat, path) from None
        return cls(fd, path, name)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Dir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def identity(self) -> tuple[int, int]:
        st = os.fstat(self.fd)
        return st.st_dev, st.st_ino

    # -- walking -----------------------------------------------------------
    def sub(self, name: str, *, create: bool = False, mode: int = 0o755) -> Dir:
        """The directory `name` in this one; created (``mode``) if asked."""
        _check_name(name, self.label)
        shown = _shown(self.label, name)
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=self.fd)
        except FileNotFoundError:
            if not create:
                raise
            # Made meanwhile is fine: the open below checks what it is.
            with suppress(FileExistsError):
                os.mkdir(name, mode, dir_fd=self.fd)
            try:
                fd = os.open(name, DIR_FLAGS, dir_fd=self.fd)
            except OSError as e:
                raise self._explain(e, name) from None
        except OSError as e:
            raise self._explain(e, name) from None
        return Dir(fd, self.path / name, shown)

    def walk(self, parts: Iterable[str], *, create: bool = False, mode: int = 0o755) -> Dir:
        """The directory at `parts` below this one (a new `Dir`; this one stays open)."""
        cur = Dir(os.dup(self.fd), self.path, self.label)
        try:
            for name in parts:
                nxt = cur.sub(name, create=create, mode=mode)
                cur.close()
                cur = nxt
        except BaseException:
            cur.close()
            raise
        return cur

    # -- the final component -----------------------------------------------
    def lstat(self, name: str) -> os.stat_result | None:
        _check_name(name, self.label)
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def readlink(self, name: str) -> str | None:
        """The target of the symlink `name`, or None if it is not one."""
        st = self.lstat(name)
        if st is None or not stat.S_ISLNK(st.st_mode):
            return None
        return os.readlink(name, dir_fd=self.fd)

    def open_file(self, name: str, flags: int = os.O_RDONLY) -> int:
        """A descriptor on the existing regular file `name` (never a link,
        fifo or device)."""
        st = self.lstat(name)
        shown = _shown(self.label, name)
        if st is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), shown)
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePath(f"{shown}: is a symlink; refusing to follow it")
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath(f"{shown}: {_kind(st.st_mode)}, not a regular file")
        try:
            fd = os.open(name, flags | FILE_FLAGS, dir_fd=self.fd)
        except OSError as e:
            raise self._explain(e, name) from None
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(now.st_mode):
            os.close(fd)
            raise UnsafePath(f"{shown}: changed while it was opened")
        return fd

    def read_bytes(self, name: str, limit: int = 16 << 20) -> bytes | None:
        """The content of the regular file `name`, or None if there is none."""
        try:
            fd = self.open_file(name)
        except FileNotFoundError:
            return None
        with os.fdopen(fd, "rb") as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise UnsafePath(f"{_shown(self.label, name)}: larger than {limit} bytes")
        return data

    def write_file(
        self,
        name: str,
        data: bytes,
        mode: int = 0o644,
        owner: tuple[int, int] | None = None,
        *,
        exclusive: bool = False,
    ) -> None:
        """Make `name` a regular file holding `data`: written to a temporary in
        this directory with its mode and owner set, then renamed over `name`
        (which replaces a symlink there, never follows it).  `exclusive`:
        only if nothing is at `name` (FileExistsError otherwise)."""
        _check_name(name, self.label)
        tmp = self._temp(name, data, mode, owner)
        try:
            if exclusive:
                os.link(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd, follow_symlinks=False)
                os.unlink(tmp, dir_fd=self.fd)
            else:
                st = self.lstat(name)
                if st is not None and stat.S_ISDIR(st.st_mode):
                    raise UnsafePath(f"{_shown(self.label, name)}: a directory is in the way")
                os.replace(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            _unlink_quiet(tmp, self.fd)
            raise

    def _temp(self, name: str, data: bytes, mode: int, owner: tuple[int, int] | None) -> str:
        tmp = f".{name[:64]}.cells-{secrets.token_hex(6)}"
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
            dir_fd=self.fd,
        )  # fmt: skip
        try:
            with os.fdopen(fd, "wb", closefd=False) as f:
                f.write(data)
            if owner is not None:
                os.fchown(fd, *owner)
            os.fchmod(fd, mode)
        except BaseException:
            os.close(fd)
            _unlink_quiet(tmp, self.fd)
            raise
        os.close(fd)
        return tmp

    def mkdir(self, name: str, mode: int = 0o755) -> Dir:
        """The directory `name`, created if missing (an open `Dir`)."""
        return self.sub(name, create=True, mode=mode)

    def symlink(self, name: str, target: str) -> None:
        """Make `name` a symlink to `target`, replacing a link or file there
        (atomically: a new link renamed over it); a directory is refused."""
        _check_name(name, self.label)
        st = self.lstat(name)
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise UnsafePath(f"{_shown(self.label, name)}: a directory is in the way")
        tmp = f".{name[:64]}.cells-{secrets.token_hex(6)}"
        os.symlink(target, tmp, dir_fd=self.fd)
        try:
            os.replace(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            _unlink_quiet(tmp, self.fd)
            raise

    def unlink(self, name: str) -> None:
        """Remove the file or symlink `name` (a symlink itself, not its target)."""
        _check_name(name, self.label)
        os.unlink(name, dir_fd=self.fd)

    def remove_tree(self, name: str) -> None:
        """Remove `name` and everything below it without following a symlink
        (a symlink named `name` is removed itself); missing is fine."""
        _check_name(name, self.label)
        st = self.lstat(name)
        if st is None:
            return
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(name, dir_fd=self.fd)
        elif shutil.rmtree.avoids_symlink_attacks:
            shutil.rmtree(name, dir_fd=self.fd)
        else:
            with self.sub(name) as d:
                for entry in os.listdir(d.fd):
                    d.remove_tree(entry)
            os.rmdir(name, dir_fd=self.fd)

    def chmod(self, name: str, mode: int) -> None:
        """Set the mode of the directory or regular file `name` through its own
        descriptor (never through a link)."""
        with self._held(name) as fd:
            os.fchmod(fd, mode)

    def chown(self, name: str, uid: int, gid: int) -> None:
        _check_name(name, self.label)
        os.chown(name, uid, gid, dir_fd=self.fd, follow_symlinks=False)

    @contextmanager
    def _held(self, name: str) -> Iterator[int]:
        st = self.lstat(name)
        if st is not None and stat.S_ISDIR(st.st_mode):
            with self.sub(name) as d:
                yield d.fd
            return
        fd = self.open_file(name)
        try:
            yield fd
        finally:
            os.close(fd)

    def _explain(self, e: OSError, name: str) -> OSError | UnsafePath:
        return _explain(
            e,
            _shown(self.label, name),
            lambda _: os.stat(name, dir_fd=self.fd, follow_symlinks=False),
            name,
        )


def _check_name(name: str, label: str) -> None:
    if name in ("", ".", "..") or "/" in name:
        raise UnsafePath(f"{_shown(label, name)}: not a plain file name")


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symlink"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISFIFO(mode):
        return "a fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device node"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _explain(e: OSError, shown: str, lstat: object, arg: object) -> OSError | UnsafePath:
    """Turn ELOOP/EFTYPE/ENOTDIR from a no-follow open into one clear line."""
    if e.errno not in (*_LINK_ERRNOS, errno.ENOTDIR):
        e.filename = shown
        return e
    try:
        st = lstat(arg)  # type: ignore[operator]
    except OSError:
        return UnsafePath(f"{shown}: {e.strerror}")
    if stat.S_ISLNK(st.st_mode):
        return UnsafePath(f"{shown}: is a symlink; refusing to follow it")
    return UnsafePath(f"{shown}: {_kind(st.st_mode)}, not a directory")


def _unlink_quiet(name: str, dir_fd: int) -> None:
    with suppress(OSError):
        os.unlink(name, dir_fd=dir_fd)


@contextmanager
def opened(base: Path, parts: Iterable[str] = (), *, label: str = "/") -> Iterator[Dir]:
    """The directory at `parts` under the trusted `base`, reached without
    following a symlink; closed on exit."""
    with Dir.open(base, label) as top, top.walk(parts) as d:
        yield d


@contextmanager
def parent_of(
    base: Path, path: str, *, create: bool = False, mode: int = 0o755, label: str = "/"
) -> Iterator[tuple[Dir, str]]:
    """The directory holding the cell path `path` under `base`, and its
    final name; missing parents are created (``mode``) when asked."""
    parts = parts_of(path)
    if not parts:
        raise UnsafePath(f"{path or '/'}: names the root itself")
    with Dir.open(base, label) as top, top.walk(parts[:-1], create=create, mode=mode) as d:
        yield d, parts[-1]
