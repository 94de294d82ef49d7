"""The contract repository at scale: 10,000 contracts and 1,000,000 ERP lines.

    .venv/bin/python benchmarks/portfolio_scale.py [--contracts 10000] [--lines 1000000] [--import-sample 12]

Seeds a fresh repository with synthetic contracts (metadata drawn at random; 20 clauses each, real sentences from
CUAD contracts, so full-text search works on legal English) and ERP lines for their counterparties (plus spend with
no contract), then measures:
- filing throughput (contracts written with their clauses and obligations, in commits of 500);
- real import throughput: `app.py import` of --import-sample CUAD contracts as DOCX through the extraction agents;
- ERP import (lines/s) and a full matching run with every flag recomputed (lines/s);
- search latency, p50 / p95 over a mix of plain-English queries, filters and clause words (each run 20 times);
- search by meaning on a separate repository of --meaning-contracts (embedding every clause is its cost).
Writes benchmarks/reports/portfolio-scale.json.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import machine, write_report  # noqa: E402

TODAY = date(2026, 11, 26)
TYPES = ["msa", "nda", "saas", "dpa", "supply", "licence", "services", "distribution"]
LAWS = ["New York", "Delaware", "California", "England and Wales", "Germany", "Texas", "Ontario", "Singapore"]
CATEGORIES = ["liability_cap", "limitation_of_liability", "governing_law", "term", "auto_renewal", "renewal_notice",
              "payment_terms", "confidentiality", "indemnification", "audit_rights", "insurance", "assignment",
              "warranty", "termination_for_convenience", "data_protection", "Cap on Liability", "Uncapped Liability",
              "Minimum Commitment", "Non-Compete", "Exclusivity"]
QUERIES = [
    "uncapped liability in SaaS contracts renewing next quarter",
    "audit rights in licence agreements governed by Delaware law",
    "contracts renewing in 90 days",
    "expired NDAs",
    "indemnification intellectual property infringement",
    "minimum purchase commitment",
    "supply contracts over $250k",
    "confidential information in MSA contracts with Vendor 42",
    "most favored nation",
    "notice due next month",
]


def clause_pool(limit: int = 4000) -> list[str]:
    """Real sentences from CUAD contracts (40-400 characters)."""
    folder = ROOT.parent / "shared" / "datasets" / "cuad" / "full_contract_txt"
    pool: list[str] = []
    for path in sorted(folder.glob("*.txt"))[:120]:
        text = " ".join(path.read_text(encoding="utf-8", errors="replace").split())
        pool += [s for s in re.split(r"(?<=[.;])\s+", text) if 40 <= len(s) <= 400]
        if len(pool) >= limit:
            break
    return pool[:limit]


def seed_contracts(repository, count: int, rng: random.Random) -> float:
    from agents.schema import Span
    from portfolio.records import ClauseRecord, ContractRecord, Filing, Obligation

    pool = clause_pool()
    started, batch = time.perf_counter(), []
    for n in range(count):
        effective = TODAY - timedelta(days=rng.randint(0, 1800))
        term_end = effective + timedelta(days=365 * rng.choice([1, 2, 3, 5]))
        clauses, offset = [], 0
        for category in rng.sample(CATEGORIES, 20):
            text = rng.choice(pool)
            clauses.append(ClauseRecord(category=category, start=offset, end=offset + len(text), text=text))
            offset += len(text) + 1
        cite = Span(start=clauses[0].start, end=clauses[0].end, quote=clauses[0].text)
        record = ContractRecord(
            contract_id=f"{rng.getrandbits(256):064x}", name=f"contract_{n:05d}", source_file=f"contract_{n:05d}.docx",
            origin="import", contract_type=rng.choice(TYPES), counterparty=f"Vendor {n % 3000} Ltd", our_side="customer",
            risk=rng.choice(["high", "medium", "medium", "low"]), status="executed", effective_date=effective, term_end=term_end,
            auto_renews=rng.random() < 0.5, notice_days=rng.choice([30, 60, 90]),
            notice_deadline=term_end - timedelta(days=60), governing_law=rng.choice(LAWS),
            value=float(rng.randrange(10_000, 2_000_000, 1000)), currency="USD", payment_terms_days=rng.choice([30, 45, 60]),
            liability_cap="uncapped" if rng.random() < 0.05 else "the fees paid in the twelve months preceding",
            price_escalator_pct=rng.choice([None, 3.0, 5.0]), po_numbers=[f"PO-{n:06d}"], clauses=clauses,
            citations={"governing_law": cite, "term_end": cite, "liability_cap": cite, "value": cite})
        obligations = [Obligation(obligation_id=f"{record.contract_id[:12]}-{k}", contract_id=record.contract_id,
                                  kind=rng.choice(["report", "sla", "insurance", "audit"]), owner_side="them",
                                  summary="obligation", citation=cite, due_date=TODAY + timedelta(days=rng.randint(-30, 365)),
                                  recurrence="yearly") for k in range(3)]
        batch.append(Filing(record=record, obligations=obligations))
        if len(batch) == 500:
            repository.file_many(batch)
            batch = []
    if batch:
        repository.file_many(batch)
    return time.perf_counter() - started


def seed_spend(repository, contracts: int, lines: int, rng: random.Random) -> tuple[float, int]:
    from portfolio.records import SpendLine, Supplier

    repository.upsert_suppliers([Supplier(supplier_id=f"S{n:05d}", name=f"Vendor {n} Ltd", aliases=[f"VENDOR {n}"])
                                 for n in range(3000)])
    started, added, batch = time.perf_counter(), 0, []
    for k in range(lines):
        n = rng.randrange(contracts)
        day = TODAY - timedelta(days=rng.randint(0, 1800))
        supplier = f"VENDOR {n % 3000}" if rng.random() < 0.97 else f"Unknown Supplier {rng.randrange(500)}"
        batch.append(SpendLine(kind="invoice", supplier=supplier, po_number=f"PO-{n:06d}" if rng.random() < 0.5 else None,
                               invoice_number=f"INV-{k:07d}", date=day, amount=round(rng.uniform(100, 50_000), 2),
                               paid_date=day + timedelta(days=rng.choice([10, 30, 45, 60])), unit_price=round(rng.uniform(5, 50), 2),
                               item=f"item {k % 40}"))
        if len(batch) == 50_000:
            added += repository.add_spend(batch)
            batch = []
    if batch:
        added += repository.add_spend(batch)
    return time.perf_counter() - started, added


def time_queries(repository, repeats: int) -> dict:
    from portfolio.search import parse_query, search_contracts

    timings, per_query = [], {}
    for text in QUERIES:
        query = parse_query(text, TODAY)
        mine = []
        for _ in range(repeats):
            started = time.perf_counter()
            hits = search_contracts(repository, query, TODAY)
            mine.append(1000 * (time.perf_counter() - started))
        timings += mine
        per_query[text] = {"hits": len(hits), "p50_ms": round(statistics.median(mine), 1), "max_ms": round(max(mine), 1)}
    timings.sort()
    return {"p50_ms": round(statistics.median(timings), 1), "p95_ms": round(timings[int(0.95 * len(timings)) - 1], 1),
            "max_ms": round(timings[-1], 1), "queries": per_query}


MEANING_QUERIES = ["the vendor's maximum financial exposure", "who owns improvements to the software",
                   "ending the agreement without cause", "keeping shared information secret", "late payment interest",
                   "moving the contract to a new owner", "insurance the supplier must carry", "price increases each year"]


def time_meaning(contracts: int, repeats: int) -> dict:
    """Search by meaning on its own repository of `contracts` (embedding 20 clauses a contract is the cost)."""
    from portfolio.clause_vectors import ClauseVectors
    from portfolio.repository import Repository
    from portfolio.search import ContractQuery, search_by_meaning

    with tempfile.TemporaryDirectory() as scratch:
        repository = Repository(Path(scratch) / "portfolio.sqlite")
        seed_contracts(repository, contracts, random.Random(7))
        vectors = ClauseVectors(Path(scratch) / "portfolio_chroma")
        started = time.perf_counter()
        vectors.catch_up(repository)
        embed_s = time.perf_counter() - started
        timings = []
        for text in MEANING_QUERIES:
            for _ in range(repeats):
                started = time.perf_counter()
                search_by_meaning(repository, vectors, ContractQuery(words=text), TODAY)
                timings.append(1000 * (time.perf_counter() - started))
    timings.sort()
    return {"contracts": contracts, "clauses": contracts * 20, "embedding_seconds": round(embed_s, 1),
            "contracts_per_second": round(contracts / embed_s, 1), "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(timings[int(0.95 * len(timings)) - 1], 1)}


def real_import(sample: int) -> dict:
    """`app.py import` of CUAD dev contracts as DOCX: the agents' throughput, not the database's."""
    from evals.cuad_docx import cuad_text_to_docx
    from evals.datasets import open_dataset

    with tempfile.TemporaryDirectory() as scratch:
        folder, data = Path(scratch) / "contracts", Path(scratch) / "data"
        folder.mkdir()
        for contract in sorted(open_dataset("cuad").contracts("dev"), key=lambda c: c.id)[:sample]:
            (folder / f"{abs(hash(contract.id)) % 10**8}.docx").write_bytes(cuad_text_to_docx(contract.text))
        env = {"CLAUSEFLOW_DATA_DIR": str(data), "CLAUSEFLOW_TODAY": TODAY.isoformat(), "PATH": "/usr/bin:/bin"}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(ROOT / "app.py"), "import", str(folder), "--json"], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - started
    filed = done.stdout.count('"outcome": "filed"')
    return {"contracts": sample, "filed": filed, "seconds": round(elapsed, 1),
            "contracts_per_minute": round(60 * filed / elapsed, 1), "note": "includes start-up (models load once per worker)"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--import-sample", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--meaning-contracts", type=int, default=1000, help="repository size for search by meaning")
    args = parser.parse_args()

    from portfolio.repository import Repository
    from portfolio.spend import match_and_flag

    rng = random.Random(20261126)
    with tempfile.TemporaryDirectory() as scratch:
        repository = Repository(Path(scratch) / "portfolio.sqlite")
        filing_s = seed_contracts(repository, args.contracts, rng)
        spend_s, added = seed_spend(repository, args.contracts, args.lines, rng)
        started = time.perf_counter()
        total, matched, flags = match_and_flag(repository, TODAY)
        matching_s = time.perf_counter() - started
        search = time_queries(repository, args.repeats)
        size_mb = (Path(scratch) / "portfolio.sqlite").stat().st_size / 1e6
    report = {
        "machine": machine(), "load": "nothing else running", "contracts": args.contracts, "erp_lines": args.lines,
        "filing": {"seconds": round(filing_s, 1), "contracts_per_second": round(args.contracts / filing_s, 1)},
        "erp_import": {"seconds": round(spend_s, 1), "lines_per_second": round(added / spend_s)},
        "matching": {"seconds": round(matching_s, 1), "lines_per_second": round(total / matching_s), "matched": matched,
                     "flags": len(flags)},
        "search": search,
        "database_mb": round(size_mb, 1),
        "search_by_meaning": time_meaning(args.meaning_contracts, 5) if args.meaning_contracts else None,
        "agent_import": real_import(args.import_sample) if args.import_sample else None,
    }
    write_report("portfolio-scale", report)


if __name__ == "__main__":
    main()
