"""Contract-to-spend: ERP purchase-order and invoice lines and the supplier master into the repository, each line
matched to the contract it falls under, and flags where spend departs from what the contract says.

Matching, in order: a PO number the contract names; else the supplier (by the master's names and aliases, or the
line's own supplier name) to the counterparty of a contract in force on the line's date; else the same
supplier's contract that ended before the line (spend after expiry). Each flag cites the contract clause that sets
the term and the ERP line (or the first of the lines) that breaks it.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, Field, ValidationError

from agents.schema import Span
from portfolio.records import ContractRecord, SpendFlag, SpendLine, Supplier
from portfolio.ledger import BindingSpans, position_of
from portfolio.repository import Repository, contract_of, name_key

ENDED_REASON = "the contract had ended"
PAID_EARLY_GRACE_DAYS = 5  # paying within a few days of the due date is normal processing, not early payment


class CsvProblem(BaseModel):
    line: int
    reason: str


def _csv_rows(path: Path):
    """(line number, row) for each data row, column names lower-cased and every value stripped."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            yield number, {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"


def read_erp_csv(path: Path, rates: dict[str, float] | None = None) -> tuple[list[SpendLine], list[CsvProblem]]:
    """PO and invoice lines: supplier, po_number, invoice_number, date, amount, currency, description (and optionally
    kind, paid_date, unit_price, item). A row that cannot be read is reported with its line number, never guessed; so is
    a currency with no stated rate (`rates`, the routing policy's by default), which could not be added to any total."""
    rates = rates if rates is not None else reporting_rates()
    lines, problems = [], []
    for number, row in _csv_rows(path):
        row = {k: v for k, v in row.items() if v != ""}
        row.setdefault("kind", "invoice" if row.get("invoice_number") else "po")
        try:
            row["amount"] = row.get("amount", "").replace(",", "")
            line = SpendLine.model_validate(row | {"source_file": path.name, "source_line": number})
        except ValidationError as exc:
            problems.append(CsvProblem(line=number, reason=_first_error(exc)))
            continue
        line.currency = line.currency.upper()
        if line.currency not in rates:
            problems.append(CsvProblem(line=number, reason=f"currency {line.currency!r} has no stated rate (usd_rates in "
                                                           "clause_library/routing.yaml); the line was not imported"))
            continue
        lines.append(line)
    return lines, problems


REPORTING_CURRENCY = "USD"


def reporting_rates() -> dict[str, float]:
    """The USD value of one unit of each currency: the rates the routing policy states (one place for both)."""
    from clause_library.routing import load_policy

    return {code.upper(): rate for code, rate in load_policy().usd_rates.items()}


def read_suppliers_csv(path: Path) -> tuple[list[Supplier], list[CsvProblem]]:
    """Supplier master: id, name, aliases (separated by ';' or '|'), tax_id, risk_tier."""
    suppliers, problems = [], []
    for number, row in _csv_rows(path):
        try:
            aliases = [a.strip() for a in row.get("aliases", "").replace("|", ";").split(";") if a.strip()]
            suppliers.append(Supplier(supplier_id=row.get("id") or row["supplier_id"], name=row["name"], aliases=aliases,
                                      tax_id=row.get("tax_id") or None, risk_tier=row.get("risk_tier") or None))
        except (KeyError, ValidationError) as exc:
            problems.append(CsvProblem(line=number, reason=f"missing or invalid {exc}"))
    return suppliers, problems


class PerformanceRow(BaseModel):
    """One period of a vendor's service-level results, for a contract or for a counterparty's contract in force."""

    contract_id: str | None = None
    counterparty: str | None = None
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    sla_target: float = Field(ge=0, le=100)
    sla_actual: float = Field(ge=0, le=100)
    incidents: int = Field(default=0, ge=0)


def read_performance_csv(path: Path) -> tuple[list[PerformanceRow], list[CsvProblem]]:
    rows, problems = [], []
    for number, row in _csv_rows(path):
        try:
            parsed = PerformanceRow.model_validate({k: v for k, v in row.items() if v != ""})
            if not (parsed.contract_id or parsed.counterparty):
                raise ValueError("name the counterparty or the contract_id")
            rows.append(parsed)
        except (ValidationError, ValueError) as exc:
            problems.append(CsvProblem(line=number, reason=_first_error(exc) if isinstance(exc, ValidationError) else str(exc)))
    return rows, problems


class _Line(NamedTuple):
    """A spend line as matching reads it: a plain tuple, since a matching run holds every line (a million at scale)."""

    line_id: int
    kind: str
    supplier: str
    supplier_key: str
    po_number: str | None
    date: date
    amount: float
    currency: str
    paid_date: date | None
    unit_price: float | None
    item: str | None
    invoice_number: str | None
    source: str | None  # "erp.csv line 9"
    reporting_amount: float | None  # in REPORTING_CURRENCY at the stated rate


def match_and_flag(repository: Repository, today: date) -> tuple[int, int, list[SpendFlag]]:
    """Match every spend line to a contract and recompute the flags; returns (lines, matched, flags)."""
    with repository.read() as db:
        contracts = [contract_of(r) for r in db.execute("SELECT * FROM contracts")]
        aliases = defaultdict(set)
        for key, supplier_id in db.execute("SELECT name_key, supplier_id FROM supplier_names"):
            aliases[supplier_id].add(key)
        supplier_of = {key: sid for sid, keys in aliases.items() for key in keys}
        db.row_factory = None
        day = date.fromisoformat
        lines = [_Line(r[0], r[1], r[2], r[3], r[4], day(r[5]), r[6], r[7], day(r[8]) if r[8] else None, r[9], r[10], r[11],
                       f"{r[12]} line {r[13]}" if r[12] and r[13] else None, r[14])
                 for r in db.execute("SELECT line_id, kind, supplier, supplier_key, po_number, date, amount, currency,"
                                     " paid_date, unit_price, item, invoice_number, source_file, source_line,"
                                     " reporting_amount FROM spend_lines ORDER BY date, line_id")]
    by_po = {po: c for c in contracts for po in c.po_numbers}
    dates = BindingSpans(contracts)
    by_party: dict[str, list[ContractRecord]] = defaultdict(list)
    for contract in contracts:
        if contract.counterparty:
            by_party[name_key(contract.counterparty)].append(contract)

    def keys_of(line: _Line) -> set[str]:
        supplier_id = supplier_of.get(line.supplier_key)
        return aliases[supplier_id] if supplier_id else {line.supplier_key}

    matches, matched_lines = [], defaultdict(list)
    unmatched: dict[str, list[_Line]] = defaultdict(list)
    late: dict[str, list[_Line]] = defaultdict(list)
    for line in lines:
        contract, reason = None, None
        if line.po_number and line.po_number in by_po:
            contract, reason = by_po[line.po_number], f"PO {line.po_number} named in the contract"
            if dates.ended_by(contract, line.date):  # however a line matched, spend after the end is flagged
                reason += f"; {ENDED_REASON}"
                late[contract.contract_id].append(line)
        else:
            candidates = [c for key in keys_of(line) for c in by_party.get(key, [])]
            in_force = [c for c in candidates if dates.in_force_on(c, line.date)]
            if in_force:
                contract = max(in_force, key=lambda c: c.effective_date or date.min)
                reason = "supplier matches the counterparty; in force on the line's date"
            elif ended := [c for c in candidates if dates.ended_by(c, line.date)]:
                contract = max(ended, key=lambda c: dates.final_end(c) or date.min)
                reason = f"supplier matches the counterparty; {ENDED_REASON}"
                late[contract.contract_id].append(line)
        matches.append((line.line_id, contract.contract_id if contract else None, reason))
        if contract is None:
            unmatched[line.supplier].append(line)
        else:
            matched_lines[contract.contract_id].append(line)
    flags = _no_contract_flags(unmatched) + _duplicate_flags(lines)
    by_id = {c.contract_id: c for c in contracts}
    for contract_id, found in late.items():
        flags.append(_after_expiry_flag(by_id[contract_id], found))
    for contract_id, found in matched_lines.items():
        contract = by_id[contract_id]
        flags += _over_cap_flags(contract, found) + _escalator_flags(contract, found) + _paid_early_flags(contract, found)
        flags += _under_minimum_flags(contract, found, today)
    flags += _sla_flags(repository, contracts)
    repository.replace_flags(flags, matches)
    return len(lines), sum(1 for _, c, _ in matches if c), flags


def _cite(contract: ContractRecord, *fields: str) -> Span | None:
    return next((contract.citations[f] for f in fields if f in contract.citations), None)


def _money(amount: float, currency: str | None) -> str:
    return f"{currency or ''} {amount:,.2f}".strip()


def _total(lines: list[_Line]) -> str:
    """The lines' sum: in their currency when they share one, else in the reporting currency at the stated rates
    (never amounts of two currencies added as if one)."""
    currencies = sorted({l.currency for l in lines})
    if len(currencies) == 1:
        return _money(sum(l.amount for l in lines), currencies[0])
    converted = sum(l.reporting_amount or 0 for l in lines)
    return f"{_money(converted, REPORTING_CURRENCY)} at the stated rates (from {', '.join(currencies)})"


def _source(line: _Line) -> str | None:
    """Where the line is in the export, and its invoice (or PO) number, as the ERP shows them."""
    number = f"invoice {line.invoice_number}" if line.invoice_number else f"PO {line.po_number}" if line.po_number else None
    return ", ".join(p for p in (line.source, number) if p) or None


def _no_contract_flags(unmatched: dict[str, list[_Line]]) -> list[SpendFlag]:
    return [SpendFlag(kind="no_contract", supplier=supplier, line_id=found[0].line_id, source=_source(found[0]),
                      detail=f"{len(found)} line(s) from {supplier}, {_total(found)}"
                             f" from {found[0].date} to {found[-1].date}, match no contract")
            for supplier, found in sorted(unmatched.items())]


def _duplicate_flags(lines: list[_Line]) -> list[SpendFlag]:
    """The same line twice in one export (same supplier, numbers, date, amount and item): kept, and flagged, since
    an invoice booked twice is paid twice."""
    groups: dict[tuple, list[_Line]] = defaultdict(list)
    for line in lines:
        if line.source:
            file = line.source.rsplit(" line ", 1)[0]
            groups[(file, line.kind, line.supplier_key, line.po_number, line.invoice_number, line.date, line.amount,
                    line.item)].append(line)
    return [SpendFlag(kind="duplicate_line", supplier=found[0].supplier, line_id=found[0].line_id, source=_source(found[0]),
                      detail=f"{len(found)} identical lines in {key[0]} (lines "
                             f"{', '.join(l.source.rsplit(' ', 1)[1] for l in found)}): {_money(found[0].amount, found[0].currency)}"
                             f" on {found[0].date}; booked twice is paid twice")
            for key, found in groups.items() if len(found) > 1]


def _after_expiry_flag(contract: ContractRecord, found: list[_Line]) -> SpendFlag:
    ended = position_of(contract, found[0].date).term_end
    how = "was terminated" if contract.status == "terminated" else f"ended on {ended}"
    return SpendFlag(kind="after_expiry", contract_id=contract.contract_id, supplier=found[0].supplier, line_id=found[0].line_id,
                     source=_source(found[0]), citation=_cite(contract, "expiration_date", "term_end"),
                     detail=f"{len(found)} line(s), {_total(found)}, dated after "
                            f"{contract.name} {how} (first on {found[0].date})")


def _over_cap_flags(contract: ContractRecord, found: list[_Line]) -> list[SpendFlag]:
    ceiling, field = (contract.not_to_exceed, "not_to_exceed") if contract.not_to_exceed else (None, None)
    if ceiling is None:
        return []
    flags = []
    by_year: dict[int, list[_Line]] = defaultdict(list)
    for line in found:
        if line.kind == "invoice":
            by_year[line.date.year].append(line)
    currency = (contract.currency or REPORTING_CURRENCY).upper()
    for year, invoices in sorted(by_year.items()):
        same = all(l.currency == currency for l in invoices)
        rate = None if same else _rate_of(currency, invoices)
        if not same and rate is None:
            continue  # the ceiling's currency has no stated rate: nothing to compare it with
        limit = ceiling if same else ceiling * rate
        running = 0.0
        for line in invoices:
            running += line.amount if same else (line.reporting_amount or 0)
            if running > limit:
                reached = (_money(running, currency) if same else
                           f"{_money(running, REPORTING_CURRENCY)} at the stated rates")
                of = _money(ceiling, currency) + ("" if same else f" ({_money(limit, REPORTING_CURRENCY)})")
                flags.append(SpendFlag(kind="over_cap", contract_id=contract.contract_id, supplier=line.supplier,
                                       line_id=line.line_id, source=_source(line), citation=_cite(contract, field),
                                       detail=f"invoices in {year} reach {reached} with this line, over the not-to-exceed of {of}"))
                break
    return flags


def _rate_of(currency: str, lines: list[_Line]) -> float | None:
    """The stated USD rate of `currency`, as the lines in that currency were stored with (else the policy's)."""
    for line in lines:
        if line.currency == currency and line.amount and line.reporting_amount is not None:
            return line.reporting_amount / line.amount
    return reporting_rates().get(currency)


def _escalator_flags(contract: ContractRecord, found: list[_Line]) -> list[SpendFlag]:
    if contract.price_escalator_pct is None:
        return []
    flags = []
    by_item: dict[str, list[_Line]] = defaultdict(list)
    for line in found:
        if line.item and line.unit_price:
            by_item[line.item].append(line)
    for item, priced in by_item.items():
        base = priced[0]
        for line in priced[1:]:
            years = (line.date - base.date).days // 365
            allowed = base.unit_price * (1 + contract.price_escalator_pct / 100) ** years
            if line.unit_price > allowed * 1.0001:
                flags.append(SpendFlag(kind="price_above_escalator", contract_id=contract.contract_id, supplier=line.supplier,
                                       line_id=line.line_id, source=_source(line), citation=_cite(contract, "price_escalator_pct"),
                                       detail=f"{item} at {line.unit_price:,.2f} on {line.date}: the contract allows "
                                              f"{contract.price_escalator_pct:g}% a year, {allowed:,.2f} after {years} year(s) "
                                              f"from {base.unit_price:,.2f} on {base.date}"))
                break
    return flags


def _paid_early_flags(contract: ContractRecord, found: list[_Line]) -> list[SpendFlag]:
    terms = contract.payment_terms_days
    if terms is None:
        return []
    early = [l for l in found if l.kind == "invoice" and l.paid_date and (l.paid_date - l.date).days < terms - PAID_EARLY_GRACE_DAYS]
    if not early:
        return []
    days = sorted((l.paid_date - l.date).days for l in early)
    return [SpendFlag(kind="paid_early", contract_id=contract.contract_id, supplier=early[0].supplier, line_id=early[0].line_id,
                      source=_source(early[0]), citation=_cite(contract, "payment_terms_days"),
                      detail=f"{len(early)} invoice(s), {_total(early)}, paid "
                             f"{days[0] if days[0] == days[-1] else f'{days[0]}–{days[-1]}'} days after invoice; the "
                             f"contract gives {terms} days")]


def _under_minimum_flags(contract: ContractRecord, found: list[_Line], today: date) -> list[SpendFlag]:
    if contract.minimum_commitment is None:
        return []
    flags = []
    years = {l.date.year for l in found} | ({contract.effective_date.year} if contract.effective_date else set())
    for year in sorted(y for y in years if y < today.year):  # only years that are over
        if contract.effective_date and year < contract.effective_date.year:
            continue
        invoiced = [l for l in found if l.kind == "invoice" and l.date.year == year]
        currency = (contract.currency or REPORTING_CURRENCY).upper()
        if any(l.currency != currency for l in invoiced):
            continue  # spend in another currency: a minimum is judged in the contract's own, not at today's rates
        spent = sum(l.amount for l in invoiced)
        if spent < contract.minimum_commitment:
            first = next((l for l in found if l.date.year == year), found[0])
            flags.append(SpendFlag(kind="under_minimum", contract_id=contract.contract_id, supplier=first.supplier,
                                   line_id=first.line_id, source=_source(first), citation=_cite(contract, "minimum_commitment"),
                                   detail=f"{year}: invoiced {_money(spent, currency)}, under the minimum commitment "
                                          f"of {_money(contract.minimum_commitment, contract.currency)}"))
    return flags


def _sla_flags(repository: Repository, contracts: list[ContractRecord]) -> list[SpendFlag]:
    with repository.read() as db:
        misses = defaultdict(list)
        for row in db.execute("SELECT * FROM performance WHERE sla_actual < sla_target ORDER BY period"):
            misses[row["contract_id"]].append(dict(row))
        promised = {r[0]: Span.model_validate_json(r[1]) for r in db.execute(
            "SELECT contract_id, citation FROM obligations WHERE kind = 'sla' ORDER BY obligation_id DESC")}
    flags = []
    for contract in contracts:  # only against a level the contract promises: the flag cites that clause
        if (found := misses.get(contract.contract_id)) and contract.contract_id in promised:
            worst = min(found, key=lambda p: p["sla_actual"] - p["sla_target"])
            flags.append(SpendFlag(kind="sla_miss", contract_id=contract.contract_id, supplier=contract.counterparty,
                                   citation=promised.get(contract.contract_id),
                                   detail=f"service level missed in {len(found)} period(s); worst {worst['period']}: "
                                          f"{worst['sla_actual']:g}% against {worst['sla_target']:g}%"))
    return flags
