"""The state database: applied manifests and the apply journal (SQLite, WAL).

The database and its directory are private (0600 files, a 0700 directory,
whatever the umask; see `cells.private`): applied manifests hold `env:`
secrets.

`applied` holds the canonical form of every manifest that was applied last
(what "edits" are measured against).  `runs` and `steps` are the journal:
each action is written `begin` before its effects and `done` (or `failed`)
after, so a killed applier leaves a precise record and the next run, which
re-reads facts, converges.  Callers: facts (read applied), apply (write),
cellmgr status/journal listings.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from cells import private
from cells.failures import state_error

_SCHEMA = """
CREATE TABLE IF NOT EXISTS applied (
    kind TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL, started REAL NOT NULL,
    finished REAL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (
    run INTEGER NOT NULL, seq INTEGER NOT NULL, action TEXT NOT NULL,
    phase TEXT NOT NULL, time REAL NOT NULL, detail TEXT,
    PRIMARY KEY (run, seq, phase));
"""


class StateDB:
    """One connection to `<state dir>/cellmgr.db`; autocommit per statement."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            # 0700 directory, 0600 files: the manifests here hold secrets.
            # SQLite gives the -wal and -shm files the database's mode.
            private.private_dir(path.parent)
            private.touch(path)
            self.db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            for extra in private.sqlite_files(path)[1:]:
                private.tighten(extra)
            # WAL + NORMAL: a commit survives the applier being killed; a power
            # cut may lose the last commits, which is safe because the next
            # run plans from live facts, not from the journal.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise state_error(path, e) from None

    def close(self) -> None:
        self.db.close()

    # -- applied manifests --------------------------------------------------
    def applied(self, kind: str) -> dict[str, dict[str, Any]]:
        rows = self.db.execute("SELECT name, doc FROM applied WHERE kind = ?", (kind,))
        return {name: json.loads(doc) for name, doc in rows}

    def applied_one(self, kind: str, name: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT doc FROM applied WHERE kind = ? AND name = ?", (kind, name)
        ).fetchone()
        if row is None:
            return None
        doc: dict[str, Any] = json.loads(row[0])
        return doc

    def record(self, kind: str, name: str, doc: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO applied (kind, name, doc, updated) VALUES (?, ?, ?, ?)",
            (kind, name, json.dumps(doc, sort_keys=True), time.time()),
        )

    def forget(self, kind: str, name: str) -> None:
        self.db.execute("DELETE FROM applied WHERE kind = ? AND name = ?", (kind, name))

    # -- journal ------------------------------------------------------------
    def begin_run(self, fingerprint: str) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (fingerprint, started, status) VALUES (?, ?, 'running')",
            (fingerprint, time.time()),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def end_run(self, run: int, status: str) -> None:
        self.db.execute(
            "UPDATE runs SET finished = ?, status = ? WHERE id = ?", (time.time(), status, run)
        )

    def step(self, run: int, seq: int, action: str, phase: str, detail: str = "") -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO steps (run, seq, action, phase, time, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (run, seq, action, phase, time.time(), detail),
        )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, fingerprint, started, finished, status FROM runs ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        keys = ("id", "fingerprint", "started", "finished", "status")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def steps(self, run: int) -> list[tuple[int, str, str, str]]:
        return list(
            self.db.execute(
                "SELECT seq, action, phase, detail FROM steps WHERE run = ? ORDER BY seq, time",
                (run,),
            )
        )

    def interrupted(self) -> list[int]:
        """Runs that never finished (the applier died)."""
        return [r for (r,) in self.db.execute("SELECT id FROM runs WHERE status = 'running'")]
