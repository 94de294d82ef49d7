"""The decision log: the system of record for every review, every reviewer decision, every sign-off and every
security-relevant event (who, what, when), in one SQLite file or a shared PostgreSQL database (graphs/database.py).

Decisions are committed here and nowhere else: one write transaction per call (writers from any number of processes
take turns), so a decision a caller was told about is durable. The LangGraph checkpoint
is only resumed at sign-off, with the decisions read back from this log (see ReviewService), so the two files can
never disagree about what was decided. Triggers make the decision, sign-off and event tables insert-only.

A review's *version* is the number of decisions logged for it. A caller that shows a review to a person passes the
version it showed back with the decision; if someone else decided the same suggestion meanwhile the decision is
refused (StaleDecision) instead of silently overwriting theirs.
"""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel

from agents.schema import Decision, ReviewComment
from graphs.database import DatabaseBusy, Store
from graphs.outbox import OUTBOX_SCHEMA, emit

__all__ = ["AlreadySignedOff", "AuditLog", "DatabaseBusy", "StaleDecision"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    thread_id TEXT PRIMARY KEY, name TEXT NOT NULL, source_path TEXT NOT NULL, sha256 TEXT NOT NULL,
    contract_type TEXT, counterparty TEXT, risk TEXT, suggestions INTEGER, created_at TEXT NOT NULL,
    status TEXT NOT NULL, finalised_at TEXT
);
CREATE TRIGGER IF NOT EXISTS reviews_kept BEFORE DELETE ON reviews
BEGIN SELECT RAISE(ABORT, 'a review is never deleted'); END;
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, thread_id TEXT NOT NULL, suggestion_id TEXT NOT NULL,
    action TEXT NOT NULL, reviewer TEXT NOT NULL, decided_at TEXT NOT NULL, modified_text TEXT, comment TEXT
);
CREATE INDEX IF NOT EXISTS decisions_by_thread ON decisions (thread_id, seq);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TABLE IF NOT EXISTS sign_offs (
    thread_id TEXT PRIMARY KEY, signed_by TEXT NOT NULL, signed_at TEXT NOT NULL, version INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS sign_offs_no_update BEFORE UPDATE ON sign_offs
BEGIN SELECT RAISE(ABORT, 'a sign-off is final'); END;
CREATE TRIGGER IF NOT EXISTS sign_offs_no_delete BEFORE DELETE ON sign_offs
BEGIN SELECT RAISE(ABORT, 'a sign-off is final'); END;
CREATE TABLE IF NOT EXISTS sign_off_steps (
    thread_id TEXT NOT NULL, step INTEGER NOT NULL, function TEXT NOT NULL, signed_by TEXT NOT NULL, signed_at TEXT NOT NULL,
    version INTEGER NOT NULL, PRIMARY KEY (thread_id, step)
);
CREATE TRIGGER IF NOT EXISTS sign_off_steps_no_update BEFORE UPDATE ON sign_off_steps
BEGIN SELECT RAISE(ABORT, 'a sign-off step is final'); END;
CREATE TRIGGER IF NOT EXISTS sign_off_steps_no_delete BEFORE DELETE ON sign_off_steps
BEGIN SELECT RAISE(ABORT, 'a sign-off step is final'); END;
CREATE TABLE IF NOT EXISTS comments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, thread_id TEXT NOT NULL, suggestion_id TEXT NOT NULL, author TEXT NOT NULL,
    at TEXT NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_by_thread ON comments (thread_id, seq);
CREATE TRIGGER IF NOT EXISTS comments_no_update BEFORE UPDATE ON comments
BEGIN SELECT RAISE(ABORT, 'comments are append-only'); END;
CREATE TRIGGER IF NOT EXISTS comments_no_delete BEFORE DELETE ON comments
BEGIN SELECT RAISE(ABORT, 'comments are append-only'); END;
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,
    thread_id TEXT, detail TEXT
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
"""
_SCHEMA += OUTBOX_SCHEMA  # webhook events are committed with the change they report
# Columns added after the first release; applied to older files on open.
_MIGRATIONS = {"decisions": {"escalate_to": "TEXT", "authenticated_by": "TEXT"}}


class StaleDecision(ValueError):
    """Someone else decided the same suggestion (or the review) after the version the caller showed."""


class AlreadySignedOff(ValueError):
    pass


class SignOff(BaseModel):
    signed_by: str
    signed_at: datetime
    version: int


class SignOffStep(BaseModel):
    """One step of a sequential sign-off (all but the last; the last is the sign-off itself)."""

    step: int
    function: str
    signed_by: str
    signed_at: datetime
    version: int


class AuditEvent(BaseModel):
    at: datetime
    kind: str
    actor: str
    thread_id: str | None = None
    detail: str | None = None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class AuditLog(Store):
    schema = _SCHEMA
    migrations = _MIGRATIONS

    # --- reviews ------------------------------------------------------------------------------------

    def record_review(self, *, thread_id: str, name: str, source_path: str, sha256: str, contract_type: str,
                      counterparty: str | None, risk: str, suggestions: int) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO reviews VALUES (?,?,?,?,?,?,?,?,?,?,NULL) ON CONFLICT (thread_id) DO UPDATE SET"
                " name=excluded.name, source_path=excluded.source_path, sha256=excluded.sha256,"
                " contract_type=excluded.contract_type, counterparty=excluded.counterparty, risk=excluded.risk,"
                " suggestions=excluded.suggestions, created_at=excluded.created_at, status=excluded.status,"
                " finalised_at=NULL",
                (thread_id, name, source_path, sha256, contract_type, counterparty, risk, suggestions,
                 datetime.now(timezone.utc).isoformat(timespec="seconds"), "awaiting_review"),
            )
            emit(db, "review.ready", {"thread_id": thread_id, "name": name, "contract_type": contract_type,
                                      "counterparty": counterparty, "risk": risk, "suggestions": suggestions},
                 dedupe_key=f"review.ready:{thread_id}:{sha256}")

    def record_finalised(self, thread_id: str, actor: str, outputs: str) -> None:
        """The review's outputs are written: its status and the 'finalised' event in one commit, once (a repeat after
        a kill between the two can neither lose the event nor log it twice)."""
        with self.transaction() as db:
            done = db.execute("UPDATE reviews SET status='finalised', finalised_at=? WHERE thread_id=? AND status!='finalised'",
                              (datetime.now(timezone.utc).isoformat(timespec="seconds"), thread_id)).rowcount
            if done:
                self._event(db, "finalised", actor, thread_id, outputs)
                emit(db, "review.finalised", {"thread_id": thread_id, "signed_off_by": actor})

    def is_finalised(self, thread_id: str) -> bool:
        review = self.review(thread_id)
        return review is not None and review["status"] == "finalised"

    def review(self, thread_id: str) -> dict | None:
        with self.read() as db:
            row = db.execute("SELECT * FROM reviews WHERE thread_id=?", (thread_id,)).fetchone()
        return dict(row) if row else None

    def reviews(self) -> list[dict]:
        with self.read() as db:
            return [dict(r) for r in db.execute("SELECT * FROM reviews ORDER BY created_at, thread_id")]

    # --- decisions ----------------------------------------------------------------------------------

    def record_decisions(self, thread_id: str, decisions: list[Decision], *, expected_version: int | None = None) -> int:
        """Append decisions in one transaction and return the review's new version.

        Refused (nothing written) when the review is signed off, or when `expected_version` is given and a
        decision on one of the same suggestions was logged after it."""
        with self.transaction() as db:
            if self._sign_off(db, thread_id):
                raise AlreadySignedOff(f"review {thread_id} is already signed off; decisions can no longer change")
            if first := db.execute("SELECT function, signed_by FROM sign_off_steps WHERE thread_id = ? ORDER BY step LIMIT 1",
                                   (thread_id,)).fetchone():
                raise AlreadySignedOff(f"{first['signed_by']} signed off for {first['function']} on these decisions; they can "
                                       "no longer change")
            if expected_version is not None:
                ids = {d.suggestion_id for d in decisions}
                meanwhile = [d for d in self._decisions_after(db, thread_id, expected_version) if d.suggestion_id in ids]
                if meanwhile:
                    raise StaleDecision("changed since you looked: " + "; ".join(_describe(d) for d in meanwhile)
                                        + ". Reload to see the current decision.")
            db.executemany(
                "INSERT INTO decisions (thread_id, suggestion_id, action, reviewer, decided_at, modified_text, comment,"
                " escalate_to, authenticated_by) VALUES (?,?,?,?,?,?,?,?,?)",
                [(thread_id, d.suggestion_id, d.action, d.reviewer, d.decided_at.isoformat(), d.modified_text, d.comment,
                  d.escalate_to, d.authenticated_by) for d in decisions],
            )
            for d in decisions:
                if d.action == "escalate":
                    emit(db, "review.escalated", {"thread_id": thread_id, "suggestion_id": d.suggestion_id,
                                                  "escalated_by": d.reviewer, "escalate_to": d.escalate_to or "legal",
                                                  "comment": d.comment})
            return self._version(db, thread_id)

    def history(self, thread_id: str) -> list[Decision]:
        with self.read() as db:
            return self._decisions_after(db, thread_id, 0)

    def current_decisions(self, thread_id: str) -> dict[str, Decision]:
        """The latest decision per suggestion: later entries supersede earlier ones; the log keeps all."""
        return {d.suggestion_id: d for d in self.history(thread_id)}

    # --- comments -----------------------------------------------------------------------------------

    def add_comment(self, thread_id: str, comment: ReviewComment) -> None:
        """Append to a suggestion's thread; refused once the review is signed off (its DOCX is being written)."""
        with self.transaction() as db:
            if self._sign_off(db, thread_id):
                raise AlreadySignedOff(f"review {thread_id} is signed off; comments can no longer be added")
            db.execute("INSERT INTO comments (thread_id, suggestion_id, author, at, text) VALUES (?,?,?,?,?)",
                       (thread_id, comment.suggestion_id, comment.author, comment.at.isoformat(), comment.text))

    def comments(self, thread_id: str) -> dict[str, list[ReviewComment]]:
        """Each suggestion's thread, oldest first."""
        threads: dict[str, list[ReviewComment]] = {}
        with self.read() as db:
            for row in db.execute("SELECT * FROM comments WHERE thread_id=? ORDER BY seq", (thread_id,)):
                threads.setdefault(row["suggestion_id"], []).append(ReviewComment(
                    suggestion_id=row["suggestion_id"], author=row["author"], at=datetime.fromisoformat(row["at"]),
                    text=row["text"]))
        return threads

    # --- sign-off -----------------------------------------------------------------------------------

    def record_sign_off(self, thread_id: str, signed_by: str, *, expected_version: int | None = None,
                        authenticated_by: str | None = None) -> SignOff:
        with self.transaction() as db:
            self._refuse_if_signed_off(db, thread_id)
            version = self._confirmed_version(db, thread_id, expected_version)
            sign_off = SignOff(signed_by=signed_by, signed_at=datetime.now(timezone.utc), version=version)
            db.execute("INSERT INTO sign_offs VALUES (?,?,?,?)",
                       (thread_id, signed_by, sign_off.signed_at.isoformat(), version))
            self._event(db, "sign_off", signed_by, thread_id, f"signed off at version {version}{_how(authenticated_by)}")
            return sign_off

    def record_step(self, thread_id: str, step: int, function: str, signed_by: str, *,
                    expected_version: int | None = None, authenticated_by: str | None = None) -> SignOffStep:
        """One step of a sequential sign-off, in order, on the decisions as they stand (refused if they changed since
        the signer looked, if the step is not the next one, or once the review is signed off)."""
        with self.transaction() as db:
            self._refuse_if_signed_off(db, thread_id)
            done = db.execute("SELECT COUNT(*) FROM sign_off_steps WHERE thread_id = ?", (thread_id,)).fetchone()[0]
            if done != step:
                raise StaleDecision(f"step {step + 1} of the sign-off was already recorded; reload to see who signed")
            version = self._confirmed_version(db, thread_id, expected_version)
            signed = SignOffStep(step=step, function=function, signed_by=signed_by, signed_at=datetime.now(timezone.utc),
                                 version=version)
            db.execute("INSERT INTO sign_off_steps VALUES (?,?,?,?,?,?)",
                       (thread_id, step, function, signed_by, signed.signed_at.isoformat(), version))
            self._event(db, "sign_off_step", signed_by, thread_id,
                        f"step {step + 1} ({function}) at version {version}{_how(authenticated_by)}")
            return signed

    def steps(self, thread_id: str) -> list[SignOffStep]:
        with self.read() as db:
            return [SignOffStep(step=r["step"], function=r["function"], signed_by=r["signed_by"],
                                signed_at=datetime.fromisoformat(r["signed_at"]), version=r["version"])
                    for r in db.execute("SELECT * FROM sign_off_steps WHERE thread_id = ? ORDER BY step", (thread_id,))]

    def sign_off(self, thread_id: str) -> SignOff | None:
        with self.read() as db:
            return self._sign_off(db, thread_id)

    # --- other events (logins, user changes, finalisation) --------------------------------------------

    def record_event(self, kind: str, actor: str, *, thread_id: str | None = None, detail: str | None = None) -> None:
        with self.transaction() as db:
            self._event(db, kind, actor, thread_id, detail)

    def events(self, *, thread_id: str | None = None, kind: str | None = None) -> list[AuditEvent]:
        query, args = "SELECT * FROM events WHERE 1=1", []
        if thread_id is not None:
            query, args = query + " AND thread_id=?", [*args, thread_id]
        if kind is not None:
            query, args = query + " AND kind=?", [*args, kind]
        with self.read() as db:
            return [AuditEvent(at=datetime.fromisoformat(r["at"]), kind=r["kind"], actor=r["actor"],
                               thread_id=r["thread_id"], detail=r["detail"])
                    for r in db.execute(query + " ORDER BY seq", args)]

    # --- helpers on an open connection --------------------------------------------------------------

    @staticmethod
    def _event(db, kind: str, actor: str, thread_id: str | None, detail: str | None) -> None:
        db.execute("INSERT INTO events (at, kind, actor, thread_id, detail) VALUES (?,?,?,?,?)",
                   (_now(), kind, actor, thread_id, detail))

    def _refuse_if_signed_off(self, db, thread_id: str) -> None:
        if (existing := self._sign_off(db, thread_id)) is not None:
            raise AlreadySignedOff(f"review {thread_id} was already signed off by {existing.signed_by}")

    def _confirmed_version(self, db, thread_id: str, expected_version: int | None) -> int:
        """The review's version, for a sign-off or a sign-off step: refused when decisions were logged after the
        version the signer confirmed."""
        version = self._version(db, thread_id)
        if expected_version is not None and version != expected_version:
            meanwhile = self._decisions_after(db, thread_id, expected_version)
            raise StaleDecision("decisions changed since you confirmed: " + "; ".join(_describe(d) for d in meanwhile)
                                + ". Review them and confirm again.")
        return version

    @staticmethod
    def _version(db, thread_id: str) -> int:
        return db.execute("SELECT COUNT(*) FROM decisions WHERE thread_id=?", (thread_id,)).fetchone()[0]

    @staticmethod
    def _sign_off(db, thread_id: str) -> SignOff | None:
        row = db.execute("SELECT * FROM sign_offs WHERE thread_id=?", (thread_id,)).fetchone()
        return SignOff(signed_by=row["signed_by"], signed_at=datetime.fromisoformat(row["signed_at"]),
                       version=row["version"]) if row else None

    @staticmethod
    def _decisions_after(db, thread_id: str, version: int) -> list[Decision]:
        rows = db.execute("SELECT * FROM decisions WHERE thread_id=? ORDER BY seq", (thread_id,)).fetchall()[max(version, 0):]
        return [
            Decision(suggestion_id=r["suggestion_id"], action=r["action"], reviewer=r["reviewer"],
                     decided_at=datetime.fromisoformat(r["decided_at"]), modified_text=r["modified_text"],
                     comment=r["comment"], escalate_to=r["escalate_to"], authenticated_by=r["authenticated_by"])
            for r in rows
        ]


def _how(authenticated_by: str | None) -> str:
    return f"; authenticated by {authenticated_by}" if authenticated_by else ""


def _describe(decision: Decision) -> str:
    return f"{decision.suggestion_id} {decision.action} by {decision.reviewer} at {decision.decided_at:%H:%M:%S} UTC"
