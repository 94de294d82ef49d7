"""Searching the repository: filters in SQL, words in the clauses through SQLite FTS5, and a plain-English query
read into both ("uncapped liability in SaaS contracts renewing next quarter": type saas, liability uncapped, term
ending next quarter). Every hit cites a clause span of the contract it names.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, Field

from portfolio.ledger import as_of
from portfolio.repository import Repository, contract_of, name_key
from portfolio.query_reader import TOPIC_BY_KEY, ContractQuery, parse_query  # noqa: F401 (parse_query: the search's reader)
from portfolio.records import WHOLE_TEXT, ContractRecord

class ContractHit(BaseModel):
    contract: ContractRecord
    category: str | None = None
    start: int | None = None
    end: int | None = None
    snippet: str = Field(default="", description="the cited clause, matched words in [brackets]")
    similarity: float | None = Field(default=None, description="for a hit by meaning: cosine similarity to the query")


def _filters(query: ContractQuery, today: date, repository: Repository) -> tuple[str, list]:
    """The query's filters as SQL conditions on `contracts c` (" AND …"), with their arguments. Status, term end and
    notice deadline are as of `today` (the term ledger), so they are matched here and passed as contract ids."""
    where, args = [], []
    if query.status or query.term_end_from or query.term_end_to or query.notice_from or query.notice_to:
        # the ledger runs only over the contracts of the query's type, when it names one
        narrow, narrow_args = ("c.contract_type = ?", [query.contract_type]) if query.contract_type else ("", [])
        ids = [c.contract_id for c in repository.contracts_as_of(today, narrow, narrow_args, light=True) if _dated_match(c, query)]
        where.append(f"c.contract_id IN ({','.join('?' for _ in ids) or 'NULL'})")
        args += ids
    if query.contract_type:
        where.append("c.contract_type = ?")
        args.append(query.contract_type)
    if query.counterparty:
        keys = counterparty_keys(repository, query.counterparty)
        where.append(f"c.counterparty_key IN ({','.join('?' for _ in keys) or 'NULL'})")
        args += keys
    if query.value_min is not None:
        where.append("COALESCE(c.value, c.not_to_exceed) >= ?")
        args.append(query.value_min)
    if query.value_max is not None:
        where.append("COALESCE(c.value, c.not_to_exceed) <= ?")
        args.append(query.value_max)
    if query.governing_law:
        where.append("LOWER(c.governing_law) LIKE ?")  # LOWER: PostgreSQL's LIKE minds case, SQLite's does not
        args.append(f"%{query.governing_law.lower()}%")
    if query.has_clause:
        where.append("EXISTS (SELECT 1 FROM contract_clauses k WHERE k.contract_id = c.contract_id AND k.category = ?)")
        args.append(query.has_clause)
    if query.uncapped:
        where.append("(c.liability_cap = 'uncapped' OR EXISTS (SELECT 1 FROM contract_clauses k WHERE k.contract_id ="
                     " c.contract_id AND k.category = 'Uncapped Liability'))")
    return "".join(f" AND {w}" for w in where), args


def counterparty_keys(repository: Repository, name: str) -> list[str]:
    """The filed counterparties a name in a query means: the same name or a short form of it ('Acme' for 'Acme
    Hosting Inc.'), its initials ('IBM' for 'International Business Machines Corporation'), or any name the supplier
    master lists for the same supplier."""
    wanted = name_key(name)
    if not wanted:
        return []
    with repository.read() as db:
        filed = {r[0] for r in db.execute("SELECT DISTINCT counterparty_key FROM contracts WHERE counterparty_key != ''")}
        supplier = db.execute("SELECT supplier_id FROM supplier_names WHERE name_key = ?", (wanted,)).fetchone()
        aliases = {r[0] for r in db.execute("SELECT name_key FROM supplier_names WHERE supplier_id = ?", (supplier[0],))} \
            if supplier else set()
    found = []
    for key in sorted(filed):
        words = key.split()
        initials = "".join(w[0] for w in words if w not in ("of", "and", "the", "for"))
        if (key in aliases or f" {wanted} " in f" {key} " or (len(wanted) >= 2 and " " not in wanted and wanted == initials)):
            found.append(key)
    return found


def _dated_match(contract: ContractRecord, query: ContractQuery) -> bool:
    """The contract (as of the query's day) meets the query's status, term-end and notice-deadline filters."""
    if query.status and contract.status != query.status:
        return False
    for value, low, high in ((contract.term_end, query.term_end_from, query.term_end_to),
                             (contract.notice_deadline, query.notice_from, query.notice_to)):
        if (low or high) and (value is None or (low and value < low) or (high and value > high)):
            return False
    return True


def search_contracts(repository: Repository, query: ContractQuery, today: date) -> list[ContractHit]:
    """Contracts passing the filters; with words or a clause kind, ranked by the best matching clause (BM25), one hit
    per contract. A clause kind ("change of control") is looked for by the words contracts use for it, in the clauses
    filed under it first, then in any clause, then any contract with a clause filed under it."""
    condition, args = _filters(query, today, repository)
    words = re.findall(r"\w+", (query.words or "").lower())[:12]
    topics = [TOPIC_BY_KEY[k] for k in query.topics if k in TOPIC_BY_KEY]
    records: dict[str, ContractRecord] = {}  # as of today, each contract worked out once
    with repository.read() as db:
        if (words or topics) and repository.dialect == "postgres":  # English stemming and ranking, as FTS5's
            terms = " ".join(words + [w for t in topics for w in t.key.split()])
            rows = db.execute(
                "SELECT c.*, k.category AS hit_category, k.start AS hit_start, k.\"end\" AS hit_end,"
                " ts_headline('english', k.text, q, 'StartSel=[,StopSel=],MaxWords=24,MinWords=8') AS hit_snippet"
                " FROM contract_clauses k CROSS JOIN plainto_tsquery('english', ?) q"
                f" JOIN contracts c ON c.contract_id = k.contract_id WHERE k.words @@ q{condition}"
                " ORDER BY ts_rank(k.words, q) DESC, k.id LIMIT ?", [terms, *args, query.limit * 5]).fetchall()
        elif words or topics:
            rows = _ranked_clauses(db, words, topics, condition, args, query.limit)
        else:
            rows = []
        if topics and len({r["contract_id"] for r in rows}) < query.limit:  # filed under the kind, words or not
            kinds = [c for t in topics for c in t.categories] or ["—"]
            rows += _by_term_end(db.execute(
                f"SELECT c.* FROM contracts c WHERE EXISTS (SELECT 1 FROM contract_clauses k WHERE k.contract_id ="
                f" c.contract_id AND k.category IN ({','.join('?' for _ in kinds)})){condition}", [*kinds, *args]).fetchall(), today,
                records)
        elif not words and not topics:
            rows = _by_term_end(db.execute(f"SELECT c.* FROM contracts c WHERE 1=1{condition}", args).fetchall(), today, records)
    hits, seen = [], set()
    for row in rows:
        if row["contract_id"] in seen:
            continue
        seen.add(row["contract_id"])
        record = records.get(row["contract_id"]) or as_of(contract_of(row), today)
        if "hit_category" in row.keys():
            hits.append(ContractHit(contract=record, category=None if row["hit_category"] == WHOLE_TEXT else row["hit_category"],
                                    start=row["hit_start"], end=row["hit_end"], snippet=row["hit_snippet"]))
        else:
            hits.append(_cited(record, query, repository))
        if len(hits) >= query.limit:
            break
    return hits


def _ranked_clauses(db, words: list[str], topics, condition: str, args: list, limit: int) -> list:
    """FTS5 passes, best first: the kind's words and the query's words in clauses filed under the kind, then in any
    clause (the whole text is indexed), then the kind's words alone. The query's words are each quoted, so no FTS
    syntax from a user reaches SQLite; the kinds' expressions are the module's own."""
    said = " ".join(f'"{w}"' for w in words)
    kind_words = " OR ".join(f"({t.words})" for t in topics)
    categories = [c for t in topics for c in t.categories]
    passes: list[tuple[str, list[str]]] = []
    if topics:
        both = f"({kind_words}) AND {said}" if said else f"({kind_words})"
        if categories:
            passes.append((both, categories))
        passes.append((both, []))
        if said:
            passes += [(f"({kind_words})", categories)] if categories else []
            passes.append((f"({kind_words})", []))
    else:
        passes.append((said, []))
    rows: list = []
    for expression, within in passes:
        kind = f" AND k.category IN ({','.join('?' for _ in within)})" if within else ""
        rows += db.execute(
            "SELECT c.*, k.category AS hit_category, k.start AS hit_start, k.\"end\" AS hit_end,"
            " snippet(clause_fts, 1, '[', ']', '…', 24) AS hit_snippet, bm25(clause_fts) AS rank"
            " FROM clause_fts JOIN contract_clauses k ON k.id = clause_fts.rowid"
            f" JOIN contracts c ON c.contract_id = k.contract_id WHERE clause_fts MATCH ?{kind}{condition}"
            " ORDER BY rank LIMIT ?", [expression, *within, *args, limit * 5]).fetchall()
        if len({r["contract_id"] for r in rows}) >= limit:
            break
    return rows


def _by_term_end(rows: list, today: date, records: dict[str, ContractRecord]) -> list:
    """Soonest term end first, as of today (the stored one is as filed); each row's record is kept in `records`."""
    for row in rows:
        if row["contract_id"] not in records:
            records[row["contract_id"]] = as_of(contract_of(row), today)
    return sorted(rows, key=lambda r: (lambda c: (c.term_end is None, c.term_end or date.max, c.name))(records[r["contract_id"]]))


def find_contracts(repository: Repository, vectors, query: ContractQuery, today: date, *,
                   meaning: bool = False) -> tuple[list[ContractHit], bool]:
    """(hits, by meaning?): by the clauses' words, or by meaning when asked for or when no clause has every word. A
    query of filters only (a law, a counterparty) has nothing to compare by meaning: its filters answer it."""
    hits = [] if meaning and query.meaning_text else search_contracts(repository, query, today)
    by_meaning = bool(query.meaning_text) and (meaning or not hits)
    if by_meaning:
        hits = search_by_meaning(repository, vectors, query, today)
    return hits, by_meaning


MEANING_FLOOR = 0.35  # cosine similarity under which a clause is not offered as "by meaning"
# and how far below the best clause one may be: a weak tail is noise (chosen on the judged queries' meaning run,
# evals/reports/search: precision@5 0.65 -> 0.74, recall@5 0.76 -> 0.69)
MEANING_MARGIN = 0.15


def search_by_meaning(repository: Repository, vectors, query: ContractQuery, today: date) -> list[ContractHit]:
    """Contracts passing the filters whose clauses are closest in meaning to the query's words (Chroma), one hit per
    contract, each citing the clause. `vectors`: a ClauseVectors, caught up first."""
    if not query.meaning_text:
        return []
    vectors.catch_up(repository)
    found = vectors.query(repository, query.meaning_text, limit=max(200, query.limit * 20))
    best = max((h.similarity for h in found), default=0.0)
    found = [h for h in found if h.similarity >= max(MEANING_FLOOR, best - MEANING_MARGIN)]
    if not found:
        return []
    condition, args = _filters(query, today, repository)
    ids = list(dict.fromkeys(h.contract_id for h in found))
    with repository.read() as db:
        rows = {r["contract_id"]: r for r in db.execute(
            f"SELECT c.* FROM contracts c WHERE c.contract_id IN ({','.join('?' for _ in ids)}){condition}", [*ids, *args])}
    hits, seen = [], set()
    for hit in found:  # best first
        if hit.contract_id in seen or hit.contract_id not in rows:
            continue
        seen.add(hit.contract_id)
        record = as_of(contract_of(rows[hit.contract_id]), today)
        hits.append(ContractHit(contract=record, category=hit.category, start=hit.start, end=hit.end,
                                snippet=hit.text[:300], similarity=hit.similarity))
        if len(hits) >= query.limit:
            break
    return hits


def _cited(record: ContractRecord, query: ContractQuery, repository: Repository) -> ContractHit:
    """A filter-only hit cites the clause its strongest filter rests on."""
    if query.has_clause or query.topics:
        kinds = [query.has_clause] if query.has_clause else [c for k in query.topics for c in TOPIC_BY_KEY[k].categories]
        with repository.read() as db:
            clause = db.execute('SELECT category, start, "end", text FROM contract_clauses WHERE contract_id = ? AND category'
                                f" IN ({','.join('?' for _ in kinds)}) ORDER BY start LIMIT 1", (record.contract_id, *kinds)).fetchone()
        return ContractHit(contract=record, category=clause["category"], start=clause["start"], end=clause["end"],
                           snippet=clause["text"][:300])
    field = ("liability_cap" if query.uncapped else "governing_law" if query.governing_law else
             "notice_days" if query.notice_from or query.notice_to else "term_end" if query.term_end_from or query.term_end_to
             else "value" if query.value_min is not None or query.value_max is not None else None)
    span = record.citations.get(field) if field else None
    if span is None:
        span = next(iter(record.citations.values()), None)
        field = next(iter(record.citations), None)
    if span is None:
        return ContractHit(contract=record)
    return ContractHit(contract=record, category=field, start=span.start, end=span.end, snippet=span.quote[:300])
