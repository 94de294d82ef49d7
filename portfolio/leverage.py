"""The renewal leverage brief from the whole portfolio, for a contract coming up for renewal: how spend is trending,
what it has cost beyond its terms (the flags), service-level misses against what it promises, its price escalator
against other contracts of the same type, and the other counterparties we already hold such contracts with
(alternatives to name in the negotiation). Every number comes from the repository; nothing is estimated."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

from pydantic import BaseModel, Field

from portfolio.records import ContractRecord
from portfolio.repository import Repository, name_key


class Alternative(BaseModel):
    counterparty: str
    contract: str
    price_escalator_pct: float | None = None
    payment_terms_days: int | None = None
    liability_cap: str | None = None


class LeverageBrief(BaseModel):
    contract_id: str
    spend_last_12m: float = 0.0
    spend_prior_12m: float = 0.0
    spend_trend_pct: float | None = Field(default=None, description="last 12 months against the 12 before, in %")
    flags: list[str] = Field(default_factory=list, description="spend flags on this contract, as detail lines")
    sla_misses_12m: int = 0
    sla_periods_12m: int = 0
    escalator_pct: float | None = None
    escalator_median_same_type: float | None = None
    alternatives: list[Alternative] = Field(default_factory=list)
    points: list[str] = Field(default_factory=list, description="the leverage points in sentences, strongest first")


def leverage_brief(repository: Repository, contract: ContractRecord, today: date) -> LeverageBrief:
    brief = LeverageBrief(contract_id=contract.contract_id, escalator_pct=contract.price_escalator_pct)
    year_ago, two_years_ago = today - timedelta(days=365), today - timedelta(days=730)
    with repository.read() as db:
        last, prior = db.execute(
            "SELECT COALESCE(SUM(CASE WHEN date > ? THEN COALESCE(reporting_amount, amount) END), 0), COALESCE(SUM(CASE"
            " WHEN date <= ? AND date > ? THEN COALESCE(reporting_amount, amount) END), 0) FROM spend_lines"
            " WHERE contract_id = ? AND kind = 'invoice'",
            (year_ago.isoformat(), year_ago.isoformat(), two_years_ago.isoformat(), contract.contract_id)).fetchone()
        periods = db.execute("SELECT sla_actual < sla_target FROM performance WHERE contract_id = ? AND period >= ?",
                             (contract.contract_id, year_ago.strftime("%Y-%m"))).fetchall()
        escalators = [r[0] for r in db.execute(
            "SELECT price_escalator_pct FROM contracts WHERE contract_type = ? AND price_escalator_pct IS NOT NULL",
            (contract.contract_type,))]
    peers = [(c.counterparty, c.name, c.price_escalator_pct, c.payment_terms_days, c.liability_cap)
             for c in repository.contracts_as_of(today, "c.contract_type = ? AND c.contract_id != ? AND c.counterparty_key != ''"
                                                 " AND c.counterparty_key != ?",
                                                 (contract.contract_type, contract.contract_id, name_key(contract.counterparty)))
             if c.status not in ("expired", "terminated")]
    brief.spend_last_12m, brief.spend_prior_12m = round(last, 2), round(prior, 2)
    if prior:
        brief.spend_trend_pct = round(100 * (last - prior) / prior, 1)
    brief.flags = [f"{f.kind.replace('_', ' ')}: {f.detail}" for f in repository.flags(contract_id=contract.contract_id)]
    brief.sla_periods_12m, brief.sla_misses_12m = len(periods), sum(1 for (missed,) in periods if missed)
    if escalators:
        brief.escalator_median_same_type = statistics.median(escalators)
    seen = set()
    for counterparty, name, escalator, terms, cap in peers:
        if counterparty not in seen:
            seen.add(counterparty)
            brief.alternatives.append(Alternative(counterparty=counterparty, contract=name, price_escalator_pct=escalator,
                                                  payment_terms_days=terms, liability_cap=cap))
    brief.points = _points(brief, contract)
    return brief


def _points(brief: LeverageBrief, contract: ContractRecord) -> list[str]:
    points = []
    if brief.sla_misses_12m:
        points.append(f"Service levels missed in {brief.sla_misses_12m} of the last {brief.sla_periods_12m} months: ask for "
                      "service credits or a price reduction before renewing.")
    for flag in brief.flags:
        points.append(f"Spend beyond the terms — {flag}.")
    if brief.spend_trend_pct is not None and abs(brief.spend_trend_pct) >= 10:
        direction = "up" if brief.spend_trend_pct > 0 else "down"
        points.append(f"Spend is {direction} {abs(brief.spend_trend_pct):.0f}% year on year ({brief.spend_last_12m:,.0f} "
                      f"against {brief.spend_prior_12m:,.0f})" + (": volume to negotiate a discount." if direction == "up"
                                                                  else ": less reason to accept a price rise."))
    if brief.escalator_pct is not None and brief.escalator_median_same_type is not None \
            and brief.escalator_pct > brief.escalator_median_same_type:
        points.append(f"The price escalator ({brief.escalator_pct:g}% a year) is above the median of our other "
                      f"{contract.contract_type} contracts ({brief.escalator_median_same_type:g}%).")
    if brief.alternatives:
        names = ", ".join(a.counterparty for a in brief.alternatives[:3])
        points.append(f"We already contract {contract.contract_type} with {names}: name them as alternatives.")
    return points
