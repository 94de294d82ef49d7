"""The renewal leverage brief from the whole portfolio, for a contract coming up for renewal: how spend is trending,
what it has cost beyond its terms (the flags), service-level misses against what it promises, its price escalator
against other contracts of the same type, and the other counterparties we already hold such contracts with
(alternatives to name in the negotiation). Every number comes from the repository; nothing is estimated."""

from __future__ import annotations

import math
import re
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
    in_force = [c for c in repository.contracts_as_of(
        today, "c.contract_type = ? AND c.contract_id != ? AND c.counterparty_key != '' AND c.counterparty_key != ?",
        (contract.contract_type, contract.contract_id, name_key(contract.counterparty))) if c.status not in ("expired", "terminated")]
    # an alternative supplies the same thing: of the same type *and* close in what the contract is for (a hosting
    # contract's alternatives host; a naturopath's clinic software is no alternative to a card processor)
    ours = scope_words(repository, contract)
    peers = [(c.counterparty, c.name, c.price_escalator_pct, c.payment_terms_days, c.liability_cap) for c in in_force
             if _similar(ours, scope_words(repository, c)) >= SAME_SCOPE]
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


SAME_SCOPE = 0.2  # cosine of what two contracts are for, above which one counterparty is an alternative to the other
_SCOPE_VERBS = re.compile(r"\b(?:provide|provides|supply|supplies|sell|sells|license|licenses|licence|host|hosts|hosting|deliver|"
                          r"manufacture|distribute|develop|perform|render|lease|sponsor)\b", re.I)
_SCOPE_STOP = set("""a an the and or of to in on for with by from at as is are be been shall will may must any all such this that
these those its their his her it they which who agreement party parties hereto hereunder herein thereof services service
provider customer company client supplier vendor licensor licensee provide provides supply supplies sell sells license
licenses licence host hosts deliver perform render other each under terms term including without limitation set forth
pursuant accordance subject within days year years inc llc ltd corporation into entered whereas follows has have
made effective date non exclusive grants grant use used using time request requested hereby between following both one
two three five first means mean also than more less only upon after before during period written notice rights right
state laws law""".split())


def scope_words(repository: Repository, contract: ContractRecord) -> dict[str, float]:
    """What the contract is for, as weighted words: its title, the category of its intake request, and the sentences
    that say what is supplied ("Provider shall host the Customer's web site ...")."""
    with repository.read() as db:
        rows = db.execute("SELECT text FROM contract_clauses WHERE contract_id = ? ORDER BY start", (contract.contract_id,)).fetchall()
    sentences = [r[0] for r in rows if _SCOPE_VERBS.search(r[0])][:8]
    text = " ".join([contract.title or "", (contract.request.category or "") if contract.request else "", *sentences])
    names = {w for name in [*contract.parties, contract.counterparty or ""] for w in re.findall(r"[a-z]{3,}", name.lower())}
    counts: dict[str, float] = {}
    for word in re.findall(r"[a-z]{3,}", text.lower()):
        if word not in _SCOPE_STOP and word not in names:
            counts[word[:7]] = counts.get(word[:7], 0.0) + 1.0  # a crude stem: "hosting" = "hosted"
    return {w: 1.0 + math.log(n) for w, n in counts.items()}


def _similar(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(w, 0.0) for w, v in a.items())
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


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
