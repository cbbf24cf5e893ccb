"""Thin layer over the core's C API: one method per C function.

`Core` owns one `struct cell_core` (freed with the object).  Arguments and
results are cdata or ints; a non-zero errno becomes an exception through
`cells.errors.error_from_errno` with the caller's `what` as context.
Callers: the backends in cells.kernel (sim, netbsd explain) and cells.kernel.codec.
"""

from __future__ import annotations

from typing import Any

from cells.errors import error_from_errno
from cells.ffi._binding import ffi, lib


def check(err: int, what: str, reason: str | None = None) -> None:
    """Raise the mapped exception for a non-zero errno."""
    if err != 0:
        raise error_from_errno(err, what, reason=reason)


class Core:
    """One instance of the portable core, in this process."""

    def __init__(self) -> None:
        out = ffi.new("struct cell_core **")
        check(lib.cell_core_create(out), "start the core")
        self._c: Any = ffi.gc(out[0], lib.cell_core_destroy)

    def count(self) -> int:
        return int(lib.cell_core_count(self._c))

    def create(self, req: Any, now: int, what: str) -> tuple[int, int]:
        """Create from a `struct cell_create_req *`; returns (id, handle)."""
        idp = ffi.new("uint32_t *")
        hp = ffi.new("uint32_t *")
        check(lib.cell_create(self._c, req, ffi.sizeof(req[0]), now, ffi.NULL, idp, hp), what)
        return int(idp[0]), int(hp[0])

    def restore(self, req: Any, cell_id: int, created: int, what: str) -> int:
        hp = ffi.new("uint32_t *")
        check(lib.cell_restore(self._c, req, ffi.sizeof(req[0]), cell_id, created, hp), what)
        return int(hp[0])

    def set_next_id(self, next_id: int) -> None:
        lib.cell_core_set_next_id(self._c, next_id)

    def destroy(self, cell_id: int, what: str) -> None:
        check(lib.cell_destroy(self._c, cell_id, ffi.NULL), what)

    def enter(self, cell_id: int, what: str) -> int:
        hp = ffi.new("uint32_t *")
        check(lib.cell_enter(self._c, cell_id, hp, ffi.NULL), what)
        return int(hp[0])

    def ref(self, handle: int) -> None:
        lib.cell_ref(self._c, handle)

    def unref(self, handle: int) -> None:
        lib.cell_unref(self._c, handle)

    def lookup_id(self, cell_id: int, what: str) -> int:
        hp = ffi.new("uint32_t *")
        check(lib.cell_lookup_id(self._c, cell_id, hp), what)
        return int(hp[0])

    def lookup_name(self, name: str, what: str) -> int:
        hp = ffi.new("uint32_t *")
        check(lib.cell_lookup_name(self._c, name.encode(), hp), what)
        return int(hp[0])

    def handle_id(self, handle: int) -> int:
        return int(lib.cell_handle_id(self._c, handle))

    def port_owner(self, port: int) -> int:
        return int(lib.cell_port_owner(self._c, port))

    def decide(self, subject: Any, op: int, obj: Any) -> tuple[int, int]:
        """(verdict, reason) from the pure decision function."""
        rp = ffi.new("uint32_t *")
        verdict = lib.cell_decide(self._c, subject, op, obj, rp)
        return int(verdict), int(rp[0])

    def check(self, subject: Any, op: int, obj: Any, now: int) -> int:
        """Decide as a listener does: a DENY is counted and audited."""
        return int(lib.cell_check(self._c, subject, op, obj, 0, 0, now))

    def list(self, now: int) -> tuple[Any, int]:
        """Every cell's `struct cell_info`: (owning array, count)."""
        count = ffi.new("size_t *", 0)
        while True:
            size = int(count[0])
            buf = ffi.new("struct cell_info[]", max(size, 1))
            err = lib.cell_list(self._c, buf, count, now)
            if err == 0:
                return buf, int(count[0])
            if int(count[0]) <= size:
                check(err, "list cells")

    def info(self, cell_id: int, now: int, what: str) -> Any:
        info = ffi.new("struct cell_info *")
        check(lib.cell_info_get(self._c, cell_id, info, now), what)
        return info

    def stats(self, hz: int) -> Any:
        st = ffi.new("struct cell_stats *")
        lib.cell_stats_get(self._c, st, hz)
        return st

    def events(self, since: int) -> tuple[Any, int]:
        """Audit events with seq >= since: (owning array, count)."""
        buf = ffi.new("struct cell_event[]", lib.CELL_AUDIT_RING)
        n = lib.cell_events(self._c, since, buf, lib.CELL_AUDIT_RING)
        return buf, int(n)


def validate_create(req: Any, what: str) -> None:
    """The core's payload validation alone; no state touched."""
    check(lib.cell_validate_create(req, ffi.sizeof(req[0])), what)
