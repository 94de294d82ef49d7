"""The contract repository: one SQLite file (data/portfolio.sqlite), or the shared PostgreSQL database when
CLAUSEFLOW_DATABASE_URL is set, with every contract's metadata and clauses,
obligations and their history, the supplier master, ERP spend lines and the flags matching raised.

Contracts from reviews are derived (re-filed from the review when it changes); imported executed contracts,
obligation decisions, suppliers and spend are primary data kept only here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

from agents.obligations import DueRule, occurrences_around
from agents.schema import Span
from graphs.database import Store
from graphs.outbox import OUTBOX_SCHEMA, emit
from portfolio.ledger import as_of
from portfolio.records import NOT_OF_RECORD, ClauseRecord, ContractRecord, Filing, Obligation, SpendFlag, SpendLine, Supplier

_SCHEMA = OUTBOX_SCHEMA + """
CREATE TABLE IF NOT EXISTS contracts (
    contract_id TEXT PRIMARY KEY, name TEXT NOT NULL, source_file TEXT NOT NULL, origin TEXT NOT NULL, thread_id TEXT,
    title TEXT, contract_type TEXT, parties TEXT NOT NULL, counterparty TEXT, counterparty_key TEXT, our_side TEXT,
    risk TEXT, status TEXT NOT NULL, owner TEXT, effective_date TEXT, expiration_date TEXT, term_end TEXT,
    auto_renews INTEGER NOT NULL DEFAULT 0, renewal_term_months REAL, notice_days INTEGER, notice_deadline TEXT,
    governing_law TEXT, value REAL, not_to_exceed REAL, currency TEXT, payment_terms_days INTEGER, liability_cap TEXT,
    liability_cap_amount REAL, minimum_commitment REAL, price_escalator_pct REAL, po_numbers TEXT NOT NULL,
    recommended_action TEXT, citations TEXT NOT NULL, filed_at TEXT NOT NULL, review_version TEXT, request TEXT,
    previous_version TEXT, signatures TEXT, signature_problem TEXT
);
CREATE TABLE IF NOT EXISTS agreed_copies (
    thread_id TEXT PRIMARY KEY, text_sha256 TEXT NOT NULL, shingles TEXT NOT NULL, recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contracts_deadline ON contracts (notice_deadline);
CREATE INDEX IF NOT EXISTS contracts_counterparty ON contracts (counterparty_key);
CREATE INDEX IF NOT EXISTS contracts_type ON contracts (contract_type, status);
CREATE INDEX IF NOT EXISTS contracts_thread ON contracts (thread_id);
CREATE TABLE IF NOT EXISTS contract_clauses (
    id INTEGER PRIMARY KEY, contract_id TEXT NOT NULL, category TEXT NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contract_clauses_contract ON contract_clauses (contract_id);
CREATE INDEX IF NOT EXISTS contract_clauses_category ON contract_clauses (category, contract_id);
CREATE VIRTUAL TABLE IF NOT EXISTS clause_fts USING fts5(
    category, text, content='contract_clauses', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS contract_clauses_ai AFTER INSERT ON contract_clauses BEGIN
    INSERT INTO clause_fts(rowid, category, text) VALUES (new.id, new.category, new.text);
END;
CREATE TRIGGER IF NOT EXISTS contract_clauses_ad AFTER DELETE ON contract_clauses BEGIN
    INSERT INTO clause_fts(clause_fts, rowid, category, text) VALUES ('delete', old.id, old.category, old.text);
END;
CREATE TABLE IF NOT EXISTS obligations (
    obligation_id TEXT PRIMARY KEY, contract_id TEXT NOT NULL, kind TEXT NOT NULL, owner_side TEXT NOT NULL,
    summary TEXT NOT NULL, citation TEXT NOT NULL, due_date TEXT, recurrence TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open', decided_by TEXT, decided_at TEXT
);
CREATE INDEX IF NOT EXISTS obligations_due ON obligations (status, due_date);
CREATE INDEX IF NOT EXISTS obligations_contract ON obligations (contract_id);
CREATE TABLE IF NOT EXISTS obligation_events (
    id INTEGER PRIMARY KEY, obligation_id TEXT NOT NULL, status TEXT NOT NULL, who TEXT NOT NULL, at TEXT NOT NULL,
    note TEXT
);
CREATE TABLE IF NOT EXISTS suppliers (
    supplier_id TEXT PRIMARY KEY, name TEXT NOT NULL, aliases TEXT NOT NULL, tax_id TEXT, risk_tier TEXT
);
CREATE TABLE IF NOT EXISTS supplier_names (name_key TEXT PRIMARY KEY, supplier_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS spend_lines (
    line_id INTEGER PRIMARY KEY, line_key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, supplier TEXT NOT NULL,
    supplier_key TEXT NOT NULL, po_number TEXT, invoice_number TEXT, date TEXT NOT NULL, amount REAL NOT NULL,
    currency TEXT NOT NULL, description TEXT NOT NULL, paid_date TEXT, unit_price REAL, item TEXT,
    contract_id TEXT, match_reason TEXT
);
CREATE INDEX IF NOT EXISTS spend_lines_contract ON spend_lines (contract_id, date);
CREATE INDEX IF NOT EXISTS spend_lines_supplier ON spend_lines (supplier_key, date);
CREATE TABLE IF NOT EXISTS spend_flags (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, detail TEXT NOT NULL, contract_id TEXT, supplier TEXT, line_id INTEGER,
    citation TEXT
);
CREATE INDEX IF NOT EXISTS spend_flags_contract ON spend_flags (contract_id);
CREATE TABLE IF NOT EXISTS clause_vectors_state (contract_id TEXT PRIMARY KEY, filed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clause_vectors_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
INSERT OR IGNORE INTO clause_vectors_version (id, version) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS performance (
    contract_id TEXT NOT NULL, period TEXT NOT NULL, sla_target REAL NOT NULL, sla_actual REAL NOT NULL,
    incidents INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (contract_id, period)
);
"""

_CONTRACT_COLUMNS = (
    "contract_id", "name", "source_file", "origin", "thread_id", "title", "contract_type", "parties", "counterparty",
    "counterparty_key", "our_side", "risk", "status", "owner", "effective_date", "expiration_date", "term_end",
    "auto_renews", "renewal_kind", "renewal_term_months", "renewal_count", "until_terminated", "notice_days",
    "notice_months", "notice_fixed_day", "notice_deadline", "governing_law", "value", "not_to_exceed",
    "currency", "payment_terms_days", "liability_cap", "liability_cap_amount", "minimum_commitment",
    "price_escalator_pct", "po_numbers", "recommended_action", "citations", "filed_at", "review_version", "request",
    "previous_version", "signatures", "signature_problem",
)


# Upserts both engines run (INSERT … ON CONFLICT): a row replaced in place, keyed by its primary key.
_UPSERT_CONTRACT = (
    f"INSERT INTO contracts ({','.join(_CONTRACT_COLUMNS)}) VALUES ({','.join('?' for _ in _CONTRACT_COLUMNS)})"
    " ON CONFLICT (contract_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _CONTRACT_COLUMNS if c != "contract_id"))
_UPSERT_PERFORMANCE = (
    "INSERT INTO performance (contract_id, period, sla_target, sla_actual, incidents) VALUES (?,?,?,?,?)"
    " ON CONFLICT (contract_id, period) DO UPDATE SET sla_target = excluded.sla_target,"
    " sla_actual = excluded.sla_actual, incidents = excluded.incidents")

_STATUS_RANK = {"in review": 0, "finalised": 1, "signature invalid": 1, "executed": 2, "expired": 3, "terminated": 4,
                "superseded": 5}


_LEGAL_SUFFIXES = {"inc", "incorporated", "llc", "ltd", "limited", "plc", "gmbh", "ag", "sa", "sas", "bv", "nv", "corp",
                   "corporation", "co", "company", "lp", "llp", "the", "srl", "spa", "oy", "ab", "as", "pty", "kk"}
_NAME_WORD = re.compile(r"[a-z0-9]+")


def name_key(name: str | None) -> str:
    """A company name compared loosely: lower case, punctuation and legal suffixes dropped ('Acme, Inc.' = 'ACME').
    Called for every ERP line, so its word set and pattern are built once."""
    words = _NAME_WORD.findall((name or "").lower())
    while words and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    if words and words[0] == "the":
        words.pop(0)
    return " ".join(words)


class Repository(Store):
    lock_group = "portfolio"
    schema = _SCHEMA
    migrations = {  # columns added after the first version
        "contracts": {"request": "TEXT", "previous_version": "TEXT", "renewal_kind": "TEXT", "renewal_count": "INTEGER",
                      "until_terminated": "INTEGER NOT NULL DEFAULT 0", "notice_months": "INTEGER", "notice_fixed_day": "TEXT",
                      "signatures": "TEXT", "signature_problem": "TEXT"},
        "obligations": {"offset_days": "INTEGER", "anchor": "TEXT", "owner_name": "TEXT"},
        "obligation_events": {"due_date": "TEXT", "on_date": "TEXT"},
        "spend_lines": {"source_file": "TEXT", "source_line": "INTEGER", "reporting_amount": "REAL"},
        "spend_flags": {"source": "TEXT"},
    }

    # --- contracts ------------------------------------------------------------------------------------

    def file(self, filing: Filing) -> None:
        self.file_many([filing])

    def file_many(self, filings: list[Filing], events: list[tuple[str, dict]] = ()) -> None:
        """Write contracts, replacing their clauses and open obligations, all in one commit. A contract already
        filed keeps the status a person set (terminated), its owner unless the new record names one, and the
        obligations a person marked done or missed. A status only moves forward (in review, finalised, executed,
        expired, terminated). `events`: webhook events (graphs/outbox.py) committed with the filing."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.transaction() as db:
            for filing in filings:
                record = filing.record
                values = _contract_values(record, now, filing.review_version)
                existing = db.execute("SELECT status, owner FROM contracts WHERE contract_id = ?",
                                      (record.contract_id,)).fetchone()
                if existing is not None:
                    # a review of a contract filed as executed (or terminated) does not take it back to "in review"
                    if _STATUS_RANK[existing["status"]] > _STATUS_RANK[values["status"]]:
                        values["status"] = existing["status"]
                    values["owner"] = values["owner"] or existing["owner"]
                    db.execute("DELETE FROM contract_clauses WHERE contract_id = ?", (record.contract_id,))
                db.execute(_UPSERT_CONTRACT, [values[c] for c in _CONTRACT_COLUMNS])
                db.executemany('INSERT INTO contract_clauses (contract_id, category, start, "end", text) VALUES (?,?,?,?,?)',
                               [(record.contract_id, c.category, c.start, c.end, c.text) for c in record.clauses])
                _replace_open_obligations(db, record.contract_id, filing.obligations)
            for event, payload in events:
                emit(db, event, payload)

    def contract(self, contract_id: str, *, with_clauses: bool = True) -> ContractRecord | None:
        with self.read() as db:
            row = db.execute("SELECT * FROM contracts WHERE contract_id = ?", (contract_id,)).fetchone()
            if row is None:
                return None
            clauses = db.execute('SELECT category, start, "end", text FROM contract_clauses WHERE contract_id = ?'
                                 " ORDER BY start", (contract_id,)).fetchall() if with_clauses else []
        record = contract_of(row)
        record.clauses = [ClauseRecord(category=c["category"], start=c["start"], end=c["end"], text=c["text"]) for c in clauses]
        return record

    def filed_versions(self) -> dict[str, str]:
        """thread id -> the review version its record was filed at, for reviews already in the repository."""
        with self.read() as db:
            return {r[0]: r[1] for r in db.execute("SELECT thread_id, review_version FROM contracts WHERE thread_id IS NOT NULL"
                                             " AND origin = 'review'")}

    def contract_ids(self) -> set[str]:
        with self.read() as db:
            return {r[0] for r in db.execute("SELECT contract_id FROM contracts")}

    def filed_from(self, thread_ids: set[str]) -> set[str]:
        """The contracts filed from these reviews."""
        if not thread_ids:
            return set()
        marks = ",".join("?" for _ in thread_ids)
        with self.read() as db:
            return {r[0] for r in db.execute(f"SELECT contract_id FROM contracts WHERE thread_id IN ({marks})", sorted(thread_ids))}

    def set_status(self, contract_id: str, status: str) -> bool:
        with self.transaction() as db:
            return db.execute("UPDATE contracts SET status = ? WHERE contract_id = ?", (status, contract_id)).rowcount == 1

    def set_owner(self, contract_id: str, owner: str | None) -> bool:
        with self.transaction() as db:
            return db.execute("UPDATE contracts SET owner = ? WHERE contract_id = ?", (owner, contract_id)).rowcount == 1

    def supersede_review(self, thread_id: str) -> int:
        """The review's own records give way to its executed copy: no deadline or duty is counted from them twice."""
        with self.transaction() as db:
            return db.execute("UPDATE contracts SET status = 'superseded' WHERE thread_id = ? AND origin = 'review'",
                              (thread_id,)).rowcount

    # --- agreed copies: what a signed PDF coming back is matched against ------------------------------------

    def record_agreed_copy(self, thread_id: str, text_sha256: str, shingles: list[int]) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO agreed_copies VALUES (?,?,?,?) ON CONFLICT (thread_id) DO NOTHING",
                       (thread_id, text_sha256, json.dumps(shingles), datetime.now(timezone.utc).isoformat(timespec="seconds")))

    def agreed_copies(self) -> dict[str, tuple[str, set[int]]]:
        """thread id -> (the agreed text's SHA-256, its word shingles)."""
        with self.read() as db:
            return {r[0]: (r[1], set(json.loads(r[2]))) for r in db.execute("SELECT thread_id, text_sha256, shingles FROM agreed_copies")}

    def contracts_of(self, counterparty: str) -> list[ContractRecord]:
        with self.read() as db:
            rows = db.execute("SELECT * FROM contracts WHERE counterparty_key = ? ORDER BY effective_date",
                              (name_key(counterparty),)).fetchall()
        return [contract_of(r) for r in rows]

    def contracts_as_of(self, today: date, where: str = "", args: tuple | list = (), *, light: bool = False) -> list[ContractRecord]:
        """Contracts (without clauses) as of `today`: their current term, open and missed notice deadlines and status
        computed by the term ledger. `where`: an SQL condition on `contracts c`. `light`: only the columns the ledger
        and the lists need (no parties, citations or request), for views over the whole portfolio."""
        columns = ", ".join(f"c.{c}" for c in _LIGHT_COLUMNS) if light else "c.*"
        with self.read() as db:
            rows = db.execute(f"SELECT {columns} FROM contracts c {('WHERE ' + where) if where else ''} ORDER BY c.name",
                              list(args)).fetchall()
            given = self._notices_given(db)
        records = []
        for row in rows:
            record = _light_record(row) if light else contract_of(row)
            record.notice_given_on = given.get(record.contract_id)
            records.append(as_of(record, today))
        return records

    def statuses(self, today: date) -> dict[str, str]:
        """contract id -> status as of `today`."""
        return {r.contract_id: r.status for r in self.contracts_as_of(today, light=True)}

    def renewals(self, today: date, within_days: int | None, missed_days: int = 30) -> list[ContractRecord]:
        """Contracts not ended whose next open notice deadline falls in the next `within_days` (None: any time ahead),
        or, with none in the window, whose last deadline passed without notice in the last `missed_days` (shown once:
        after that the next term's deadline is the open one). Soonest first; `notice_deadline` is the one listed and
        `term_end` the end of the term it stops."""
        until = today + timedelta(days=within_days) if within_days is not None else date.max
        listed = []
        for record in self.contracts_as_of(today, "c.expiration_date IS NOT NULL OR c.term_end IS NOT NULL", light=True):
            if record.status in NOT_OF_RECORD or record.term_state == "ended":
                continue
            if record.notice_deadline is not None and record.notice_deadline <= until:
                record.term_end = record.deadline_term_end or record.term_end  # the term that notice stops
                listed.append(record)
            elif record.missed_deadline is not None and (today - record.missed_deadline).days <= missed_days:
                record.notice_deadline = record.missed_deadline
                listed.append(record)
        if not listed:
            return []
        # the listed ones in full (parties, citations, request), with the dates as listed
        full = {r.contract_id: r for r in self.contracts_as_of(
            today, f"c.contract_id IN ({','.join('?' for _ in listed)})", [r.contract_id for r in listed])}
        for record in listed:
            full[record.contract_id].notice_deadline = record.notice_deadline
            full[record.contract_id].term_end = record.term_end
        return sorted((full[r.contract_id] for r in listed), key=lambda r: (r.notice_deadline, r.name))

    def _notices_given(self, db) -> dict[str, date]:
        """contract id -> the day a notice of non-renewal was recorded (its renewal-notice obligation marked done)."""
        rows = db.execute("SELECT o.contract_id, MIN(COALESCE(e.on_date, substr(e.at, 1, 10))) FROM obligation_events e"
                          " JOIN obligations o ON o.obligation_id = e.obligation_id WHERE o.kind = 'notice to terminate'"
                          " AND e.status = 'done' GROUP BY o.contract_id").fetchall()
        return {r[0]: date.fromisoformat(r[1]) for r in rows if r[1]}

    # --- the clause vectors' bookkeeping (the vectors themselves are in Chroma: portfolio/clause_vectors.py) -------

    def stale_vectors(self) -> list[tuple[str, str]]:
        """(contract id, filed_at) of contracts whose clauses are not embedded as last filed."""
        with self.read() as db:
            return [(r[0], r[1]) for r in db.execute(
                "SELECT c.contract_id, c.filed_at FROM contracts c LEFT JOIN clause_vectors_state v ON v.contract_id ="
                " c.contract_id WHERE v.filed_at IS NULL OR v.filed_at != c.filed_at ORDER BY c.contract_id")]

    def mark_vectors(self, done: list[tuple[str, str]]) -> None:
        with self.transaction() as db:
            db.executemany("INSERT INTO clause_vectors_state (contract_id, filed_at) VALUES (?, ?)"
                           " ON CONFLICT (contract_id) DO UPDATE SET filed_at = excluded.filed_at", done)
            db.execute("UPDATE clause_vectors_version SET version = version + 1 WHERE id = 1")

    def vectors_version(self) -> int:
        """Changes whenever any process writes clause vectors: a reader holding an older Chroma view reopens it."""
        with self.read() as db:
            return db.execute("SELECT version FROM clause_vectors_version WHERE id = 1").fetchone()[0]

    # --- obligations ----------------------------------------------------------------------------------

    def obligations(self, today: date, *, status: str | None = "open", due_before: date | None = None,
                    contract_id: str | None = None, counterparty: str | None = None,
                    in_force_only: bool = False) -> list[tuple[Obligation, str]]:
        """Obligations as of `today` with their contract's name, soonest due first (undated ones last). A recurring
        duty is due at its next occurrence not yet marked (or the last one, overdue, when it fell after the contract
        was filed and nobody marked it); the renewal notice at the term ledger's open deadline; a one-off duty dated
        before the contract's current term is history, not overdue. `in_force_only`: contracts not ended on `today`."""
        where, args = [], []
        if contract_id:
            where.append("o.contract_id = ?")
            args.append(contract_id)
        if counterparty:
            where.append("c.counterparty_key = ?")
            args.append(name_key(counterparty))
        condition = ("WHERE " + " AND ".join(where)) if where else ""
        with self.read() as db:
            rows = db.execute(f"SELECT o.*, c.name AS contract_name FROM obligations o JOIN contracts c ON c.contract_id ="
                              f" o.contract_id {condition}", args).fetchall()
            marked: dict[str, dict[date, tuple[str, str, str]]] = {}
            for e in db.execute("SELECT obligation_id, due_date, status, who, at FROM obligation_events"
                                " WHERE due_date IS NOT NULL ORDER BY id"):
                marked.setdefault(e[0], {})[date.fromisoformat(e[1])] = (e[2], e[3], e[4])
        ids = sorted({r["contract_id"] for r in rows})
        contracts = {c.contract_id: c for c in self.contracts_as_of(
            today, f"c.contract_id IN ({','.join('?' for _ in ids)})", ids, light=True)} if ids else {}
        found = []
        for row in rows:
            contract = contracts.get(row["contract_id"])
            if contract is None or contract.status in ("superseded", "signature invalid") or (
                    in_force_only and (contract.status in NOT_OF_RECORD or contract.term_state == "ended")):
                continue
            marks = marked.get(row["obligation_id"], {})
            shown = [_as_of(_obligation_of(row), contract, marks, today)]
            if row["recurrence"] in _RECURRING and marks and row["recurrence"] != "each term":
                last = max(marks)  # the latest occurrence a person marked, listed under its mark
                shown.append(_obligation_of(row).model_copy(update={
                    "due_date": last, "status": marks[last][0], "decided_by": marks[last][1], "decided_at": marks[last][2]}))
            for obligation in shown:
                if obligation is None or (status and obligation.status != status):
                    continue
                if due_before and (obligation.due_date is None or obligation.due_date > due_before):
                    continue
                if not any(o.obligation_id == obligation.obligation_id and o.due_date == obligation.due_date for o, _ in found):
                    found.append((obligation, row["contract_name"]))
        return sorted(found, key=lambda f: (f[0].due_date is None, f[0].due_date or date.max, f[1]))

    def mark_obligation(self, obligation_id: str, status: str, who: str, note: str | None = None,
                        today: date | None = None, due: date | None = None) -> Obligation:
        """Mark an obligation done or missed (or open again), with who and when, in the obligation's history. A
        recurring duty (and the renewal notice) is marked for one occurrence: `due`, the one the person saw, else the
        one due as of `today`; the next one stays open."""
        if status not in ("done", "missed", "open"):
            raise ValueError(f"an obligation is marked done, missed or open, not {status!r}")
        today = today or date.today()
        at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        contract_id = self.obligation_contract(obligation_id)
        if contract_id is None:
            raise KeyError(f"no obligation {obligation_id}")
        current = None if due else next((o for o, _ in self.obligations(today, status=None, contract_id=contract_id)
                                         if o.obligation_id == obligation_id), None)  # the occurrence due today
        with self.transaction() as db:
            row = db.execute("SELECT * FROM obligations WHERE obligation_id = ?", (obligation_id,)).fetchone()
            if row is None:
                raise KeyError(f"no obligation {obligation_id}")
            occurrence = due or (current.due_date if current is not None else None)
            by_occurrence = row["recurrence"] in _RECURRING and occurrence is not None
            if not by_occurrence:
                db.execute("UPDATE obligations SET status = ?, decided_by = ?, decided_at = ? WHERE obligation_id = ?",
                           (status, who, at, obligation_id))
            db.execute("INSERT INTO obligation_events (obligation_id, status, who, at, note, due_date, on_date)"
                       " VALUES (?,?,?,?,?,?,?)", (obligation_id, status, who, at, note,
                                                   occurrence.isoformat() if by_occurrence else None, today.isoformat()))
            row = db.execute("SELECT * FROM obligations WHERE obligation_id = ?", (obligation_id,)).fetchone()
        marked = _obligation_of(row)
        if by_occurrence:
            marked.status, marked.decided_by, marked.decided_at, marked.due_date = status, who, at, occurrence
        return marked

    def obligation_contract(self, obligation_id: str) -> str | None:
        with self.read() as db:
            row = db.execute("SELECT contract_id FROM obligations WHERE obligation_id = ?", (obligation_id,)).fetchone()
        return row[0] if row else None

    def obligation_history(self, obligation_id: str) -> list[dict]:
        with self.read() as db:
            return [dict(r) for r in db.execute("SELECT status, who, at, note FROM obligation_events WHERE obligation_id = ?"
                                                " ORDER BY id", (obligation_id,))]

    # --- suppliers, spend and flags -------------------------------------------------------------------

    def upsert_suppliers(self, suppliers: list[Supplier]) -> None:
        with self.transaction() as db:
            for s in suppliers:
                db.execute("INSERT INTO suppliers (supplier_id, name, aliases, tax_id, risk_tier) VALUES (?,?,?,?,?)"
                           " ON CONFLICT (supplier_id) DO UPDATE SET name = excluded.name, aliases = excluded.aliases,"
                           " tax_id = excluded.tax_id, risk_tier = excluded.risk_tier",
                           (s.supplier_id, s.name, json.dumps(s.aliases), s.tax_id, s.risk_tier))
                db.executemany("INSERT INTO supplier_names (name_key, supplier_id) VALUES (?,?)"
                               " ON CONFLICT (name_key) DO UPDATE SET supplier_id = excluded.supplier_id",
                               [(name_key(n), s.supplier_id) for n in [s.name, *s.aliases] if name_key(n)])

    def suppliers(self) -> list[Supplier]:
        with self.read() as db:
            return [Supplier(supplier_id=r["supplier_id"], name=r["name"], aliases=json.loads(r["aliases"]),
                             tax_id=r["tax_id"], risk_tier=r["risk_tier"]) for r in db.execute("SELECT * FROM suppliers")]

    def add_spend(self, lines: list[SpendLine], rates: dict[str, float] | None = None) -> int:
        """Insert ERP lines; a line already imported (same kind, supplier, numbers, date and amount) is skipped, so
        importing the same export twice, or an export that overlaps the last one, adds nothing twice. Identical lines
        within one export are each kept (the second is the export's own, and matching flags it). `rates`: the USD
        value of one unit of each currency, stored with the line as its amount in the reporting currency."""
        rates = rates or {"USD": 1.0}
        seen: dict[str, int] = defaultdict(int)
        rows = []
        for l in lines:
            key = _line_key(l)
            seen[key] += 1
            rate = rates.get(l.currency.upper())
            rows.append((key if seen[key] == 1 else f"{key}#{seen[key]}", l.kind, l.supplier, name_key(l.supplier),
                         l.po_number, l.invoice_number, l.date.isoformat(), l.amount, l.currency, l.description,
                         l.paid_date.isoformat() if l.paid_date else None, l.unit_price, l.item, l.source_file,
                         l.source_line, round(l.amount * rate, 2) if rate is not None else None))
        with self.transaction() as db:
            return db.executemany(  # the count of rows inserted: on both engines, summed over the rows given
                "INSERT INTO spend_lines (line_key, kind, supplier, supplier_key, po_number, invoice_number, date,"
                " amount, currency, description, paid_date, unit_price, item, source_file, source_line, reporting_amount)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (line_key) DO NOTHING", rows).rowcount

    def replace_flags(self, flags: list[SpendFlag], matches: list[tuple[int, str | None, str | None]]) -> None:
        """Store a matching run: each line's contract and reason, and the flags, replacing the last run's."""
        with self.transaction() as db:
            db.executemany("UPDATE spend_lines SET contract_id = ?, match_reason = ? WHERE line_id = ?",
                           [(contract, reason, line) for line, contract, reason in matches])
            db.execute("DELETE FROM spend_flags")
            db.executemany("INSERT INTO spend_flags (kind, detail, contract_id, supplier, line_id, citation, source)"
                           " VALUES (?,?,?,?,?,?,?)",
                           [(f.kind, f.detail, f.contract_id, f.supplier, f.line_id,
                             f.citation.model_dump_json() if f.citation else None, f.source) for f in flags])
            for f in flags:  # announced once per flag, however many matching runs find it again
                emit(db, "spend.flagged", {"kind": f.kind, "detail": f.detail, "contract_id": f.contract_id,
                                           "supplier": f.supplier, "source": f.source},
                     dedupe_key="spend:" + hashlib.sha256(f"{f.kind}|{f.contract_id}|{f.detail}".encode()).hexdigest()[:32])

    def announce(self, events: list[tuple[str, dict, str]]) -> None:
        """Webhook events found by a scheduled run (`alerts`): (event, payload, dedupe key), each announced once."""
        with self.transaction() as db:
            for event, payload, key in events:
                emit(db, event, payload, dedupe_key=key)

    def flags(self, *, contract_id: str | None = None, counterparty: str | None = None) -> list[SpendFlag]:
        where, args = [], []
        if contract_id:
            where.append("f.contract_id = ?")
            args.append(contract_id)
        if counterparty:
            where.append("(c.counterparty_key = ? OR f.supplier = ?)")
            args += [name_key(counterparty), counterparty]
        condition = ("WHERE " + " AND ".join(where)) if where else ""
        with self.read() as db:
            rows = db.execute(f"SELECT f.* FROM spend_flags f LEFT JOIN contracts c ON c.contract_id = f.contract_id"
                              f" {condition} ORDER BY f.kind, f.id", args).fetchall()
        return [SpendFlag(kind=r["kind"], detail=r["detail"], contract_id=r["contract_id"], supplier=r["supplier"],
                          line_id=r["line_id"], source=r["source"], citation=Span.model_validate_json(r["citation"]) if r["citation"] else None)
                for r in rows]

    def set_performance(self, contract_id: str, rows: list[tuple[str, float, float, int]]) -> None:
        with self.transaction() as db:
            db.executemany(_UPSERT_PERFORMANCE, [(contract_id, *r) for r in rows])

    def add_performance(self, rows) -> int:
        """Service-level results (PerformanceRow); a row naming a counterparty goes to its contract in force in that
        month (the latest one starting before it). Returns how many rows found a contract."""
        filed = 0
        with self.transaction() as db:
            for row in rows:
                contract_id = row.contract_id
                if contract_id is None:
                    month_start = f"{row.period}-01"
                    found = db.execute("SELECT contract_id FROM contracts WHERE counterparty_key = ? AND"
                                       " COALESCE(effective_date, '0000') <= ? ORDER BY effective_date DESC LIMIT 1",
                                       (name_key(row.counterparty), month_start)).fetchone()
                    contract_id = found[0] if found else None
                if contract_id is None or not db.execute("SELECT 1 FROM contracts WHERE contract_id = ?", (contract_id,)).fetchone():
                    continue
                db.execute(_UPSERT_PERFORMANCE, (contract_id, row.period, row.sla_target, row.sla_actual, row.incidents))
                filed += 1
        return filed

    def performance(self, contract_id: str) -> list[dict]:
        with self.read() as db:
            return [dict(r) for r in db.execute("SELECT period, sla_target, sla_actual, incidents FROM performance"
                                                " WHERE contract_id = ? ORDER BY period", (contract_id,))]


def _replace_open_obligations(db, contract_id: str, obligations: list[Obligation]) -> None:
    decided = {r[0] for r in db.execute("SELECT obligation_id FROM obligations WHERE contract_id = ? AND status != 'open'",
                                        (contract_id,))}
    db.execute("DELETE FROM obligations WHERE contract_id = ? AND status = 'open'", (contract_id,))
    db.executemany(
        "INSERT INTO obligations (obligation_id, contract_id, kind, owner_side, owner_name, summary, citation, due_date,"
        " recurrence, offset_days, anchor, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,'open')",
        [(o.obligation_id, contract_id, o.kind, o.owner_side, o.owner_name, o.summary, o.citation.model_dump_json(),
          o.due_date.isoformat() if o.due_date else None, o.recurrence, o.offset_days,
          o.anchor.isoformat() if o.anchor else None) for o in obligations if o.obligation_id not in decided])


_RECURRING = ("monthly", "quarterly", "yearly", "continuous", "each term")


def _as_of(obligation: Obligation, contract: ContractRecord, marks: dict[date, tuple[str, str, str]],
           today: date) -> Obligation | None:
    """The obligation's occurrence due as of `today` and its status (None: nothing to show)."""
    if obligation.recurrence == "each term":  # the notice of non-renewal: the ledger's deadline
        if contract.notice_given_on is not None:
            given = [(due, mark) for due, mark in marks.items() if mark[0] == "done"]
            obligation.status, obligation.due_date = "done", min(given)[0] if given else None
            if given:
                obligation.decided_by, obligation.decided_at = min(given)[1][1], min(given)[1][2]
            return obligation
        obligation.due_date = contract.notice_deadline
        if obligation.due_date is None:
            return None  # no deadline left: the contract ends without one
    elif obligation.recurrence in _RECURRING:
        rule = DueRule(recurrence=obligation.recurrence, offset_days=obligation.offset_days or 0,
                       anchor=obligation.anchor or contract.effective_date)
        previous, upcoming = occurrences_around(rule, today)
        for _ in range(24):  # occurrences already marked are done with: the next one is due
            if upcoming is None or upcoming not in marks:
                break
            upcoming = occurrences_around(rule, upcoming + timedelta(days=1))[1]
        filed = contract.filed_at.date() if contract.filed_at else today
        overdue = previous is not None and previous not in marks and previous >= filed
        obligation.due_date = previous if overdue else upcoming
    elif obligation.status == "open" and obligation.due_date and obligation.due_date < today:
        if obligation.due_date < (contract.term_start or today - timedelta(days=365)):
            return None  # a one-off duty of an earlier term: history, not an overdue item
    if obligation.due_date in marks:
        obligation.status, obligation.decided_by, obligation.decided_at = marks[obligation.due_date]
    return obligation


def _line_key(line: SpendLine) -> str:
    return "|".join([line.kind, name_key(line.supplier), line.po_number or "", line.invoice_number or "",
                     line.date.isoformat(), f"{line.amount:.2f}", line.item or ""])


def _contract_values(record: ContractRecord, now: str, version: str | None) -> dict:
    data = record.model_dump(mode="json", exclude={"clauses", "filed_at", "missed_deadline", "term_start", "deadline_term_end", "term_state", "notice_given_on"})
    data.update(parties=json.dumps(record.parties), po_numbers=json.dumps(record.po_numbers),
                citations=json.dumps({k: v.model_dump() for k, v in record.citations.items()}),
                request=record.request.model_dump_json() if record.request else None,
                signatures=json.dumps([c.model_dump(mode="json") for c in record.signatures]) if record.signatures else None,
                auto_renews=int(record.auto_renews), until_terminated=int(record.until_terminated), counterparty_key=name_key(record.counterparty),
                filed_at=now, review_version=version)
    return data


_LIGHT_COLUMNS = ("contract_id", "name", "source_file", "origin", "thread_id", "title", "contract_type", "counterparty",
                  "our_side", "risk", "status", "owner", "effective_date", "expiration_date", "term_end", "auto_renews",
                  "renewal_kind", "renewal_term_months", "renewal_count", "until_terminated", "notice_days", "notice_months",
                  "notice_fixed_day", "notice_deadline", "governing_law", "value", "not_to_exceed", "currency",
                  "recommended_action", "filed_at")


def _light_record(row) -> ContractRecord:
    """A record from the light columns: what the ledger and the portfolio's lists need."""
    data = {k: row[k] for k in row.keys() if k in ContractRecord.model_fields}
    data.update(auto_renews=bool(row["auto_renews"]), until_terminated=bool(row["until_terminated"]))
    return ContractRecord.model_validate(data)


def contract_of(row) -> ContractRecord:
    data = {k: row[k] for k in row.keys() if k in ContractRecord.model_fields}
    data.update(parties=json.loads(row["parties"]), po_numbers=json.loads(row["po_numbers"]),
                citations=json.loads(row["citations"]), auto_renews=bool(row["auto_renews"]),
                until_terminated=bool(row["until_terminated"]) if "until_terminated" in row.keys() else False,
                request=json.loads(row["request"]) if row["request"] else None,
                signatures=json.loads(row["signatures"]) if row["signatures"] else [])
    return ContractRecord.model_validate(data)


def _obligation_of(row) -> Obligation:
    return Obligation(obligation_id=row["obligation_id"], contract_id=row["contract_id"], kind=row["kind"],
                      owner_side=row["owner_side"], summary=row["summary"], citation=Span.model_validate_json(row["citation"]),
                      due_date=row["due_date"], recurrence=row["recurrence"], status=row["status"],
                      offset_days=row["offset_days"], anchor=row["anchor"], owner_name=row["owner_name"],
                      decided_by=row["decided_by"], decided_at=row["decided_at"])
