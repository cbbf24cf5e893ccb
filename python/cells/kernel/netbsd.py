"""The netbsd backend: sysctlbyname(3) on security.models.cell.*.

Nodes and payloads are exactly those of the comment at the top of
cell_abi.h: `create` (write a struct cell_create_req, read it back with
cr_id), `destroy` (write a uint32_t id), `id` (read: caller's cell; write:
enter), `list`, `stats`, `events` (write the first seq wanted, read
events).  The ABI version is checked at first use.  `explain` and `policy`
run the same core table locally on a copy of the live cells.

The sysctl function is injectable (`Sysctl`), so the encode/decode paths
are tested anywhere with a fake.  Caller: open_kernel().
"""

from __future__ import annotations

import builtins
import errno
from collections.abc import Callable
from typing import Any

from cells.errors import (
    AbiMismatch,
    CellsError,
    InvalidArgument,
    ModuleNotLoaded,
    NotFound,
    error_from_errno,
)
from cells.ffi._binding import ABI_VERSION, ffi, lib
from cells.ffi.raw import Core
from cells.kernel import codec, policy
from cells.kernel.api import (
    CellInfo,
    CellRef,
    CellSpec,
    Decision,
    Event,
    PolicyRow,
    Stats,
    ref_id,
)

PREFIX = "security.models.cell."

#: sysctl(name, oldlen, new) -> (old bytes, length the kernel reported).
#: oldlen None: no old buffer (write only); 0: ask the size; N: read up to N.
#: Failures raise OSError with the errno.
Sysctl = Callable[[str, "int | None", "bytes | None"], "tuple[bytes, int]"]


def libc_sysctl(name: str, oldlen: int | None, new: bytes | None) -> tuple[bytes, int]:
    """sysctlbyname(3) through the binding's shim."""
    lenp = ffi.NULL if oldlen is None else ffi.new("size_t *", oldlen)
    oldp = ffi.new("char[]", oldlen) if oldlen else ffi.NULL
    newp = ffi.NULL if new is None else ffi.from_buffer(new)
    rc = lib.cells_sysctlbyname(name.encode(), oldp, lenp, newp, 0 if new is None else len(new))
    if rc != 0:
        raise OSError(ffi.errno, name)
    if oldlen is None:
        return b"", 0
    got = int(lenp[0])
    return (bytes(ffi.buffer(oldp, min(got, oldlen))) if oldlen else b""), got


def module_loaded(sysctl: Sysctl = libc_sysctl) -> bool:
    try:
        sysctl(PREFIX + "abi_version", 4, None)
    except OSError:
        return False
    return True


def _u32(value: int) -> bytes:
    return bytes(ffi.buffer(ffi.new("uint32_t *", value)))


def _u64(value: int) -> bytes:
    return bytes(ffi.buffer(ffi.new("uint64_t *", value)))


def _read_u32(data: bytes, what: str) -> int:
    if len(data) < 4:
        raise error_from_errno(errno.EPROTO, what, reason=f"kernel returned {len(data)} bytes")
    return int(ffi.cast("uint32_t *", ffi.from_buffer(data))[0])


class NetbsdKernel:
    """The `Kernel` protocol over the real secmodel_cell."""

    backend = "netbsd"
    enforcing = True

    def __init__(self, sysctl: Sysctl = libc_sysctl) -> None:
        self._sysctl = sysctl
        self._abi_checked = False

    # -- plumbing -------------------------------------------------------------

    def _call(
        self, node: str, oldlen: int | None, new: bytes | None, what: str, enoent: str | None = None
    ) -> tuple[bytes, int]:
        self._check_abi()
        try:
            return self._sysctl(PREFIX + node, oldlen, new)
        except OSError as exc:
            err = exc.errno or errno.EIO
            raise error_from_errno(
                err, what, reason=enoent if err == errno.ENOENT else None
            ) from None

    def _check_abi(self) -> None:
        if self._abi_checked:
            return
        try:
            data, _ = self._sysctl(PREFIX + "abi_version", 4, None)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise ModuleNotLoaded(
                    "secmodel_cell is not loaded (no sysctl security.models.cell.abi_version); "
                    "load it with: modload secmodel_cell (--backend sim isolates nothing)"
                ) from None
            if exc.errno == errno.ENOSYS:
                raise ModuleNotLoaded(
                    "the netbsd backend needs NetBSD (no sysctlbyname here); use --backend sim"
                ) from None
            raise error_from_errno(exc.errno or errno.EIO, "read the ABI version") from None
        kernel_abi = _read_u32(data, "read the ABI version")
        if kernel_abi != ABI_VERSION:
            newer = "this cells package" if kernel_abi > ABI_VERSION else "secmodel_cell"
            raise AbiMismatch(
                f"secmodel_cell speaks ABI {kernel_abi}, this cells package ABI {ABI_VERSION}; "
                f"upgrade {newer} so both match"
            )
        self._abi_checked = True

    def _infos(self, what: str) -> tuple[Any, int]:
        size = ffi.sizeof("struct cell_info")
        while True:
            _, need = self._call("list", 0, None, what)
            want = need + 8 * size  # room for cells created meanwhile
            try:
                data, got = self._call("list", want, None, what)
            except CellsError as exc:
                if exc.errno == errno.ENOMEM:
                    continue
                raise
            count = min(got, len(data)) // size
            buf = ffi.new("struct cell_info[]", max(count, 1))
            ffi.memmove(buf, data, count * size)
            return buf, count

    def _resolve(self, ref: CellRef, what: str) -> tuple[int, Any, int, Any]:
        """(id, info) of a cell by name or id, plus the listing it came from."""
        buf, count = self._infos(what)
        by_id = ref_id(ref)
        for i in range(count):
            info = buf[i]
            if by_id is not None and int(info.ci_id) == by_id:
                return int(info.ci_id), info, count, buf
            if by_id is None and ffi.string(info.ci_name).decode(errors="replace") == ref:
                return int(info.ci_id), info, count, buf
        if by_id is not None:
            raise NotFound(f"{what}: no cell with id {by_id}", err=errno.ENOENT)
        raise NotFound(f"{what}: no cell named '{ref}'", err=errno.ENOENT)

    # -- the Kernel protocol ----------------------------------------------

    def create(self, spec: CellSpec) -> CellInfo:
        what = f"create cell '{spec.name}'"
        req = codec.encode_create(spec)
        try:
            data, _ = self._call(
                "create",
                ffi.sizeof(req[0]),
                codec.request_bytes(req),
                what,
                enoent=f"root {spec.root} does not exist",
            )
        except InvalidArgument as exc:
            raise codec.reword_invalid(exc, spec, what) from None
        back = codec.request_from_bytes(data)
        return self.get(int(back.cr_id))

    def destroy(self, cell: CellRef) -> None:
        what = f"destroy cell '{cell}'"
        cell_id = self._resolve(cell, what)[0]
        self._call("destroy", None, _u32(cell_id), what)

    def list(self) -> list[CellInfo]:
        buf, count = self._infos("list cells")
        return [codec.decode_info(buf[i]) for i in range(count)]

    def get(self, cell: CellRef) -> CellInfo:
        return codec.decode_info(self._resolve(cell, f"read cell '{cell}'")[1])

    def enter(self, cell: CellRef) -> None:
        what = f"enter cell '{cell}'"
        cell_id = self._resolve(cell, what)[0]
        self._call("id", None, _u32(cell_id), what)

    def current(self) -> int:
        data, _ = self._call("id", 4, None, "read the current cell")
        return _read_u32(data, "read the current cell")

    def stats(self) -> Stats:
        size = ffi.sizeof("struct cell_stats")
        data, _ = self._call("stats", size, None, "read stats")
        if len(data) != size:
            raise error_from_errno(
                errno.EPROTO, "read stats", reason=f"kernel returned {len(data)} bytes, not {size}"
            )
        st = ffi.new("struct cell_stats *")
        ffi.memmove(st, data, size)
        return codec.decode_stats(st, backend=self.backend, enforcing=True)

    def events(self, since: int = 0) -> builtins.list[Event]:
        size = ffi.sizeof("struct cell_event")
        data, _ = self._call("events", lib.CELL_AUDIT_RING * size, _u64(since), "read events")
        return [
            codec.event_from_bytes(data[i : i + size]) for i in range(0, len(data) - size + 1, size)
        ]

    def explain(
        self, cell: CellRef, op: str, target: str | None = None, *, euid: int = 0
    ) -> Decision:
        """The core table's answer, computed locally on a copy of the cells."""
        what = f"explain {op} for cell '{cell}'"
        buf, count = self._infos(what)
        core = Core()
        handles: dict[int, int] = {}
        names: dict[str, int] = {}
        for i in range(count):
            info = buf[i]
            req = codec.request_from_info(info)
            cell_id = int(info.ci_id)
            handles[cell_id] = core.restore(req, cell_id, int(info.ci_created), what)
            names[ffi.string(info.ci_name).decode(errors="replace")] = cell_id

        def resolve(ref: CellRef) -> int:
            by_id = ref_id(ref)
            key = by_id if by_id is not None else names.get(str(ref), 0)
            if key not in handles:
                raise NotFound(f"{what}: no cell '{ref}'", err=errno.ENOENT)
            return handles[key]

        if cell in (0, "0", policy.HOST):
            subject_id, handle = 0, 0
        else:
            handle = resolve(cell)
            subject_id = core.handle_id(handle)
        return policy.decide(
            core,
            subject_id=subject_id,
            subject_handle=handle,
            op_name=op,
            target=target,
            resolve=resolve,
            euid=euid,
        )

    def policy(self) -> builtins.list[PolicyRow]:
        return policy.policy_rows()
