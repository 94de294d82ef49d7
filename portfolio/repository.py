"""The contract repository: one SQLite file (data/portfolio.sqlite), or the shared PostgreSQL database when
CLAUSEFLOW_DATABASE_URL is set, with every contract's metadata and clauses,
obligations and their history, the supplier master, ERP spend lines and the flags matching raised.

Contracts from reviews are derived (re-filed from the review when it changes); imported executed contracts,
obligation decisions, suppliers and spend are primary data kept only here.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone

from agents.schema import Span
from graphs.database import Store
from portfolio.records import ClauseRecord, ContractRecord, Filing, Obligation, SpendFlag, SpendLine, Supplier

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contracts (
    contract_id TEXT PRIMARY KEY, name TEXT NOT NULL, source_file TEXT NOT NULL, origin TEXT NOT NULL, thread_id TEXT,
    title TEXT, contract_type TEXT, parties TEXT NOT NULL, counterparty TEXT, counterparty_key TEXT, our_side TEXT,
    risk TEXT, status TEXT NOT NULL, owner TEXT, effective_date TEXT, expiration_date TEXT, term_end TEXT,
    auto_renews INTEGER NOT NULL DEFAULT 0, renewal_term_months REAL, notice_days INTEGER, notice_deadline TEXT,
    governing_law TEXT, value REAL, not_to_exceed REAL, currency TEXT, payment_terms_days INTEGER, liability_cap TEXT,
    liability_cap_amount REAL, minimum_commitment REAL, price_escalator_pct REAL, po_numbers TEXT NOT NULL,
    recommended_action TEXT, citations TEXT NOT NULL, filed_at TEXT NOT NULL, review_version TEXT, request TEXT,
    previous_version TEXT
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
    "auto_renews", "renewal_term_months", "notice_days", "notice_deadline", "governing_law", "value", "not_to_exceed",
    "currency", "payment_terms_days", "liability_cap", "liability_cap_amount", "minimum_commitment",
    "price_escalator_pct", "po_numbers", "recommended_action", "citations", "filed_at", "review_version", "request",
    "previous_version",
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

_STATUS_RANK = {"in review": 0, "finalised": 1, "executed": 2, "expired": 3, "terminated": 4}


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


def effective_status(today: date, prefix: str = "") -> str:
    """SQL for a contract's status on `today`: an executed or finalised contract past the end of a term that does
    not renew itself has expired. `prefix`: the table's alias with its dot ("c.")."""
    p = prefix
    return (f"CASE WHEN {p}status IN ('executed', 'finalised') AND {p}term_end IS NOT NULL AND {p}term_end <"
            f" '{today.isoformat()}' AND {p}auto_renews = 0 THEN 'expired' ELSE {p}status END")


class Repository(Store):
    lock_group = "portfolio"
    schema = _SCHEMA
    migrations = {"contracts": {"request": "TEXT", "previous_version": "TEXT"}}  # columns added after the first version

    # --- contracts ------------------------------------------------------------------------------------

    def file(self, filing: Filing) -> None:
        self.file_many([filing])

    def file_many(self, filings: list[Filing]) -> None:
        """Write contracts, replacing their clauses and open obligations, all in one commit. A contract already
        filed keeps the status a person set (terminated), its owner unless the new record names one, and the
        obligations a person marked done or missed. A status only moves forward (in review, finalised, executed,
        expired, terminated)."""
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
            return {r[0]: r[1] for r in db.execute("SELECT thread_id, review_version FROM contracts WHERE thread_id IS NOT NULL")}

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

    def contracts_of(self, counterparty: str) -> list[ContractRecord]:
        with self.read() as db:
            rows = db.execute("SELECT * FROM contracts WHERE counterparty_key = ? ORDER BY effective_date",
                              (name_key(counterparty),)).fetchall()
        return [contract_of(r) for r in rows]

    def renewals(self, today: date, within_days: int | None, missed_days: int = 30) -> list[ContractRecord]:
        """Contracts in force whose notice deadline falls in the next `within_days` (None: any time ahead) or passed
        in the last `missed_days`, soonest first."""
        until = (today + timedelta(days=within_days)).isoformat() if within_days is not None else "9999-12-31"
        with self.read() as db:
            rows = db.execute(f"SELECT * FROM contracts WHERE notice_deadline BETWEEN ? AND ? AND ({effective_status(today)})"
                              " NOT IN ('expired', 'terminated') ORDER BY notice_deadline, name",
                              ((today - timedelta(days=missed_days)).isoformat(), until)).fetchall()
        return [contract_of(r) for r in rows]

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

    def obligations(self, *, status: str | None = "open", due_before: date | None = None,
                    contract_id: str | None = None, counterparty: str | None = None,
                    in_force_on: date | None = None) -> list[tuple[Obligation, str]]:
        """Obligations with their contract's name, soonest due first (undated ones last). `in_force_on`: only
        those of contracts not expired or terminated on that day."""
        where, args = [], []
        if in_force_on:
            where.append(f"({effective_status(in_force_on, 'c.')}) NOT IN ('expired', 'terminated')")
        if status:
            where.append("o.status = ?")
            args.append(status)
        if due_before:
            where.append("o.due_date IS NOT NULL AND o.due_date <= ?")
            args.append(due_before.isoformat())
        if contract_id:
            where.append("o.contract_id = ?")
            args.append(contract_id)
        if counterparty:
            where.append("c.counterparty_key = ?")
            args.append(name_key(counterparty))
        condition = ("WHERE " + " AND ".join(where)) if where else ""
        with self.read() as db:
            rows = db.execute(f"SELECT o.*, c.name AS contract_name FROM obligations o JOIN contracts c ON c.contract_id ="
                              f" o.contract_id {condition} ORDER BY o.due_date IS NULL, o.due_date, c.name", args).fetchall()
        return [(_obligation_of(r), r["contract_name"]) for r in rows]

    def mark_obligation(self, obligation_id: str, status: str, who: str, note: str | None = None) -> Obligation:
        """Mark an obligation done or missed (or open again), with who and when, in the obligation's history."""
        if status not in ("done", "missed", "open"):
            raise ValueError(f"an obligation is marked done, missed or open, not {status!r}")
        at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.transaction() as db:
            if db.execute("UPDATE obligations SET status = ?, decided_by = ?, decided_at = ? WHERE obligation_id = ?",
                          (status, who, at, obligation_id)).rowcount != 1:
                raise KeyError(f"no obligation {obligation_id}")
            db.execute("INSERT INTO obligation_events (obligation_id, status, who, at, note) VALUES (?,?,?,?,?)",
                       (obligation_id, status, who, at, note))
            row = db.execute("SELECT * FROM obligations WHERE obligation_id = ?", (obligation_id,)).fetchone()
        return _obligation_of(row)

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

    def add_spend(self, lines: list[SpendLine]) -> int:
        """Insert ERP lines; a line already imported (same kind, supplier, numbers, date and amount) is skipped, so
        importing the same export twice, or an export that overlaps the last one, adds nothing twice."""
        with self.transaction() as db:
            return db.executemany(  # the count of rows inserted: on both engines, summed over the rows given
                "INSERT INTO spend_lines (line_key, kind, supplier, supplier_key, po_number, invoice_number, date,"
                " amount, currency, description, paid_date, unit_price, item) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (line_key) DO NOTHING",
                [(_line_key(l), l.kind, l.supplier, name_key(l.supplier), l.po_number, l.invoice_number, l.date.isoformat(),
                  l.amount, l.currency, l.description, l.paid_date.isoformat() if l.paid_date else None, l.unit_price,
                  l.item) for l in lines]).rowcount

    def replace_flags(self, flags: list[SpendFlag], matches: list[tuple[int, str | None, str | None]]) -> None:
        """Store a matching run: each line's contract and reason, and the flags, replacing the last run's."""
        with self.transaction() as db:
            db.executemany("UPDATE spend_lines SET contract_id = ?, match_reason = ? WHERE line_id = ?",
                           [(contract, reason, line) for line, contract, reason in matches])
            db.execute("DELETE FROM spend_flags")
            db.executemany("INSERT INTO spend_flags (kind, detail, contract_id, supplier, line_id, citation) VALUES (?,?,?,?,?,?)",
                           [(f.kind, f.detail, f.contract_id, f.supplier, f.line_id,
                             f.citation.model_dump_json() if f.citation else None) for f in flags])

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
                          line_id=r["line_id"], citation=Span.model_validate_json(r["citation"]) if r["citation"] else None)
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
        "INSERT INTO obligations (obligation_id, contract_id, kind, owner_side, summary, citation, due_date, recurrence,"
        " status) VALUES (?,?,?,?,?,?,?,?,'open')",
        [(o.obligation_id, contract_id, o.kind, o.owner_side, o.summary, o.citation.model_dump_json(),
          o.due_date.isoformat() if o.due_date else None, o.recurrence) for o in obligations if o.obligation_id not in decided])


def _line_key(line: SpendLine) -> str:
    return "|".join([line.kind, name_key(line.supplier), line.po_number or "", line.invoice_number or "",
                     line.date.isoformat(), f"{line.amount:.2f}", line.item or ""])


def _contract_values(record: ContractRecord, now: str, version: str | None) -> dict:
    data = record.model_dump(mode="json", exclude={"clauses", "filed_at"})
    data.update(parties=json.dumps(record.parties), po_numbers=json.dumps(record.po_numbers),
                citations=json.dumps({k: v.model_dump() for k, v in record.citations.items()}),
                request=record.request.model_dump_json() if record.request else None,
                auto_renews=int(record.auto_renews), counterparty_key=name_key(record.counterparty),
                filed_at=now, review_version=version)
    return data


def contract_of(row) -> ContractRecord:
    data = {k: row[k] for k in row.keys() if k in ContractRecord.model_fields}
    data.update(parties=json.loads(row["parties"]), po_numbers=json.loads(row["po_numbers"]),
                citations=json.loads(row["citations"]), auto_renews=bool(row["auto_renews"]),
                request=json.loads(row["request"]) if row["request"] else None)
    return ContractRecord.model_validate(data)


def _obligation_of(row) -> Obligation:
    return Obligation(obligation_id=row["obligation_id"], contract_id=row["contract_id"], kind=row["kind"],
                      owner_side=row["owner_side"], summary=row["summary"], citation=Span.model_validate_json(row["citation"]),
                      due_date=row["due_date"], recurrence=row["recurrence"], status=row["status"],
                      decided_by=row["decided_by"], decided_at=row["decided_at"])
