"""A demo portfolio a newcomer can explore offline: the project's sample contracts and some CUAD contracts (as DOCX
with headings and a signature table) imported as executed contracts, then a synthetic supplier master, ERP export
and SLA history generated from what was filed, with a few departures from the contracts planted so that every
flag kind shows. Deterministic: the same data folder and inputs give the same files, byte for byte.
"""

from __future__ import annotations

import csv
import hashlib
import random
from datetime import date, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta

from portfolio.importer import import_folder
from portfolio.records import ContractRecord
from portfolio.repository import Repository, contract_of
from portfolio.review_sync import repository_store
from portfolio.spend import match_and_flag, read_erp_csv, read_suppliers_csv, reporting_rates

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
ERP_FIELDS = ["kind", "supplier", "po_number", "invoice_number", "date", "amount", "currency", "description",
              "paid_date", "unit_price", "item"]


def _rng(*parts: str) -> random.Random:
    return random.Random(int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:12], 16))


def write_contracts(folder: Path, cuad_contracts: int) -> int:
    """The samples' DOCX files and the first `cuad_contracts` CUAD dev contracts (by name) as DOCX."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for sample in sorted(SAMPLES.glob("*.docx")):
        target = folder / sample.name
        if not target.exists():
            target.write_bytes(sample.read_bytes())
        count += 1
    if cuad_contracts:
        from evals.cuad_docx import cuad_text_to_docx
        from evals.datasets import open_dataset

        for contract in sorted(open_dataset("cuad").contracts("dev"), key=lambda c: c.id)[:cuad_contracts]:
            target = folder / f"cuad_{hashlib.sha256(contract.id.encode()).hexdigest()[:8]}.docx"
            if not target.exists():
                target.write_bytes(cuad_text_to_docx(contract.text))
            count += 1
    return count


def _aliases(name: str) -> list[str]:
    """How an ERP writes a supplier it knows: upper case, no punctuation, a trimmed legal suffix."""
    words = name.replace(",", "").replace(".", "").split()
    return sorted({name.upper(), " ".join(words[:-1]) if len(words) > 1 else name.upper(), " ".join(words).upper()})


def write_supplier_master(contracts: list[ContractRecord], path: Path) -> None:
    names = sorted({c.counterparty for c in contracts if c.counterparty})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "aliases", "tax_id", "risk_tier"])
        for n, name in enumerate(names, start=1):
            rng = _rng("supplier", name)
            writer.writerow([f"S{n:04d}", name, ";".join(_aliases(name)), f"TX-{rng.randrange(10**8, 10**9)}",
                             rng.choice(["low", "low", "medium", "high"])])
        writer.writerow([f"S{len(names) + 1:04d}", "Shadow IT Cloud Ltd", "SHADOW IT CLOUD", "TX-100000001", "high"])


def write_erp_export(contracts: list[ContractRecord], path: Path, today: date) -> int:
    """Monthly invoices (and a PO per contract) for the last 24 months, in the ERP's own spelling of the supplier;
    the planted departures are named in each line's description."""
    rows = []
    window_start = today - relativedelta(months=24)
    priced = [c for c in contracts if c.counterparty]
    ended = [c for c in priced if (c.term_end or c.expiration_date or today) < window_start and not c.auto_renews]
    in_window = [c for c in priced if c not in ended]
    plants = {  # one contract per departure, the first (by id) whose terms allow it
        "over_cap": next((c.contract_id for c in in_window if c.not_to_exceed), None),
        "paid_early": next((c.contract_id for c in in_window if c.payment_terms_days and c.payment_terms_days >= 30), None),
        "price_rise": next((c.contract_id for c in in_window if c.price_escalator_pct is not None), None),
        "under_minimum": next((c.contract_id for c in in_window if c.minimum_commitment), None),
        "after_expiry": ended[0].contract_id if ended else None,
    }
    for contract in sorted(in_window + ended[:1], key=lambda c: c.contract_id):
        rng = _rng("erp", contract.contract_id)
        supplier = _aliases(contract.counterparty)[0]
        yearly = contract.not_to_exceed or contract.value or rng.choice([24_000, 60_000, 120_000, 180_000])
        monthly = round(yearly / 12, 2)
        po = f"PO-{rng.randrange(450000, 460000)}"
        if contract.contract_id == plants["under_minimum"]:
            yearly = contract.minimum_commitment * 0.6
            monthly = round(yearly / 12, 2)
        start = max(contract.effective_date or window_start, window_start)
        if contract.contract_id == plants["after_expiry"]:
            start = today - relativedelta(months=5)  # still billing months after the contract ended
        rows.append(["po", supplier, po, "", start.isoformat(), f"{yearly:.2f}", contract.currency or "USD",
                     f"blanket PO for {contract.name}", "", "", ""])
        unit = round(monthly / 10, 2)
        day = start.replace(day=1) + (relativedelta(months=1) if start.day > 1 else relativedelta())
        month = 0
        while day <= today:
            amount, unit_price, note = monthly, unit, "monthly fees"
            if contract.contract_id == plants["price_rise"] and month >= 12:
                factor = 1 + (contract.price_escalator_pct or 0) / 100 + 0.08
                unit_price, amount, note = round(unit * factor, 2), round(monthly * factor, 2), "price rise (planted)"
            elif contract.contract_id == plants["over_cap"] and month in (10, 11):
                amount, note = round(monthly * 4, 2), "extra work billed (planted)"
            terms = contract.payment_terms_days or 30
            early = contract.contract_id == plants["paid_early"] and month % 3 == 0
            paid = day + timedelta(days=max(1, terms - (20 if early else 0)))
            rows.append(["invoice", supplier, po, f"INV-{contract.contract_id[:6].upper()}-{month:03d}", day.isoformat(),
                         f"{amount:.2f}", contract.currency or "USD", note, paid.isoformat() if paid <= today else "",
                         f"{unit_price:.2f}", "subscription units"])
            day += relativedelta(months=1)
            month += 1
    rng = _rng("shadow")
    for month in range(6):  # a supplier nobody signed a contract with
        day = (today - relativedelta(months=month)).replace(day=5)
        rows.append(["invoice", "Shadow IT Cloud", "", f"SH-{month:03d}", day.isoformat(), f"{rng.randrange(900, 2500)}.00",
                     "USD", "card spend, no contract (planted)", "", "", ""])
    rows.sort(key=lambda r: (r[4], r[1], r[3]))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(ERP_FIELDS)
        writer.writerows(rows)
    return len(rows)


def seed_performance(repository: Repository, contracts: list[ContractRecord], today: date) -> None:
    """Twelve months of service-level results for each contract that promises a service level."""
    with repository.read() as db:
        promising = {r[0] for r in db.execute("SELECT DISTINCT contract_id FROM obligations WHERE kind = 'sla'")}
    for contract in contracts:
        if contract.contract_id not in promising:
            continue
        rng = _rng("sla", contract.contract_id)
        rows = []
        for back in range(12, 0, -1):
            period = (today - relativedelta(months=back)).strftime("%Y-%m")
            actual = round(99.9 - rng.random() * 0.6 if rng.random() < 0.15 else 99.9 + rng.random() * 0.09, 2)
            rows.append((period, 99.9, actual, int(actual < 99.9) * rng.randrange(1, 4)))
        repository.set_performance(contract.contract_id, rows)


def build_demo(config, *, cuad_contracts: int, workers: int) -> str:
    demo = config.data_dir / "demo"
    contracts_dir = demo / "contracts"
    written = write_contracts(contracts_dir, cuad_contracts)
    repository = Repository(repository_store(config))
    rows = import_folder(contracts_dir, repository, data_dir=config.data_dir, our_names=config.our_names, today=config.today,
                         max_bytes=config.max_bytes, workers=workers)
    with repository.read() as db:
        contracts = [contract_of(r) for r in db.execute("SELECT * FROM contracts ORDER BY contract_id")]
    write_supplier_master(contracts, demo / "vendors.csv")
    lines_written = write_erp_export(contracts, demo / "erp.csv", config.today)
    suppliers, _ = read_suppliers_csv(demo / "vendors.csv")
    repository.upsert_suppliers(suppliers)
    lines, _ = read_erp_csv(demo / "erp.csv")
    repository.add_spend(lines, reporting_rates())
    seed_performance(repository, contracts, config.today)
    total, matched, flags = match_and_flag(repository, config.today)
    from portfolio.clause_vectors import ClauseVectors

    ClauseVectors(config.data_dir / "portfolio_chroma").catch_up(repository)
    filed = sum(r.outcome in ("filed", "already filed") for r in rows)
    failed = [r for r in rows if r.outcome == "failed"]
    return (f"demo repository in {config.data_dir}: {filed} of {written} contracts filed"
            + (f" ({len(failed)} failed: {', '.join(r.file for r in failed)})" if failed else "")
            + f"; {lines_written} ERP lines in {demo / 'erp.csv'}, {matched} of {total} matched; {len(suppliers)} suppliers;"
            f" {len(flags)} flags. Try: app.py renewals --within 6m, app.py spend flags, app.py serve")
