"""Renewal leverage agent: effective date, term, auto-renewal, notice period, the notice deadline, price
escalators, and a negotiation brief from spend and vendor-performance data.

The deadline arithmetic is the term ledger's (agents/term_ledger.py): the current term as of the review date, rolled
forward by automatic renewals no more times than the clause allows, and the next notice deadline still open.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path

from typing import Annotated

from pydantic import BaseModel, Field

from agents.schema import ExtractionResult, NegotiationBrief, RenewalTerms, Side, SpendRecord
from agents.price_reader import read_escalator
from agents.term_ledger import NoticeRule, TermFacts, position
from agents.term_reader import read_term
from document_io.models import SourceDocument
from model_backends.llm_client import LLMClient
from model_backends.prompt_templates import load_prompt

class PerformanceRecord(BaseModel):
    """Vendor performance per period (CSV: period,sla_target,sla_actual,incidents)."""

    period: str
    sla_target: float
    sla_actual: float
    incidents: int = 0


class RenewalInput(BaseModel):
    document: SourceDocument
    extraction: ExtractionResult
    today: date
    our_side: Side = Field(default="unknown", description="whose brief this is: a customer wants short renewals and "
                           "capped prices, a supplier wants the renewal secured; unknown gives only the dates")
    spend: list[SpendRecord] = Field(default_factory=list)
    performance: list[PerformanceRecord] = Field(default_factory=list)


def load_performance(path: Path) -> list[PerformanceRecord]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [PerformanceRecord.model_validate(row) for row in csv.DictReader(handle)]


def analyse_renewal(data: RenewalInput) -> NegotiationBrief:
    """The term facts come from the term reader (each from the clause that states it, or empty); this agent adds the
    price escalator, the current term end and notice deadline, and the negotiation brief."""
    reading = read_term(data.document)
    terms = RenewalTerms(
        **reading.model_dump(include={
            "agreement_date", "agreement_date_partial", "effective_date", "effective_date_partial", "effective_date_citation",
            "initial_term_months", "term_citation", "renewal_count", "renewal_term_months", "renewal_citation", "notice_days",
            "notice_months", "notice_fixed_day", "notice_citation", "expiration_date", "expiration_partial", "expiration_may_move", "expiration_citation",
            "until_terminated", "redacted"}),
        auto_renews=reading.renewal == "automatic", renewal_kind=reading.renewal)
    if escalator := read_escalator(data.document):
        terms.price_escalator, terms.price_escalator_citation = escalator.summary(), escalator.citation
        if escalator.kind == "redacted":
            terms.redacted.append("price_escalator")
    _deadline(terms, data.today)
    return _brief(terms, data)


def term_facts(terms: RenewalTerms) -> TermFacts:
    """The facts the term ledger rolls forward, as the term reader found them."""
    return TermFacts(effective_date=terms.effective_date, initial_term_end=terms.expiration_date,
                     renewal_kind=terms.renewal_kind, renewal_term_months=terms.renewal_term_months,
                     renewal_count=terms.renewal_count, until_terminated=terms.until_terminated,
                     notice=NoticeRule(days=terms.notice_days, months=terms.notice_months, fixed_day=terms.notice_fixed_day)
                     if terms.renewal_kind in ("automatic", "option") else NoticeRule())


def _deadline(terms: RenewalTerms, today: date) -> None:
    """As of the review date (the term ledger): the current term's end and the next notice deadline still open; with
    none open, the one that passed in this term, so the brief can say it was missed."""
    if terms.expiration_date is None:
        return
    where = position(term_facts(terms), today)
    terms.current_term_end = where.term_end
    deadline = where.notice_deadline
    if deadline is None and where.missed_deadline and where.term_start and where.missed_deadline >= where.term_start - timedelta(days=366):
        deadline = where.missed_deadline
    if deadline is not None:
        terms.notice_deadline = deadline
        terms.days_until_deadline = (deadline - today).days


def _brief(terms: RenewalTerms, data: RenewalInput) -> NegotiationBrief:
    """Negotiation points for our side of the deal. A customer wants short renewals, short notice and capped prices;
    a supplier wants the renewal secured and the escalator kept. With our side unknown the brief gives the dates and
    says which points depend on the side, rather than arguing for either party."""
    points: list[str] = []
    side = data.our_side
    if terms.redacted:
        points.append(f"The filed text redacts {', '.join(terms.redacted)}: read the unredacted original before relying on the dates.")
    if side == "customer":
        points.extend(_customer_points(terms))
    elif side == "supplier":
        points.extend(_supplier_points(terms))
    elif side == "unknown" and (terms.auto_renews or terms.price_escalator):
        points.append("Our side of the deal is not settled: the renewal and price points depend on whether we buy or supply.")
    annual_spend = None
    invoices = [r for r in data.spend if r.kind == "invoice"]
    if invoices:
        latest = max(r.date for r in invoices)
        annual_spend = round(sum(r.amount for r in invoices if (latest - r.date).days < 365), 2)
        if side != "supplier":
            points.append(f"Annual spend of {annual_spend:,.2f} gives volume leverage: ask for a 5–10% renewal discount.")
    sla = None
    if data.performance:
        sla = round(sum(p.sla_actual for p in data.performance) / len(data.performance), 2)
        misses = [p.period for p in data.performance if p.sla_actual < p.sla_target]
        if misses and side != "supplier":
            points.append(f"SLA missed in {len(misses)} period(s) ({', '.join(misses)}): claim service credits before renewing.")
    return NegotiationBrief(terms=terms, leverage_points=points, recommended_action=_action(terms),
                            annual_spend=annual_spend, sla_attainment=sla)


def _customer_points(terms: RenewalTerms) -> list[str]:
    points = []
    if terms.auto_renews and terms.renewal_term_months and terms.renewal_term_months > 12:
        points.append(f"Auto-renews for {terms.renewal_term_months:g} months at a time: ask for 12-month renewals.")
    if terms.auto_renews and terms.notice_days and terms.notice_days > 90:
        points.append(f"{terms.notice_days}-day non-renewal notice is long: ask for 60 days.")
    if terms.price_escalator:
        points.append(f"Price escalator ({terms.price_escalator}): ask for a cap of 3% or CPI, whichever is lower.")
    return points


def _supplier_points(terms: RenewalTerms) -> list[str]:
    points = []
    if terms.renewal_kind == "option":
        points.append("Renewal is at a party's option: if the option is the customer's, ask for automatic renewal instead.")
    elif terms.renewal_kind is None and terms.expiration_date is not None:
        points.append("The contract ends without renewal: propose a renewal term before it expires.")
    if terms.expiration_date is not None and not terms.price_escalator:
        points.append("No price increase right on renewal: ask for an annual CPI adjustment.")
    return points


def _action(terms: RenewalTerms) -> str:
    """What to diary: the notice deadline, named for what the notice does (stop an automatic renewal, exercise an
    option); without one, what the contract leaves to check by hand."""
    if terms.days_until_deadline is None:
        if terms.until_terminated:
            return "The term runs until a party ends it: diary a yearly review of whether to keep it."
        if terms.current_term_end is not None:
            return f"The current term ends {terms.current_term_end}; no renewal notice applies. Plan renewal or exit before then."
        return "Confirm the effective date, term and notice period by hand: the contract does not state them all."
    what = "notice of non-renewal" if terms.renewal_kind == "automatic" else "notice exercising the renewal option"
    if terms.days_until_deadline < 0:
        return f"The {what} deadline for this term passed on {terms.notice_deadline}; plan for the next term or negotiate an exit."
    if terms.days_until_deadline <= 120:
        return f"Decide now: {what} is due by {terms.notice_deadline} ({terms.days_until_deadline} days)."
    return f"Diary the {what} deadline {terms.notice_deadline} ({terms.days_until_deadline} days) and start talks 60 days before."


# --- LLM backend ------------------------------------------------------------------------------------

_RENEWAL_CATEGORIES = ("term", "auto_renewal", "renewal_notice", "price_escalation", "payment_terms")


class BriefAnswer(BaseModel):
    leverage_points: list[Annotated[str, Field(max_length=400)]] = Field(min_length=1, max_length=6)
    recommended_action: str = Field(max_length=600)


def analyse_renewal_with_llm(data: RenewalInput, llm: LLMClient) -> NegotiationBrief:
    """Dates and deadlines are computed here, in code; the model writes the negotiation brief from the
    renewal clauses, those computed terms and the spend and performance figures."""
    brief = analyse_renewal(data)
    clauses = [c.span.quote for c in data.extraction.clauses if c.category in _RENEWAL_CATEGORIES]
    if not clauses:
        return brief
    answer = llm.structured("renewal_leverage", load_prompt("renewal_leverage"), {
        "today": data.today.isoformat(), "clauses": "\n".join(dict.fromkeys(clauses)),
        "terms": brief.terms.model_dump_json(exclude={"effective_date_citation", "term_citation", "renewal_citation",
                                                      "notice_citation", "price_escalator_citation"}),
        "spend": f"{brief.annual_spend:.2f}" if brief.annual_spend is not None else "not given",
        "performance": f"SLA attainment {brief.sla_attainment:.1%}" if brief.sla_attainment is not None else "not given",
    }, BriefAnswer)
    return brief.model_copy(update={"leverage_points": answer.leverage_points, "recommended_action": answer.recommended_action})


def analyse_renewal_hybrid(data: RenewalInput, llm: LLMClient) -> tuple[NegotiationBrief, list[str]]:
    """The local brief (dates and deadlines computed in code) with the model's negotiation points added after the
    local ones; the recommended action stays the computed one. No model answer leaves the local brief."""
    local = analyse_renewal(data)
    model, error = llm.second_opinion("renewal_leverage", lambda: analyse_renewal_with_llm(data, llm))
    if model is None:
        return local, [f"renewal: no usable answer from the model ({error}); the local brief is used"]
    offered = [p for p in model.leverage_points if p not in local.leverage_points]
    if model.recommended_action != local.recommended_action:
        offered.append(model.recommended_action)
    kept = [p for p in offered if _ON_RENEWAL.search(p)]  # "Sing loudly." is no negotiation point
    if offered and not kept:
        llm.usage.book("renewal_leverage", unusable=1)
    added = [f"(model) {p}" for p in kept]
    dropped = f"; {len(offered) - len(kept)} off-topic one(s) left out" if len(kept) < len(offered) else ""
    return local.model_copy(update={"leverage_points": local.leverage_points + added}), \
        [f"renewal: the model added {len(added)} negotiation point(s) to the local brief{dropped}"]


# what a negotiation point for a renewal is about: the term, its money, the supplier's performance, the way out
_ON_RENEWAL = re.compile(r"renew|notice|term\b|terminat|expir|price|pricing|fee|rate|discount|spend|cost|invoice|budget|"
                         r"\bsla\b|service level|uptime|performance|incident|credit|deadline|escalat|increase|volume|"
                         r"competit|benchmark|alternative|exit|leverag|negotiat|penalt|cap\b|%|\d", re.IGNORECASE)
