"""Append-only record of every review and every reviewer decision (who, what, when), in SQLite.

The checkpoint holds the latest decision per suggestion; this log holds all of them, in order, so a
review can be replayed and audited. Triggers make the decisions table insert-only.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

from agents.schema import Decision

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    thread_id TEXT PRIMARY KEY, name TEXT NOT NULL, source_path TEXT NOT NULL, sha256 TEXT NOT NULL,
    contract_type TEXT, counterparty TEXT, risk TEXT, suggestions INTEGER, created_at TEXT NOT NULL,
    status TEXT NOT NULL, finalised_at TEXT
);
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, thread_id TEXT NOT NULL, suggestion_id TEXT NOT NULL,
    action TEXT NOT NULL, reviewer TEXT NOT NULL, decided_at TEXT NOT NULL, modified_text TEXT, comment TEXT
);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
"""


class SQLiteFile:
    """A SQLite file with its schema applied on open; one short-lived connection per operation, so several
    processes (batch workers, the web server, the CLI) can share it."""

    schema = ""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        with closing(self._connect()) as db, db:
            db.executescript(self.schema)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._path, timeout=30)
        db.row_factory = sqlite3.Row
        return db


class AuditLog(SQLiteFile):
    schema = _SCHEMA

    def record_review(self, *, thread_id: str, name: str, source_path: str, sha256: str, contract_type: str,
                      counterparty: str | None, risk: str, suggestions: int) -> None:
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR REPLACE INTO reviews VALUES (?,?,?,?,?,?,?,?,?,?,NULL)",
                (thread_id, name, source_path, sha256, contract_type, counterparty, risk, suggestions,
                 datetime.now(timezone.utc).isoformat(timespec="seconds"), "awaiting_review"),
            )

    def record_decisions(self, thread_id: str, decisions: list[Decision]) -> None:
        with closing(self._connect()) as db, db:
            db.executemany(
                "INSERT INTO decisions (thread_id, suggestion_id, action, reviewer, decided_at, modified_text, comment)"
                " VALUES (?,?,?,?,?,?,?)",
                [(thread_id, d.suggestion_id, d.action, d.reviewer, d.decided_at.isoformat(), d.modified_text, d.comment)
                 for d in decisions],
            )

    def mark_finalised(self, thread_id: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("UPDATE reviews SET status='finalised', finalised_at=? WHERE thread_id=?",
                       (datetime.now(timezone.utc).isoformat(timespec="seconds"), thread_id))

    def review(self, thread_id: str) -> dict | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT * FROM reviews WHERE thread_id=?", (thread_id,)).fetchone()
        return dict(row) if row else None

    def reviews(self) -> list[dict]:
        with closing(self._connect()) as db:
            return [dict(r) for r in db.execute("SELECT * FROM reviews ORDER BY created_at, thread_id")]

    def history(self, thread_id: str) -> list[Decision]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT * FROM decisions WHERE thread_id=? ORDER BY seq", (thread_id,)).fetchall()
        return [
            Decision(suggestion_id=r["suggestion_id"], action=r["action"], reviewer=r["reviewer"],
                     decided_at=datetime.fromisoformat(r["decided_at"]), modified_text=r["modified_text"], comment=r["comment"])
            for r in rows
        ]
