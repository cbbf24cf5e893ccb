"""Files and directories only their owner may read: modes set, not inherited.

The state database holds manifests (with `env:` secrets), the log store
holds service output, run records name the processes the daemon may kill.
So the control plane's directories are 0700 and its files 0600 whatever
the umask: directories are created with an explicit mode and fchmod'ed,
files are created with O_NOFOLLOW and fchmod'ed, and what already exists
is tightened when opened.  A directory that is shared (sticky, like /tmp)
or owned by another user is refused, never chmod'ed: it is not ours to
change.  Callers: the state database, the apply lock, the sim backend, the
supervisor's run records and log store, the IPC server.
"""

from __future__ import annotations

import contextlib
import os
import stat

from cells.errors import CellsError

DIR_MODE = 0o700
FILE_MODE = 0o600
#: Directories created on the way to a private one (like mkdir -p, umask aside).
PARENT_MODE = 0o755


class UnsafeDirectory(CellsError):
    """A directory the control plane would keep secrets in is not its own."""


def _mkdirs(path: str, mode: int) -> None:
    """mkdir -p with `mode` for the last directory and PARENT_MODE for the
    ones created on the way, whatever the umask."""
    parent = os.path.dirname(os.path.abspath(path))
    if parent != path and not os.path.isdir(parent):
        _mkdirs(parent, PARENT_MODE)
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        return
    os.chmod(path, mode)


def ensure_dir(path: str | os.PathLike[str]) -> None:
    """Create `path` with mode 0700 when missing; an existing directory is
    left as it is (it may be one the operator chose and shares)."""
    name = os.fspath(path)
    if not os.path.isdir(name):
        _mkdirs(name, DIR_MODE)


def _fd_dir(path: str) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def private_dir(path: str | os.PathLike[str]) -> None:
    """Make `path` a directory with mode 0700 owned by this user.

    Created when missing; an existing one is tightened.  Raises
    UnsafeDirectory for a shared (sticky) directory or one owned by someone
    else, OSError when it cannot be made.
    """
    name = os.fspath(path)
    if not os.path.isdir(name):
        _mkdirs(name, DIR_MODE)
    fd = _fd_dir(name)
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid():
            raise UnsafeDirectory(
                f"{name} is owned by uid {st.st_uid}, not by this user (uid {os.geteuid()}); "
                "give a directory of your own"
            )
        if st.st_mode & stat.S_ISVTX:
            raise UnsafeDirectory(
                f"{name} is a shared directory (sticky bit set); give a directory of its own"
            )
        if stat.S_IMODE(st.st_mode) != DIR_MODE:
            os.fchmod(fd, DIR_MODE)
    finally:
        os.close(fd)


def socket_dir(path: str | os.PathLike[str]) -> None:
    """The directory of a socket only root and its owner may use.

    Created 0700 when missing.  An existing one is left as it is (it may be
    a directory that other programs use too, such as /var/run) unless
    someone other than root and this user could replace the socket in it:
    then UnsafeDirectory.  A sticky directory (/tmp) is accepted: nobody
    else can remove or rename the socket there, and clients check who
    answers on it.
    """
    name = os.fspath(path)
    if not os.path.isdir(name):
        _mkdirs(name, DIR_MODE)
        return
    st = os.stat(name)
    if st.st_uid not in (0, os.geteuid()):
        raise UnsafeDirectory(
            f"socket directory {name} is owned by uid {st.st_uid}; "
            "use a directory of root or of this user"
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not st.st_mode & stat.S_ISVTX:
        raise UnsafeDirectory(
            f"socket directory {name} is writable by other users, who could replace the "
            f"socket; chmod go-w {name} or give another --socket"
        )


def open_file(path: str | os.PathLike[str], flags: int = os.O_RDWR) -> int:
    """Open (creating it when missing) a 0600 file; never through a symlink."""
    fd = os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def touch(path: str | os.PathLike[str]) -> None:
    """Create `path` as an empty 0600 file, or tighten it to 0600."""
    os.close(open_file(path, os.O_RDONLY))


def tighten(path: str | os.PathLike[str]) -> None:
    """Tighten an existing regular file to 0600 (never following a symlink)."""
    with contextlib.suppress(FileNotFoundError):
        st = os.lstat(path)
        if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) != FILE_MODE:
            os.chmod(path, FILE_MODE)


def write_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace `path` with a 0600 file holding `data` (written to a temporary
    name beside it, then renamed)."""
    name = os.fspath(path)
    tmp = f"{name}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    fd = os.open(
        tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE
    )
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    os.replace(tmp, name)


def sqlite_files(db: str | os.PathLike[str]) -> tuple[str, ...]:
    """A SQLite database and the files beside it that hold its data."""
    name = os.fspath(db)
    return (name, f"{name}-wal", f"{name}-shm", f"{name}-journal")
