"""The exception taxonomy of the control plane, and the one errno mapping.

Everything that talks to a backend turns a C error code into an exception
through `error_from_errno()`; the CLIs catch `CellsError` and print its
message as one line.  Callers: cells.ffi, cells.kernel, cellctl, cellmgr.
"""

from __future__ import annotations

import errno as _errno
import os


class CellsError(Exception):
    """Base of every error the control plane reports to a person."""

    errno: int = 0

    def __init__(self, message: str, *, err: int | None = None) -> None:
        super().__init__(message)
        if err is not None:
            self.errno = err


class NotFound(CellsError):
    errno = _errno.ENOENT


class AlreadyExists(CellsError):
    errno = _errno.EEXIST


class Busy(CellsError):
    errno = _errno.EBUSY


class PermissionDenied(CellsError):
    errno = _errno.EPERM


class InvalidArgument(CellsError):
    errno = _errno.EINVAL


class PortInUse(CellsError):
    errno = _errno.EADDRINUSE


class NoSpace(CellsError):
    errno = _errno.ENOSPC


class AbiMismatch(CellsError):
    errno = _errno.EPROTO


class ModuleNotLoaded(CellsError):
    """The netbsd backend was asked for but secmodel_cell is not loaded."""

    errno = _errno.ENOENT


class ArchiveError(InvalidArgument):
    """An archive (backup, release set) that cannot be read or extracted."""


class UnsafeArchive(ArchiveError):
    """An archive member refused by the extraction policy: it would reach
    outside the destination, or make what the policy forbids."""


class BackendError(CellsError):
    """Any other failure of a backend (I/O, unexpected errno)."""


_BY_ERRNO: dict[int, tuple[type[CellsError], str]] = {
    _errno.ENOENT: (NotFound, "no such cell"),
    _errno.ESRCH: (NotFound, "no such cell"),
    _errno.EEXIST: (AlreadyExists, "a cell with that name already exists"),
    _errno.EBUSY: (Busy, "the cell still has processes; stop them first"),
    _errno.EPERM: (PermissionDenied, "operation needs host root (euid 0 outside any cell)"),
    _errno.EACCES: (PermissionDenied, "permission denied"),
    _errno.EINVAL: (InvalidArgument, "invalid argument"),
    _errno.ENAMETOOLONG: (InvalidArgument, "name or path too long"),
    _errno.ENOTDIR: (InvalidArgument, "root is not a directory"),
    _errno.EADDRINUSE: (PortInUse, "a port is reserved by another cell"),
    _errno.ENOSPC: (NoSpace, "no room for another cell (table full or ids exhausted)"),
    _errno.ENOMEM: (NoSpace, "out of memory"),
    _errno.EPROTO: (
        AbiMismatch,
        "ABI mismatch between cells and secmodel_cell; install matching versions",
    ),
}


def error_from_errno(err: int, context: str = "", *, reason: str | None = None) -> CellsError:
    """Map an errno value from a backend to the matching exception.

    `context` names what was being done ("create cell 'web'") and leads the
    message, so the one line says what failed and why.  `reason`, when the
    caller knows better than the errno (ENOENT for a missing root rather
    than a missing cell), replaces the table's wording; the class stays.
    """
    cls, default = _BY_ERRNO.get(err, (BackendError, os.strerror(err)))
    reason = default if reason is None else reason
    message = f"{context}: {reason}" if context else reason
    return cls(message, err=err)
