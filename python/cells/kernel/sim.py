"""The sim backend: the portable core in-process, state in SQLite.

Every operation opens `<state dir>/sim.db`, takes the write lock (BEGIN
IMMEDIATE, so concurrent processes are safe), rebuilds a core from the
stored cells (cell_core_set_next_id + cell_restore), performs the
operation through the core -- so validation, ids and errno values are the
core's -- and writes the result back.  Members are recorded pids; a cell
with a live member (zombies count) cannot be destroyed.

Membership is kept in plain files, not in the database: `enter` runs in
a forked child between fork and exec (the supervisor's child setup), and a
parent with threads may hold one of SQLite's process-wide mutexes at the
fork, which would deadlock the child.  `members/<pid>` says which cell a
process entered; `cells/<id>` marks a cell that may be entered.  Enter
writes its ticket, then checks the marker; destroy removes the marker,
then checks the tickets.  Whichever interleaving happens, no process ends
up in a destroyed cell (at worst one side fails with ENOENT or EBUSY).

The sim enforces nothing on the host: no chroot, no kauth.  It exists so
the control plane runs and is tested anywhere.  Caller: open_kernel().
"""

from __future__ import annotations

import builtins
import errno
import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import TYPE_CHECKING

from cells import private
from cells.errors import (
    BackendError,
    InvalidArgument,
    NotFound,
    PortInUse,
    error_from_errno,
)
from cells.failures import state_error
from cells.ffi._binding import lib
from cells.ffi.raw import Core, validate_create
from cells.kernel import codec, members
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

if TYPE_CHECKING:
    from pathlib import Path

DB_NAME = "sim.db"
HZ = 100

#: PRAGMA user_version of a database that has the schema below.
_SCHEMA_VERSION = 1
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cells (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL, request BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS denies (
    cell INTEGER NOT NULL, scope INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (cell, scope));
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, record BLOB NOT NULL);
PRAGMA user_version = {_SCHEMA_VERSION};
"""
#: Rows of `denies` with these cell values hold the totals of stats.
_ALL, _HOST = -1, 0


class _Session:
    """One locked transaction over the database and the core it rebuilt."""

    __slots__ = (
        "caller_cell",
        "cells_changed",
        "core",
        "core_dirty",
        "db",
        "generation",
        "handles",
        "members",
        "refs",
    )

    def __init__(
        self, db: sqlite3.Connection, core: Core, handles: dict[int, int], generation: int
    ) -> None:
        self.db = db
        self.core = core
        self.handles = handles
        self.generation = generation
        self.members: dict[int, list[int]] = {}
        self.refs: list[int] = []  # handles referenced in this session
        self.caller_cell = 0
        self.cells_changed = False  # bump the generation on commit
        self.core_dirty = False  # the core holds state not kept in the database

    def meta(self, key: str, default: int = 0) -> int:
        return _meta(self.db, key, default)

    def set_meta(self, key: str, value: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


class SimKernel:
    """The `Kernel` protocol over the in-process core."""

    backend = "sim"
    enforcing = False

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        # Plain strings inside (pathlib costs milliseconds of start-up);
        # the Path attributes below are for callers.
        self._dir = os.fspath(state_dir)
        self._db_path = os.path.join(self._dir, DB_NAME)
        self._cells_dir = os.path.join(self._dir, "cells")
        self._members_dir = os.path.join(self._dir, "members")
        self._secured = False
        # The core of the last session, reused while the database's cell
        # generation is unchanged (rebuilding costs O(cells) per operation).
        self._cache: _Session | None = None

    @property
    def state_dir(self) -> Path:
        from pathlib import Path

        return Path(self._dir)

    @property
    def db_path(self) -> Path:
        from pathlib import Path

        return Path(self._db_path)

    @property
    def cells_dir(self) -> Path:
        """Marker files: `cells/<id>` holds the name of a cell that may be entered."""
        from pathlib import Path

        return Path(self._cells_dir)

    @property
    def members_dir(self) -> Path:
        """Tickets: `members/<pid>` holds the cell id and start stamp of a member."""
        from pathlib import Path

        return Path(self._members_dir)

    # -- sessions ---------------------------------------------------------

    def _secure(self) -> None:
        """The state dir, its subdirectories and the database are private
        (0700, 0600), whatever the umask; checked once per instance."""
        private.private_dir(self._dir)
        for path in (self._cells_dir, self._members_dir):
            private.private_dir(path)
        for path in private.sqlite_files(self._db_path)[1:]:
            private.tighten(path)
        private.touch(self._db_path)
        self._secured = True

    def _connect(self) -> sqlite3.Connection:
        try:
            if not self._secured:
                self._secure()
            db = sqlite3.connect(self._db_path, timeout=60, isolation_level=None)
            try:
                db.execute("PRAGMA synchronous=NORMAL")
                # WAL mode and the tables persist in the file: set them up
                # once, not on every open (concurrent first opens are safe,
                # the statements are idempotent).
                (version,) = db.execute("PRAGMA user_version").fetchone()
                if version < _SCHEMA_VERSION:
                    db.execute("PRAGMA journal_mode=WAL")
                    db.executescript(_SCHEMA)
                db.execute("BEGIN IMMEDIATE")
            except BaseException:
                db.close()
                raise
        except (OSError, sqlite3.Error) as exc:
            raise BackendError(
                str(state_error(self._db_path, exc, "cannot open the sim state"))
            ) from None
        return db

    @contextmanager
    def _session(self) -> Iterator[_Session]:
        db = self._connect()
        cache, self._cache = self._cache, None
        try:
            s = self._load(db, cache)
            yield s
            if s.cells_changed:
                s.generation += 1
                s.set_meta("generation", s.generation)
            db.execute("COMMIT")
            if not s.core_dirty:
                self._cache = s
        except BaseException:
            # A failed statement may have ended the transaction already
            # (a full disk): the first error is the one to report.
            with suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def _load(self, db: sqlite3.Connection, cache: _Session | None) -> _Session:
        generation = _meta(db, "generation")
        if cache is not None and cache.generation == generation:
            for handle in cache.refs:
                cache.core.unref(handle)
            s = _Session(db, cache.core, cache.handles, generation)
        else:
            s = _Session(db, Core(), {}, generation)
            next_id = s.meta("next_id", 1)
            s.core.set_next_id(next_id)
            for cell_id, created, request in db.execute(
                "SELECT id, created, request FROM cells ORDER BY id"
            ):
                req = codec.request_from_bytes(request)
                what = f"restore cell {cell_id}"
                s.handles[cell_id] = s.core.restore(req, cell_id, created, what)
            s.core.set_next_id(next_id)
        self._sync_markers(s)
        for pid, cell_id, started in self._tickets():
            if cell_id not in s.handles or not members.alive(pid, started):
                _unlink(os.path.join(self._members_dir, str(pid)))
                continue
            s.members.setdefault(cell_id, []).append(pid)
            s.core.ref(s.handles[cell_id])
            s.refs.append(s.handles[cell_id])
        by_pid = {pid: cell for cell, pids in s.members.items() for pid in pids}
        s.caller_cell = next((by_pid[p] for p in members.lineage(os.getpid()) if p in by_pid), 0)
        return s

    # -- membership files (fork-safe: no SQLite, see the module docstring) --

    def _tickets(self) -> Iterator[tuple[int, int, str | None]]:
        """(pid, cell id, start stamp) of every recorded member."""
        try:
            names = os.listdir(self._members_dir)
        except FileNotFoundError:
            return
        for name in names:
            try:
                fields = _read(os.path.join(self._members_dir, name)).split()
                pid, cell_id = int(name), int(fields[0])
            except (OSError, ValueError, IndexError):
                continue
            yield pid, cell_id, fields[1] if len(fields) > 1 else None

    def _sync_markers(self, s: _Session) -> None:
        """Make `cells/` name exactly the stored cells (under the lock)."""
        try:
            present = set(os.listdir(self._cells_dir))
        except FileNotFoundError:
            present = set()
        wanted = {str(cell_id) for cell_id in s.handles}
        for stale in present - wanted:
            _unlink(os.path.join(self._cells_dir, stale))
        for cell_id in s.handles:
            if str(cell_id) not in present:
                self._write_marker(s, cell_id)

    def _write_marker(self, s: _Session, cell_id: int) -> None:
        name = s.db.execute("SELECT name FROM cells WHERE id = ?", (cell_id,)).fetchone()
        _write(os.path.join(self._cells_dir, str(cell_id)), f"{name[0] if name else ''}\n")

    def _marker_id(self, ref: CellRef, what: str) -> int:
        """Resolve a cell by its marker file (name or id), for enter."""
        by_id = ref_id(ref)
        if by_id is not None:
            if os.path.exists(os.path.join(self._cells_dir, str(by_id))):
                return by_id
            raise NotFound(f"{what}: no cell with id {by_id}", err=errno.ENOENT)
        try:
            entries = os.listdir(self._cells_dir)
        except FileNotFoundError:
            entries = []
        for entry in entries:
            try:
                if _read(os.path.join(self._cells_dir, entry)).strip() == ref:
                    return int(entry)
            except (OSError, ValueError):
                continue
        raise NotFound(f"{what}: no cell named '{ref}'", err=errno.ENOENT)

    def _host_only(self, s: _Session, what: str) -> None:
        if s.caller_cell != 0:
            raise error_from_errno(errno.EPERM, what)

    def _resolve(self, s: _Session, ref: CellRef, what: str) -> int:
        """The id of a cell given by name or id."""
        by_id = ref_id(ref)
        if by_id is not None:
            cell_id = by_id
            if cell_id in s.handles:
                return cell_id
            raise NotFound(f"{what}: no cell with id {cell_id}", err=errno.ENOENT)
        assert isinstance(ref, str)
        try:
            cell_id = s.core.handle_id(s.core.lookup_name(ref, what))
        except NotFound:
            cell_id = 0
        if cell_id == 0:
            raise NotFound(f"{what}: no cell named '{ref}'", err=errno.ENOENT)
        return cell_id

    def _info(self, s: _Session, cell_id: int, now: int) -> CellInfo:
        info = s.core.info(cell_id, now, f"read cell {cell_id}")
        return self._decode(s, info)

    def _decode(self, s: _Session, info: object, denies: dict[str, int] | None = None) -> CellInfo:
        cell_id = int(info.ci_id)  # type: ignore[attr-defined]
        live = len(s.members.get(cell_id, ()))
        if denies is None:
            denies = self._denies(s, cell_id)
        return codec.decode_info(info, nprocs=live, nrefs=live, denies=denies)

    def _denies(self, s: _Session, cell: int) -> dict[str, int]:
        return self._deny_table(s, cell).get(cell) or dict.fromkeys(codec.scope_names(), 0)

    def _deny_table(self, s: _Session, cell: int | None = None) -> dict[int, dict[str, int]]:
        """Persisted deny counters: {cell: {scope: count}} for `cell`, or
        for every cell (ids > 0) in one query when `cell` is None."""
        names = codec.scope_names()
        if cell is None:
            rows = s.db.execute("SELECT cell, scope, count FROM denies WHERE cell > 0")
        else:
            rows = s.db.execute("SELECT cell, scope, count FROM denies WHERE cell = ?", (cell,))
        table: dict[int, dict[str, int]] = {}
        for row_cell, scope, count in rows:
            counts = table.get(row_cell)
            if counts is None:
                counts = table[row_cell] = dict.fromkeys(names, 0)
            if 0 <= scope < len(names):
                counts[names[scope]] = int(count)
        return table

    # -- the Kernel protocol ----------------------------------------------

    def create(self, spec: CellSpec) -> CellInfo:
        what = f"create cell '{spec.name}'"
        req = codec.encode_create(spec)
        with self._session() as s:
            self._host_only(s, what)
            try:
                validate_create(req, what)
            except InvalidArgument as exc:
                raise codec.reword_invalid(exc, spec, what) from None
            _check_root(spec.root, what)
            now = int(time.time())
            try:
                cell_id, _ = s.core.create(req, now, what)
            except PortInUse as exc:
                raise self._port_owner_error(s, spec, what) or exc from None
            s.db.execute(
                "INSERT INTO cells VALUES (?, ?, ?, ?)",
                (cell_id, spec.name, now, codec.request_bytes(req)),
            )
            s.set_meta("next_id", int(s.core.stats(HZ).st_next_id))
            s.handles[cell_id] = s.core.lookup_id(cell_id, what)
            s.cells_changed = True
            self._write_marker(s, cell_id)
            return self._info(s, cell_id, now)

    def destroy(self, cell: CellRef) -> None:
        what = f"destroy cell '{cell}'"
        with self._session() as s:
            self._host_only(s, what)
            cell_id = self._resolve(s, cell, what)
            # Close the door first, then look for members (see enter()).
            _unlink(os.path.join(self._cells_dir, str(cell_id)))
            try:
                late = [
                    pid
                    for pid, cid, started in self._tickets()
                    if cid == cell_id and members.alive(pid, started)
                ]
                if late:
                    raise error_from_errno(errno.EBUSY, what)
                s.core.destroy(cell_id, what)
            except BaseException:
                self._write_marker(s, cell_id)
                raise
            del s.handles[cell_id]
            s.cells_changed = True
            s.db.execute("DELETE FROM cells WHERE id = ?", (cell_id,))
            s.db.execute("DELETE FROM denies WHERE cell = ?", (cell_id,))

    def list(self) -> list[CellInfo]:
        if _fresh(self._db_path):
            return []  # no state yet, so no cell; a read creates no state
        with self._session() as s:
            self._host_only(s, "list cells")
            buf, count = s.core.list(int(time.time()))
            table = self._deny_table(s)
            zero = dict.fromkeys(codec.scope_names(), 0)
            return [
                self._decode(s, buf[i], table.get(int(buf[i].ci_id)) or dict(zero))
                for i in range(count)
            ]

    def get(self, cell: CellRef) -> CellInfo:
        what = f"read cell '{cell}'"
        with self._session() as s:
            self._host_only(s, what)
            return self._info(s, self._resolve(s, cell, what), int(time.time()))

    def enter(self, cell: CellRef) -> None:
        # Runs between fork and exec: plain files only (module docstring).
        what = f"enter cell '{cell}'"
        pid = os.getpid()
        entered = {p: c for p, c, started in self._tickets() if members.alive(p, started)}
        if any(p in entered for p in members.lineage(pid)):
            raise error_from_errno(errno.EPERM, what)
        cell_id = self._marker_id(cell, what)
        ticket = os.path.join(self._members_dir, str(pid))
        try:
            _write(ticket, f"{cell_id} {members.start_time(pid) or ''}\n")
        except OSError as exc:
            raise BackendError(f"{what}: cannot record membership: {exc}") from None
        if not os.path.exists(os.path.join(self._cells_dir, str(cell_id))):
            _unlink(ticket)
            raise NotFound(f"{what}: no cell with id {cell_id}", err=errno.ENOENT)

    def current(self) -> int:
        with self._session() as s:
            return s.caller_cell

    def stats(self) -> Stats:
        with self._session() as s:
            self._host_only(s, "read stats")
            st = codec.decode_stats(s.core.stats(HZ), backend=self.backend, enforcing=False)
            return replace(
                st,
                audit_head=s.meta("audit_head"),
                denies=self._denies(s, _ALL),
                host_denies=self._denies(s, _HOST),
            )

    def events(self, since: int = 0) -> builtins.list[Event]:
        with self._session() as s:
            self._host_only(s, "read events")
            rows = s.db.execute(
                "SELECT record FROM events WHERE seq >= ? ORDER BY seq", (since,)
            ).fetchall()
            return [codec.event_from_bytes(r[0]) for r in rows]

    def explain(
        self, cell: CellRef, op: str, target: str | None = None, *, euid: int = 0
    ) -> Decision:
        with self._session() as s:
            return self._decide(s, cell, op, target, euid, record=False)

    def attempt(
        self, cell: CellRef, op: str, target: str | None = None, *, euid: int = 0
    ) -> Decision:
        """Decide as a kernel listener would: a denial is counted per cell
        and scope and appended to the audit ring (sim only; for tests and
        demonstrations of `events` and the deny counters)."""
        with self._session() as s:
            s.core_dirty = True  # its ring and counters now hold this event
            decision = self._decide(s, cell, op, target, euid, record=True)
            self._persist_audit(s)
            return decision

    def policy(self) -> builtins.list[PolicyRow]:
        from cells.kernel import policy

        return policy.policy_rows()

    # -- helpers ------------------------------------------------------------

    def _decide(
        self, s: _Session, cell: CellRef, op: str, target: str | None, euid: int, record: bool
    ) -> Decision:
        from cells.kernel import policy

        what = f"explain {op} for cell '{cell}'"
        if cell in (0, "0", policy.HOST):
            subject_id, handle = 0, 0
        else:
            subject_id = self._resolve(s, cell, what)
            handle = s.handles[subject_id]
        return policy.decide(
            s.core,
            subject_id=subject_id,
            subject_handle=handle,
            op_name=op,
            target=target,
            resolve=lambda ref: s.handles[self._resolve(s, ref, what)],
            euid=euid,
            record_at=int(time.time()) if record else None,
        )

    def _port_owner_error(self, s: _Session, spec: CellSpec, what: str) -> PortInUse | None:
        """Name the port and its owner after the core said EADDRINUSE."""
        for port in spec.ports:
            owner = s.core.port_owner(port) if 0 < port < 65536 else 0  # a cell id
            name = s.db.execute("SELECT name FROM cells WHERE id = ?", (owner,)).fetchone()
            if name is not None:
                return PortInUse(
                    f"{what}: port {port} is reserved by cell '{name[0]}' (id {owner})",
                    err=errno.EADDRINUSE,
                )
        return None

    def _persist_audit(self, s: _Session) -> None:
        buf, count = s.core.events(0)
        head = s.meta("audit_head")
        for i in range(count):
            ev = buf[i]
            head += 1
            ev.ev_seq = head
            s.db.execute("INSERT INTO events VALUES (?, ?)", (head, codec.event_bytes(ev)))
            for cell in {_ALL, int(ev.ev_cell)}:
                s.db.execute(
                    "INSERT INTO denies VALUES (?, ?, 1) ON CONFLICT (cell, scope) "
                    "DO UPDATE SET count = count + 1",
                    (cell, int(ev.ev_scope)),
                )
        s.set_meta("audit_head", head)
        s.db.execute("DELETE FROM events WHERE seq <= ?", (head - lib.CELL_AUDIT_RING,))


def _fresh(db_path: str) -> bool:
    """No database yet, where one could be made (the nearest existing
    ancestor is a directory; a file in the way stays an error)."""
    if os.path.lexists(db_path):
        return False
    parent = os.path.dirname(os.path.abspath(db_path))
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    return os.path.isdir(parent)


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _write(path: str, text: str) -> None:
    # Also runs in a forked child (enter): plain system calls only.
    fd = private.open_file(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)


def _meta(db: sqlite3.Connection, key: str, default: int = 0) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return default if row is None else int(row[0])


def _check_root(root: str, what: str) -> None:
    """The root must exist and be a directory, as the kernel's namei says."""
    try:
        mode = os.stat(root).st_mode
    except FileNotFoundError:
        raise error_from_errno(errno.ENOENT, what, reason=f"root {root} does not exist") from None
    except OSError as exc:
        raise error_from_errno(
            exc.errno or errno.EINVAL, what, reason=f"root {root}: {exc.strerror}"
        ) from None
    if not stat.S_ISDIR(mode):
        raise error_from_errno(errno.ENOTDIR, what, reason=f"root {root} is not a directory")
