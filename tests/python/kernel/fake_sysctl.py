"""A stand-in for sysctlbyname(3) on security.models.cell.*, backed by
the compiled core: it speaks the node protocol of cell_abi.h (raw bytes
in and out, errno on failure) so the netbsd backend's encode and decode
paths run without NetBSD.  Used by test_netbsd.py and the errno table."""

from __future__ import annotations

import errno
import os
import stat
from typing import Any

from cells.errors import CellsError
from cells.ffi._binding import ffi, lib
from cells.ffi.raw import Core
from cells.kernel.netbsd import PREFIX


class FakeSysctl:
    def __init__(self, abi: int = 1, loaded: bool = True) -> None:
        self.core = Core()
        self.abi = abi
        self.loaded = loaded
        self.cell = 0  # the calling process's cell
        self.calls: list[tuple[str, int | None, bytes | None]] = []
        self.now = 1_000_000

    def __call__(self, name: str, oldlen: int | None, new: bytes | None) -> tuple[bytes, int]:
        self.calls.append((name, oldlen, new))
        if not self.loaded or not name.startswith(PREFIX):
            raise OSError(errno.ENOENT, name)
        node = name[len(PREFIX) :]
        try:
            data = self._node(node, new)
        except CellsError as exc:
            raise OSError(exc.errno, name) from None
        if oldlen is None:
            return b"", 0
        if oldlen == 0:
            return b"", len(data)
        if oldlen < len(data):
            raise OSError(errno.ENOMEM, name)
        return data, len(data)

    def _host_only(self) -> None:
        if self.cell != 0:
            raise OSError(errno.EPERM, "host only")

    def _node(self, node: str, new: bytes | None) -> bytes:
        if node == "abi_version":
            return u32(self.abi)
        if node == "create":
            self._host_only()
            assert new is not None
            req = ffi.new("struct cell_create_req *")
            ffi.memmove(req, new, min(len(new), ffi.sizeof(req[0])))
            root = ffi.string(req.cr_root).decode()
            if lib.cell_validate_create(req, len(new)) == 0:
                try:
                    if not stat.S_ISDIR(os.stat(root).st_mode):
                        raise OSError(errno.ENOTDIR, root)
                except FileNotFoundError:
                    raise OSError(errno.ENOENT, root) from None
            cell_id, _ = self.core.create(req, self.now, "create")
            req.cr_id = cell_id
            return bytes(ffi.buffer(req))
        if node == "destroy":
            self._host_only()
            self.core.destroy(read(new, "uint32_t"), "destroy")
            return b""
        if node == "id":
            if new is not None:
                self._host_only()
                self.core.enter(read(new, "uint32_t"), "enter")
                self.cell = read(new, "uint32_t")
                return b""
            return u32(self.cell)
        if node == "list":
            self._host_only()
            buf, n = self.core.list(self.now)
            return bytes(ffi.buffer(buf, n * ffi.sizeof("struct cell_info")))
        if node == "stats":
            self._host_only()
            return bytes(ffi.buffer(self.core.stats(100)))
        if node == "events":
            self._host_only()
            buf, n = self.core.events(read(new, "uint64_t"))
            return bytes(ffi.buffer(buf, n * ffi.sizeof("struct cell_event")))
        raise OSError(errno.ENOENT, node)


def u32(value: int) -> bytes:
    return bytes(ffi.buffer(ffi.new("uint32_t *", value)))


def read(data: Any, ctype: str) -> int:
    assert data is not None and len(data) == ffi.sizeof(ctype)
    return int(ffi.cast(f"{ctype} *", ffi.from_buffer(data))[0])
