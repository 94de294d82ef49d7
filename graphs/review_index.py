"""The review index: one row per review with what the queue shows and filters on, kept current on every state
change (review started, decision, sign-off, finalisation), so the queue never reads checkpoints.

It lives in the decision log's database (file or server) but is derived data: `ReviewService.reindex` rebuilds any row from the
review itself. The queue asks for one page at a time, filtered and sorted in SQL, with only the reviews the reader
may see (a function the contract is routed to, or one that owns a suggestion).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, Field

from graphs.database import Store

RISK_ORDER = ["critical", "high", "medium", "low"]
QueueStatus = Literal["awaiting review", "escalated", "signed off", "finalised"]
SORTS = {
    "risk": "status_rank, risk_rank, created_at",
    "deadline": "notice_deadline IS NULL, notice_deadline, risk_rank",
    "newest": "created_at DESC",
    "oldest": "created_at",
    "pending": "pending DESC, risk_rank",
    "name": "LOWER(name), created_at",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS review_index (
    thread_id TEXT PRIMARY KEY, name TEXT NOT NULL, short_id TEXT NOT NULL, contract_type TEXT, counterparty TEXT,
    risk TEXT, risk_rank INTEGER, findings INTEGER, suggestions INTEGER, pending INTEGER, functions TEXT NOT NULL,
    owners TEXT NOT NULL, status TEXT NOT NULL, status_rank INTEGER NOT NULL, notice_deadline TEXT,
    assigned_to TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 0,
    auto_renews INTEGER, term_end TEXT, notice_days INTEGER, recommended_action TEXT
);
CREATE INDEX IF NOT EXISTS review_index_queue ON review_index (status_rank, risk_rank, created_at);
CREATE INDEX IF NOT EXISTS review_index_deadline ON review_index (notice_deadline);
CREATE INDEX IF NOT EXISTS review_index_assigned ON review_index (assigned_to, status_rank);
CREATE TABLE IF NOT EXISTS index_watermark (
    name TEXT PRIMARY KEY, decisions_seq INTEGER NOT NULL, events_seq INTEGER NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS clause_search USING fts5(
    thread_id UNINDEXED, category, text, start UNINDEXED, "end" UNINDEXED, tokenize = 'porter unicode61'
);
"""


# columns added after the index's first version, applied to older files on open
_MIGRATIONS = {"review_index": {"auto_renews": "INTEGER", "term_end": "TEXT", "notice_days": "INTEGER",
                                "recommended_action": "TEXT"}}


class IndexRow(BaseModel):
    thread_id: str
    name: str
    short_id: str = Field(description="the content hash's first characters: tells two files of one name apart")
    contract_type: str
    counterparty: str | None
    risk: str
    findings: int
    suggestions: int
    pending: int
    functions: list[str]  # the functions the contract is routed to
    owners: list[str]  # the functions that own one of its suggestions (escalations included)
    status: QueueStatus
    notice_deadline: str | None = None
    assigned_to: str | None = None
    created_at: str
    version: int = 0  # the decision log's version this row was computed at
    auto_renews: bool = False
    term_end: str | None = None  # the end of the current term (ISO date)
    notice_days: int | None = None  # notice needed to stop a renewal
    recommended_action: str | None = None  # from the renewal brief

    @property
    def age_days(self) -> int:
        return (datetime.now(timezone.utc) - datetime.fromisoformat(self.created_at)).days


class QueueQuery(BaseModel):
    status: QueueStatus | Literal["open", "all"] = "open"  # open: awaiting review, escalated or signed off
    function: str | None = None
    risk: str | None = None
    contract_type: str | None = None
    search: str | None = Field(default=None, max_length=200, description="in the file name or the counterparty")
    assigned_to: str | None = None
    sort: str = "risk"
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=50, ge=1, le=200)


class ClauseHit(BaseModel):
    """A clause that matched a search, with its exact span in the contract and the review it belongs to."""

    review: IndexRow
    category: str
    start: int
    end: int
    snippet: str  # the clause with the matched words in [brackets]


class QueuePage(BaseModel):
    rows: list[IndexRow]
    total: int
    query: QueueQuery

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))


def _listed(values: list[str]) -> str:
    return "," + ",".join(sorted(set(values))) + ","  # ",legal,finance,": a LIKE '%,legal,%' finds a member


class ReviewIndex(Store):
    schema = _SCHEMA
    migrations = _MIGRATIONS

    def upsert(self, row: IndexRow, clauses: list[tuple[str, int, int, str]] | None = None) -> None:
        """Write a review's row (`assigned_to` is kept unless the row names one) and, when given, its clauses for
        search, in one commit."""
        self.upsert_many([row], {row.thread_id: clauses} if clauses is not None else None)

    def upsert_many(self, rows: list[IndexRow], clauses: dict[str, list[tuple[str, int, int, str]]] | None = None) -> None:
        """Write rows (and clauses, per thread) in one transaction."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        values = []
        for row in rows:
            status_rank = ["awaiting review", "escalated", "signed off", "finalised"].index(row.status)
            risk_rank = RISK_ORDER.index(row.risk) if row.risk in RISK_ORDER else len(RISK_ORDER)
            values.append((row.thread_id, row.name, row.short_id, row.contract_type, row.counterparty, row.risk, risk_rank,
                           row.findings, row.suggestions, row.pending, _listed(row.functions), _listed(row.owners), row.status,
                           status_rank, row.notice_deadline, row.assigned_to, row.created_at, now, row.version,
                           int(row.auto_renews), row.term_end, row.notice_days, row.recommended_action))
        with self.transaction() as db:
            # a review's clauses are only ever written with its row, so a review without a row has none to replace
            # (deleting from clause_search by thread_id scans the whole table: FTS5 cannot index that column)
            had_row = {t for t in (clauses or {}) if db.execute("SELECT 1 FROM review_index WHERE thread_id = ?", (t,)).fetchone()}
            db.executemany(
                "INSERT INTO review_index (thread_id, name, short_id, contract_type, counterparty, risk, risk_rank, findings,"
                " suggestions, pending, functions, owners, status, status_rank, notice_deadline, assigned_to, created_at,"
                " updated_at, version, auto_renews, term_end, notice_days, recommended_action)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(thread_id) DO UPDATE SET"
                " name=excluded.name, short_id=excluded.short_id, contract_type=excluded.contract_type,"
                " counterparty=excluded.counterparty, risk=excluded.risk, risk_rank=excluded.risk_rank,"
                " findings=excluded.findings, suggestions=excluded.suggestions, pending=excluded.pending,"
                " functions=excluded.functions, owners=excluded.owners, status=excluded.status,"
                " status_rank=excluded.status_rank, notice_deadline=excluded.notice_deadline,"
                " assigned_to=COALESCE(excluded.assigned_to, review_index.assigned_to), updated_at=excluded.updated_at,"
                " version=excluded.version, auto_renews=excluded.auto_renews, term_end=excluded.term_end,"
                " notice_days=excluded.notice_days, recommended_action=excluded.recommended_action",
                values,
            )
            for thread_id, found in (clauses or {}).items():
                if thread_id in had_row:
                    db.execute("DELETE FROM clause_search WHERE thread_id = ?", (thread_id,))
                db.executemany('INSERT INTO clause_search (thread_id, category, text, start, "end") VALUES (?,?,?,?,?)',
                               [(thread_id, category, text, start, end) for category, start, end, text in found])

    def search(self, text: str, query: QueueQuery, *, visible_functions: list[str] | None, limit: int = 50) -> list[ClauseHit]:
        """Clauses whose words match `text` (all of them, stemmed), best first, in reviews that pass `query`'s filters
        and that the reader may see. The words are quoted one by one (SQLite) or read as plain text (PostgreSQL): no
        search syntax from the user reaches the database."""
        words = re.findall(r"\w+", text.lower())[:12]
        if not words:
            return []
        where, args = _conditions(query, visible_functions, prefix="i.")
        condition = "".join(f" AND {w}" for w in where)
        if self.dialect == "postgres":  # English stemming and ranking, as FTS5's porter tokenizer and bm25 do
            sql = ("SELECT i.*, s.category AS hit_category, s.start AS hit_start, s.\"end\" AS hit_end,"
                   " ts_headline('english', s.text, q, 'StartSel=[,StopSel=],MaxWords=24,MinWords=8') AS hit_snippet"
                   " FROM clause_search s JOIN review_index i ON i.thread_id = s.thread_id"
                   f" CROSS JOIN plainto_tsquery('english', ?) q WHERE s.words @@ q{condition}"
                   " ORDER BY ts_rank(s.words, q) DESC, i.risk_rank LIMIT ?")
            match = " ".join(words)
        else:
            sql = ("SELECT i.*, s.category AS hit_category, s.start AS hit_start, s.\"end\" AS hit_end,"
                   " snippet(clause_search, 2, '[', ']', '…', 24) AS hit_snippet FROM clause_search s"
                   f" JOIN review_index i ON i.thread_id = s.thread_id WHERE clause_search MATCH ?{condition}"
                   " ORDER BY bm25(clause_search), i.risk_rank LIMIT ?")
            match = " ".join(f'"{w}"' for w in words)
        with self.read() as db:
            found = db.execute(sql, [match, *args, limit]).fetchall()
        return [ClauseHit(review=_row_of(r), category=r["hit_category"], start=int(r["hit_start"]), end=int(r["hit_end"]),
                          snippet=r["hit_snippet"]) for r in found]

    def assign(self, thread_id: str, reviewer: str | None) -> bool:
        with self.transaction() as db:
            return db.execute("UPDATE review_index SET assigned_to = ? WHERE thread_id = ?", (reviewer, thread_id)).rowcount == 1

    def assigned_to(self, thread_id: str) -> str | None:
        with self.read() as db:
            row = db.execute("SELECT assigned_to FROM review_index WHERE thread_id = ?", (thread_id,)).fetchone()
        return row[0] if row else None

    def stale(self) -> list[str]:
        return self.changed_since_caught_up()[0]

    def changed_since_caught_up(self) -> tuple[list[str], tuple[int, int] | None]:
        """Reviews whose row may be behind the log, and the log's high-water marks read with them (None when the log
        has not moved past the watermark, so a queue request has nothing to write): reviews with a
        decision or an event (sign-off, finalisation, a rerun) logged after the index last caught up (`advance`),
        reviews with no row, and rows whose status lags a sign-off. Costs the changes since the last catch-up, not
        the whole log: the decision and event tables are read from the watermark on, by their primary key."""
        with self.read() as db:
            mark = db.execute("SELECT decisions_seq, events_seq FROM index_watermark WHERE name = 'index'").fetchone()
            decisions_seq, events_seq = (mark[0], mark[1]) if mark else (0, 0)
            top_decision = db.execute("SELECT COALESCE(MAX(seq), 0) FROM decisions").fetchone()[0]
            top_event = db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
            changed = [r[0] for r in db.execute(
                "SELECT thread_id FROM decisions WHERE seq > ? AND seq <= ?"
                " UNION SELECT thread_id FROM events WHERE seq > ? AND seq <= ? AND thread_id IS NOT NULL"
                " UNION SELECT thread_id FROM review_index i WHERE (i.status_rank < 2 AND EXISTS (SELECT 1 FROM sign_offs s"
                " WHERE s.thread_id = i.thread_id)) OR (i.status_rank = 2 AND EXISTS (SELECT 1 FROM reviews r WHERE"
                " r.thread_id = i.thread_id AND r.status = 'finalised'))"
                " UNION SELECT r.thread_id FROM reviews r WHERE NOT EXISTS (SELECT 1 FROM review_index i WHERE"
                " i.thread_id = r.thread_id)", (decisions_seq, top_decision, events_seq, top_event))]
        moved = (top_decision, top_event) != (decisions_seq, events_seq)
        return changed, (top_decision, top_event) if moved else None

    def advance(self, marks: tuple[int, int]) -> None:
        """The index has caught up with the log up to `marks` (never moves back: two catch-ups may race). Written
        only when it moves: the queue calls this on every request and must not queue for the writer's lock."""
        with self.read() as db:
            row = db.execute("SELECT decisions_seq, events_seq FROM index_watermark WHERE name = 'index'").fetchone()
        if row and row[0] >= marks[0] and row[1] >= marks[1]:
            return
        with self.transaction() as db:
            row = db.execute("SELECT decisions_seq, events_seq FROM index_watermark WHERE name = 'index'").fetchone()
            decisions_seq, events_seq = max(marks[0], row[0] if row else 0), max(marks[1], row[1] if row else 0)
            db.execute("INSERT INTO index_watermark (name, decisions_seq, events_seq) VALUES ('index', ?, ?)"
                       " ON CONFLICT (name) DO UPDATE SET decisions_seq = excluded.decisions_seq,"
                       " events_seq = excluded.events_seq", (decisions_seq, events_seq))

    def versions(self) -> dict[str, str]:
        """thread id -> "status:decision-log version": what changes when a review needs filing again."""
        with self.read() as db:
            return {r[0]: f"{r[1]}:{r[2]}" for r in db.execute("SELECT thread_id, status, version FROM review_index")}

    def indexed(self) -> set[str]:
        with self.read() as db:
            return {r[0] for r in db.execute("SELECT thread_id FROM review_index")}

    def hidden_from(self, visible_functions: list[str] | None) -> set[str]:
        """The reviews a reader with these functions may not see (none for None: sees every contract): what the
        repository's pages leave out of every list, count and search."""
        if visible_functions is None:
            return set()
        where, args = _conditions(QueueQuery(status="all"), visible_functions)
        with self.read() as db:
            return {r[0] for r in db.execute(f"SELECT thread_id FROM review_index WHERE NOT ({' AND '.join(where)})", args)}

    def waiting_for(self, reviewer: str) -> int:
        with self.read() as db:
            return db.execute("SELECT COUNT(*) FROM review_index WHERE assigned_to = ? AND status_rank < 3",
                              (reviewer,)).fetchone()[0]

    def page(self, query: QueueQuery, *, visible_functions: list[str] | None) -> QueuePage:
        """One page of the queue. `visible_functions`: the reader's functions (None: sees every contract)."""
        where, args = _conditions(query, visible_functions)
        condition = ("WHERE " + " AND ".join(where)) if where else ""
        order = SORTS.get(query.sort, SORTS["risk"])
        with self.read() as db:
            total = db.execute(f"SELECT COUNT(*) FROM review_index {condition}", args).fetchone()[0]
            found = db.execute(f"SELECT * FROM review_index {condition} ORDER BY {order} LIMIT ? OFFSET ?",
                               [*args, query.per_page, (query.page - 1) * query.per_page]).fetchall()
        return QueuePage(rows=[_row_of(r) for r in found], total=total, query=query)

    def renewals(self, *, today: date, within_days: int, visible_functions: list[str] | None,
                 missed_days: int = 30) -> list[IndexRow]:
        """Contracts whose notice deadline falls in the next `within_days` (or passed in the last `missed_days`),
        soonest first: the portfolio's renewal calendar."""
        where, args = _conditions(QueueQuery(status="all"), visible_functions)
        where += ["notice_deadline IS NOT NULL", "notice_deadline BETWEEN ? AND ?"]
        args += [(today - timedelta(days=missed_days)).isoformat(), (today + timedelta(days=within_days)).isoformat()]
        with self.read() as db:
            found = db.execute(f"SELECT * FROM review_index WHERE {' AND '.join(where)} ORDER BY notice_deadline, name",
                               args).fetchall()
        return [_row_of(r) for r in found]


def _conditions(query: QueueQuery, visible_functions: list[str] | None, prefix: str = "") -> tuple[list[str], list]:
    """SQL conditions and their arguments for the queue's filters and the reader's visibility (None: sees every
    contract), on review_index columns named with `prefix` ("i." inside a join)."""
    where, args = [], []
    if visible_functions is not None:
        where.append("(" + (" OR ".join(f"({prefix}functions LIKE ? OR {prefix}owners LIKE ?)" for _ in visible_functions)
                            or "1=0") + ")")
        for function in visible_functions:
            args += [f"%,{function},%"] * 2
    if query.status == "open":
        where.append(f"{prefix}status_rank < 3")
    elif query.status != "all":
        where.append(f"{prefix}status = ?")
        args.append(query.status)
    for column, value in (("risk", query.risk), ("contract_type", query.contract_type), ("assigned_to", query.assigned_to)):
        if value:
            where.append(f"{prefix}{column} = ?")
            args.append(value)
    if query.function:
        where.append(f"{prefix}functions LIKE ?")
        args.append(f"%,{query.function},%")
    if query.search:
        # LOWER on both sides: SQLite's LIKE ignores case, PostgreSQL's does not
        where.append(f"(LOWER({prefix}name) LIKE ? ESCAPE '\\' OR LOWER({prefix}counterparty) LIKE ? ESCAPE '\\')")
        needle = "%" + query.search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        args += [needle, needle]
    return where, args


def _row_of(r) -> IndexRow:
    return IndexRow(thread_id=r["thread_id"], name=r["name"], short_id=r["short_id"], contract_type=r["contract_type"] or "",
                    counterparty=r["counterparty"], risk=r["risk"] or "", findings=r["findings"] or 0,
                    suggestions=r["suggestions"] or 0, pending=r["pending"] or 0,
                    functions=[f for f in r["functions"].split(",") if f], owners=[f for f in r["owners"].split(",") if f],
                    status=r["status"], notice_deadline=r["notice_deadline"], assigned_to=r["assigned_to"],
                    created_at=r["created_at"], version=r["version"], auto_renews=bool(r["auto_renews"]),
                    term_end=r["term_end"], notice_days=r["notice_days"], recommended_action=r["recommended_action"])
