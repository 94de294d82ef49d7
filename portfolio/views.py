"""Read models for the portfolio pages: the dashboard's figures and a counterparty's contracts, spend by month,
flags, service levels and obligations, each computed in a few SQL queries."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from pydantic import BaseModel

from portfolio.records import ContractRecord, Obligation, SpendFlag
from portfolio.ledger import in_force_on
from portfolio.repository import Repository, name_key
from portfolio.spend import ENDED_REASON, reporting_rates


class Dashboard(BaseModel):
    today: date
    contracts: int
    by_status: dict[str, int]
    by_risk: dict[str, int]
    by_type: dict[str, int]
    deadlines: list[ContractRecord]
    flags_by_kind: dict[str, int]
    spend_total: float
    spend_covered: float
    obligations_due: int
    obligations_overdue: int
    top_counterparties: list[tuple[str, str, float, int]]  # name, key, spend, flags

    @property
    def covered_pct(self) -> float | None:
        return 100.0 * self.spend_covered / self.spend_total if self.spend_total else None


def dashboard(repository: Repository, today: date, *, horizon_days: int = 90) -> Dashboard:
    by_status: dict[str, int] = defaultdict(int)
    for status in repository.statuses(today).values():
        by_status[status] += 1
    with repository.read() as db:
        by_risk = dict(db.execute("SELECT COALESCE(risk, 'unknown'), COUNT(*) FROM contracts GROUP BY 1").fetchall())
        by_type = dict(db.execute("SELECT contract_type, COUNT(*) FROM contracts GROUP BY 1 ORDER BY 2 DESC").fetchall())
        flags = dict(db.execute("SELECT kind, COUNT(*) FROM spend_flags GROUP BY kind").fetchall())
        # covered: matched to a contract in force on the line's date (spend after a contract ended is not covered)
        # in the reporting currency at the stated rates: never amounts of two currencies added as one
        total, covered = db.execute("SELECT COALESCE(SUM(COALESCE(reporting_amount, amount)), 0), COALESCE(SUM(CASE WHEN"
                                    f" contract_id IS NOT NULL AND match_reason NOT LIKE '%{ENDED_REASON}%' THEN"
                                    " COALESCE(reporting_amount, amount) END), 0) FROM spend_lines"
                                    " WHERE kind = 'invoice'").fetchone()
        top = db.execute(
            "SELECT c.counterparty, c.counterparty_key, COALESCE(SUM(COALESCE(l.reporting_amount, l.amount)), 0) AS spent,"
            " (SELECT COUNT(*) FROM spend_flags f JOIN contracts k ON k.contract_id = f.contract_id"
            "  WHERE k.counterparty_key = c.counterparty_key) AS flags"
            " FROM contracts c LEFT JOIN spend_lines l ON l.contract_id = c.contract_id AND l.kind = 'invoice'"
            " WHERE c.counterparty_key != '' GROUP BY c.counterparty_key ORDER BY spent DESC LIMIT 10").fetchall()
        count = db.execute("SELECT COUNT(*) FROM contracts").fetchone()[0]
    open_now = repository.obligations(today, due_before=today + timedelta(days=30), in_force_only=True)
    overdue = sum(1 for o, _ in open_now if o.due_date < today)
    due = len(open_now) - overdue
    risk_order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    return Dashboard(today=today, contracts=count, by_status=dict(sorted(by_status.items(), key=lambda kv: -kv[1])),
                     by_risk=dict(sorted(by_risk.items(), key=lambda kv: risk_order.get(kv[0], 9))), by_type=by_type,
                     deadlines=repository.renewals(today, horizon_days)[:12], flags_by_kind=flags, spend_total=total,
                     spend_covered=covered, obligations_due=due, obligations_overdue=overdue,
                     top_counterparties=[(r[0], r[1], r[2], r[3]) for r in top])


class MonthSpend(BaseModel):
    month: str  # YYYY-MM
    invoiced: float  # that month, in the reporting currency
    year_to_date: float  # invoiced from January to this month
    ceiling: float  # the yearly not-to-exceed (else the stated value) of the contracts in force that month


class CounterpartyView(BaseModel):
    name: str
    key: str
    contracts: list[ContractRecord]
    months: list[MonthSpend]
    flags: list[SpendFlag]
    performance: list[dict]  # period, sla_target, sla_actual, incidents, contract
    open_obligations: list[tuple[Obligation, str]]
    missed_obligations: list[tuple[Obligation, str]]


def counterparty(repository: Repository, key: str, today: date) -> CounterpartyView | None:
    key = name_key(key)
    contracts = sorted(repository.contracts_as_of(today, "c.counterparty_key = ?", (key,)),
                       key=lambda c: (c.effective_date or date.min, c.name))
    if not contracts:
        return None
    with repository.read() as db:
        ids = [c.contract_id for c in contracts]
        marks = ",".join("?" for _ in ids)
        spend = db.execute(f"SELECT substr(date, 1, 7) AS month, SUM(COALESCE(reporting_amount, amount)) FROM spend_lines"
                           f" WHERE kind = 'invoice' AND"
                           f" contract_id IN ({marks}) GROUP BY month ORDER BY month", ids).fetchall()
        performance = [dict(r) | {"contract": next(c.name for c in contracts if c.contract_id == r["contract_id"])}
                       for r in db.execute(f"SELECT * FROM performance WHERE contract_id IN ({marks}) ORDER BY period", ids)]
    invoiced = defaultdict(float, {m: a for m, a in spend})
    months = _months(min(invoiced) if invoiced else today.strftime("%Y-%m"), today.strftime("%Y-%m"))
    rates = reporting_rates()
    series, running = [], 0.0
    for month in months:
        first = date.fromisoformat(month + "-01")
        running = (0.0 if month.endswith("-01") else running) + invoiced[month]
        # a ceiling is a year's: compared with the year's spend so far, not spread over the months
        ceiling = sum((c.not_to_exceed or c.value or 0) * rates.get((c.currency or "USD").upper(), 0) for c in contracts
                      if in_force_on(c, first))
        series.append(MonthSpend(month=month, invoiced=round(invoiced[month], 2), year_to_date=round(running, 2),
                                 ceiling=round(ceiling, 2)))
    return CounterpartyView(
        name=contracts[0].counterparty or key, key=key, contracts=contracts, months=series,
        flags=[f for c in contracts for f in repository.flags(contract_id=c.contract_id)], performance=performance,
        open_obligations=repository.obligations(today, status="open", counterparty=contracts[0].counterparty, in_force_only=True),
        missed_obligations=repository.obligations(today, status="missed", counterparty=contracts[0].counterparty))


def _months(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    out = []
    while f"{year:04d}-{month:02d}" <= last and len(out) < 120:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
