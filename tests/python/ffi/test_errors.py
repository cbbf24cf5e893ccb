"""Every errno a backend can return maps to the right exception class,
through the one mapping in cells.errors."""

from __future__ import annotations

import errno

import pytest
from cells import errors
from cells.errors import error_from_errno

EXPECTED = [
    (errno.ENOENT, errors.NotFound),
    (errno.ESRCH, errors.NotFound),
    (errno.EEXIST, errors.AlreadyExists),
    (errno.EBUSY, errors.Busy),
    (errno.EPERM, errors.PermissionDenied),
    (errno.EACCES, errors.PermissionDenied),
    (errno.EINVAL, errors.InvalidArgument),
    (errno.ENAMETOOLONG, errors.InvalidArgument),
    (errno.ENOTDIR, errors.InvalidArgument),
    (errno.EADDRINUSE, errors.PortInUse),
    (errno.ENOSPC, errors.NoSpace),
    (errno.ENOMEM, errors.NoSpace),
    (errno.EPROTO, errors.AbiMismatch),
    (errno.EIO, errors.BackendError),
    (errno.ENOSYS, errors.BackendError),
]


@pytest.mark.parametrize(("err", "cls"), EXPECTED, ids=[errno.errorcode[e] for e, _ in EXPECTED])
def test_errno_maps_to_class(err: int, cls: type[errors.CellsError]) -> None:
    exc = error_from_errno(err, "create cell 'web'")
    assert type(exc) is cls
    assert exc.errno == err
    assert str(exc).startswith("create cell 'web': ")
    assert "\n" not in str(exc)


def test_reason_replaces_the_wording_but_not_the_class() -> None:
    exc = error_from_errno(errno.ENOENT, "create cell 'web'", reason="root /x does not exist")
    assert type(exc) is errors.NotFound
    assert str(exc) == "create cell 'web': root /x does not exist"


def test_core_errors_reach_the_mapping() -> None:
    from cells.ffi.raw import Core

    core = Core()
    with pytest.raises(errors.NotFound) as info:
        core.destroy(42, "destroy cell 42")
    assert info.value.errno == errno.ENOENT
    assert str(info.value) == "destroy cell 42: no such cell"
