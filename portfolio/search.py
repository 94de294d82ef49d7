"""Searching the repository: filters in SQL, words in the clauses through SQLite FTS5, and a plain-English query
read into both ("uncapped liability in SaaS contracts renewing next quarter": type saas, liability uncapped, term
ending next quarter). Every hit cites a clause span of the contract it names.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, Field

from portfolio.ledger import as_of
from portfolio.repository import Repository, contract_of, name_key
from portfolio.records import ContractRecord

_TYPES = {"saas": "saas", "nda": "nda", "ndas": "nda", "msa": "msa", "msas": "msa", "dpa": "dpa", "sow": "sow",
          "licence": "licence", "license": "licence", "licensing": "licence", "supply": "supply",
          "distribution": "distribution", "reseller": "reseller", "services": "services", "franchise": "franchise",
          "lease": "lease", "employment": "employment"}
_STATUSES = {"expired": "expired", "executed": "executed", "terminated": "terminated", "finalised": "finalised",
             "finalized": "finalised"}
_STOP = set("a an the in on of for to and or with that which are is be contracts contract agreements agreement "
            "all any our show me find list where have has having renewing renew renews expiring expire expires ending "
            "end ends next this within days weeks months quarter year clause clauses".split())


class ContractQuery(BaseModel):
    words: str | None = Field(default=None, max_length=300, description="words to find in the clauses (all, stemmed)")
    contract_type: str | None = None
    counterparty: str | None = None
    status: str | None = None
    term_end_from: date | None = None
    term_end_to: date | None = None
    notice_from: date | None = None
    notice_to: date | None = None
    value_min: float | None = None
    value_max: float | None = None
    governing_law: str | None = None
    has_clause: str | None = Field(default=None, description="a clause category the contract must have")
    uncapped: bool = False
    limit: int = Field(default=20, ge=1, le=500)


    def read_as(self) -> dict:
        """The filters and words this query states (for showing how a plain-English query was read)."""
        return {k: v for k, v in self.model_dump(exclude={"limit"}).items() if v not in (None, False)}


class ContractHit(BaseModel):
    contract: ContractRecord
    category: str | None = None
    start: int | None = None
    end: int | None = None
    snippet: str = Field(default="", description="the cited clause, matched words in [brackets]")
    similarity: float | None = Field(default=None, description="for a hit by meaning: cosine similarity to the query")


def parse_query(text: str, today: date) -> ContractQuery:
    """Read the filters a plain-English query states; the words left over are searched in the clauses."""
    query, rest = ContractQuery(), " " + text + " "

    def take(pattern: str) -> re.Match | None:
        nonlocal rest
        match = re.search(pattern, rest, re.I)
        if match:
            rest = rest[:match.start()] + " " + rest[match.end():]
        return match

    if take(r"\b(?:uncapped|unlimited)\s+liability\b|\bliability\s+(?:is\s+)?(?:uncapped|unlimited)\b"):
        query.uncapped = True
    if m := take(r"\bgoverned\s+by\s+(?:the\s+laws?\s+of\s+)?(?P<law>[A-Za-z ]+?)\s+law\b|\b(?P<law2>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\s+law\b"):
        query.governing_law = (m.group("law") or m.group("law2")).strip()
    if m := take(r"\b(?:over|above|more\s+than|at\s+least)\s+(?:USD|\$|€|£|EUR|GBP)?\s?(?P<n>[\d,.]+)\s*(?P<k>k|m|million|thousand)?\b"):
        query.value_min = _amount(m.group("n"), m.group("k"))
    if m := take(r"\b(?:under|below|less\s+than)\s+(?:USD|\$|€|£|EUR|GBP)?\s?(?P<n>[\d,.]+)\s*(?P<k>k|m|million|thousand)?\b"):
        query.value_max = _amount(m.group("n"), m.group("k"))
    if m := take(r"\bwith\s+(?P<who>[A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*){0,3})"):
        query.counterparty = m.group("who")
    notice = bool(re.search(r"\bnotice\s+(?:deadline|due)", rest, re.I))
    if m := take(r"\b(?:renew\w*|expir\w*|end\w*|notice\s+(?:deadline|due)s?)\s+(?:(?:in|within)\s+(?:the\s+)?)?"
                 r"(?P<when>next\s+quarter|this\s+quarter|next\s+month|this\s+month|next\s+year|this\s+year|"
                 r"(?:next\s+)?(?P<n>\d{1,3})\s+(?P<unit>days?|weeks?|months?))\b"):
        start, end = _window(m, today)
        if notice:
            query.notice_from, query.notice_to = start, end
        else:
            query.term_end_from, query.term_end_to = start, end
    for word in re.findall(r"[A-Za-z]+", rest):
        if (w := word.lower()) in _TYPES and query.contract_type is None:
            query.contract_type = _TYPES[w]
            rest = re.sub(rf"\b{word}\b", " ", rest, count=1)
        elif w in _STATUSES and query.status is None:
            query.status = _STATUSES[w]
            rest = re.sub(rf"\b{word}\b", " ", rest, count=1)
    words = [w for w in re.findall(r"\w+", rest.lower()) if w not in _STOP and len(w) > 1]
    query.words = " ".join(words) or None
    return query


def _amount(number: str, scale: str | None) -> float:
    value = float(number.replace(",", "").rstrip("."))
    return value * {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}.get((scale or "").lower(), 1)


def _window(match: re.Match, today: date) -> tuple[date, date]:
    when = " ".join(match.group("when").lower().split())
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    month_start = today.replace(day=1)
    if when == "next quarter":
        start = quarter_start + relativedelta(months=3)
        return start, start + relativedelta(months=3) - timedelta(days=1)
    if when == "this quarter":
        return today, quarter_start + relativedelta(months=3) - timedelta(days=1)
    if when == "next month":
        start = month_start + relativedelta(months=1)
        return start, start + relativedelta(months=1) - timedelta(days=1)
    if when == "this month":
        return today, month_start + relativedelta(months=1) - timedelta(days=1)
    if when == "next year":
        return date(today.year + 1, 1, 1), date(today.year + 1, 12, 31)
    if when == "this year":
        return today, date(today.year, 12, 31)
    n, unit = int(match.group("n")), match.group("unit").lower().rstrip("s")
    return today, today + {"day": relativedelta(days=n), "week": relativedelta(weeks=n), "month": relativedelta(months=n)}[unit]


def _filters(query: ContractQuery, today: date, repository: Repository) -> tuple[str, list]:
    """The query's filters as SQL conditions on `contracts c` (" AND …"), with their arguments. Status, term end and
    notice deadline are as of `today` (the term ledger), so they are matched here and passed as contract ids."""
    where, args = [], []
    if query.status or query.term_end_from or query.term_end_to or query.notice_from or query.notice_to:
        ids = [c.contract_id for c in repository.contracts_as_of(today) if _dated_match(c, query)]
        where.append(f"c.contract_id IN ({','.join('?' for _ in ids) or 'NULL'})")
        args += ids
    if query.contract_type:
        where.append("c.contract_type = ?")
        args.append(query.contract_type)
    if query.counterparty:
        where.append("c.counterparty_key LIKE ?")
        args.append(f"%{name_key(query.counterparty)}%")
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
    """Contracts passing the filters; with words, ranked by the best matching clause (BM25), one hit per contract."""
    condition, args = _filters(query, today, repository)
    words = re.findall(r"\w+", (query.words or "").lower())[:12]
    with repository.read() as db:
        if words and repository.dialect == "postgres":  # English stemming and ranking, as FTS5's porter and bm25
            rows = db.execute(
                "SELECT c.*, k.category AS hit_category, k.start AS hit_start, k.\"end\" AS hit_end,"
                " ts_headline('english', k.text, q, 'StartSel=[,StopSel=],MaxWords=24,MinWords=8') AS hit_snippet"
                " FROM contract_clauses k CROSS JOIN plainto_tsquery('english', ?) q"
                f" JOIN contracts c ON c.contract_id = k.contract_id WHERE k.words @@ q{condition}"
                " ORDER BY ts_rank(k.words, q) DESC, k.id LIMIT ?", [" ".join(words), *args, query.limit * 5]).fetchall()
        elif words:  # each word quoted: no FTS syntax from the user reaches SQLite
            match = " ".join(f'"{w}"' for w in words)
            rows = db.execute(
                "SELECT c.*, k.category AS hit_category, k.start AS hit_start, k.\"end\" AS hit_end,"
                " snippet(clause_fts, 1, '[', ']', '…', 24) AS hit_snippet, bm25(clause_fts) AS rank"
                " FROM clause_fts JOIN contract_clauses k ON k.id = clause_fts.rowid"
                f" JOIN contracts c ON c.contract_id = k.contract_id WHERE clause_fts MATCH ?{condition}"
                " ORDER BY rank LIMIT ?", [match, *args, query.limit * 5]).fetchall()
        else:
            rows = db.execute(f"SELECT c.* FROM contracts c WHERE 1=1{condition}", args).fetchall()
            # soonest term end first, as of today (the stored one is as filed)
            rows = sorted(rows, key=lambda r: (lambda c: (c.term_end is None, c.term_end or date.max, c.name))(
                as_of(contract_of(r), today)))
    hits, seen = [], set()
    for row in rows:
        if row["contract_id"] in seen:
            continue
        seen.add(row["contract_id"])
        record = as_of(contract_of(row), today)
        if words:
            hits.append(ContractHit(contract=record, category=row["hit_category"], start=row["hit_start"],
                                    end=row["hit_end"], snippet=row["hit_snippet"]))
        else:
            hits.append(_cited(record, query, repository))
        if len(hits) >= query.limit:
            break
    return hits


def find_contracts(repository: Repository, vectors, query: ContractQuery, today: date, *,
                   meaning: bool = False) -> tuple[list[ContractHit], bool]:
    """(hits, by meaning?): by the clauses' words, or by meaning when asked for or when no clause has every word."""
    hits = [] if meaning else search_contracts(repository, query, today)
    by_meaning = bool(query.words) and (meaning or not hits)
    if by_meaning:
        hits = search_by_meaning(repository, vectors, query, today)
    return hits, by_meaning


MEANING_FLOOR = 0.35  # cosine similarity under which a clause is not offered as "by meaning"


def search_by_meaning(repository: Repository, vectors, query: ContractQuery, today: date) -> list[ContractHit]:
    """Contracts passing the filters whose clauses are closest in meaning to the query's words (Chroma), one hit per
    contract, each citing the clause. `vectors`: a ClauseVectors, caught up first."""
    if not query.words:
        return []
    vectors.catch_up(repository)
    found = [h for h in vectors.query(repository, query.words, limit=max(200, query.limit * 20)) if h.similarity >= MEANING_FLOOR]
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
    if query.has_clause:
        with repository.read() as db:
            clause = db.execute('SELECT start, "end", text FROM contract_clauses WHERE contract_id = ? AND category = ?'
                                " ORDER BY start LIMIT 1", (record.contract_id, query.has_clause)).fetchone()
        return ContractHit(contract=record, category=query.has_clause, start=clause["start"], end=clause["end"],
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
