"""Obligations agent: the promises that must be kept after signature, who owes each one, and when it is next due.

A sentence is an obligation when a party is bound to act ("shall", "will", "must", "agrees to") and the act is one a
contract manager monitors: service levels, reports, deliverables, insurance certificates, audits, payments, notices.
The owner is the bound party read from the sentence's subject, mapped to our side or theirs through the classifier's
parties and their defined roles. The next due date comes from a date in the sentence, its rhythm (monthly,
quarterly, yearly from the effective date) plus any "within N days after", or, for the notice to stop a renewal,
the renewal agent's notice deadline. Nothing is dated by guesswork: an event-triggered duty ("within 48 hours of a
breach") is filed without a due date.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, Field

from agents.schema import ContractProfile, NegotiationBrief, Span
from document_io.dates import find_dates
from document_io.legal_text import sentence_spans
from document_io.models import SourceDocument
from document_io.quantities import find_durations


class FoundObligation(BaseModel):
    kind: str
    owner_side: str = Field(pattern="^(us|them|both)$")
    summary: str
    citation: Span
    due_date: date | None = None
    recurrence: str = "once"


class ObligationsInput(BaseModel):
    document: SourceDocument
    profile: ContractProfile
    brief: NegotiationBrief | None = None
    today: date


_BOUND = re.compile(r"\b(?:shall|will|must|agrees?\s+to|is\s+required\s+to|undertakes?\s+to)\b(?!\s+not\b)", re.I)
_KINDS = (
    ("insurance", re.compile(r"\b(?:certificates?\s+of\s+insurance|insurance\s+certificates?|maintain\b[^.]{0,60}insurance)", re.I)),
    ("audit", re.compile(r"\baudit", re.I)),
    ("report", re.compile(r"\b(?:reports?|statements?\s+of\s+account|royalty\s+statements?)\b", re.I)),  # before sla: an SLA report
    ("sla", re.compile(r"\b(?:uptime|availability|service\s+levels?|response\s+times?|resolution\s+times?|SLA)\b|"
                       r"\bavailable\s+(?:at\s+least\s+)?\d{2}(?:\.\d+)?\s?%", re.I)),
    ("deliverable", re.compile(r"\b(?:deliver(?:y|ables?)?|milestones?|ship(?:ment)?)\b", re.I)),
    ("payment", re.compile(r"\b(?:pay|payable|remit)\b[^.]{0,80}\b(?:invoice|fees?|royalt|within|net\s*\d)", re.I)),
    ("notice", re.compile(r"\bnotify\b|\bnotice\s+of\s+(?:any\s+)?(?:breach|incident|change)", re.I)),
)
_RHYTHM = (
    ("monthly", re.compile(r"\b(?:monthly|each\s+(?:calendar\s+)?month|every\s+month|per\s+month)\b", re.I)),
    ("quarterly", re.compile(r"\b(?:quarterly|each\s+(?:calendar\s+)?quarter|every\s+quarter)\b", re.I)),
    ("yearly", re.compile(r"\b(?:annual(?:ly)?|each\s+(?:calendar\s+|contract\s+)?year|every\s+year|once\s+per\s+year|yearly)\b", re.I)),
)
_EVENT = re.compile(r"\b(?:upon|following|after|of)\s+(?:becoming\s+aware|discovery|the\s+occurrence|any\s+(?:security\s+)?"
                    r"(?:breach|incident)|a\s+(?:security\s+|data\s+|personal\s+data\s+)?(?:breach|incident)|request)", re.I)
_NOT_MONITORED = re.compile(r"\b(?:indemnif|hold\s+harmless|warrant|represent|defend)", re.I)
_BOTH = re.compile(r"^\s*(?:each\s+party|both\s+parties|the\s+parties|either\s+party)\b", re.I)
_CUSTOMER_ROLES = re.compile(r"\b(?:customer|buyer|licensee|client|purchaser|company|subscriber|recipient)\b", re.I)
_SUPPLIER_ROLES = re.compile(r"\b(?:supplier|provider|vendor|licensor|seller|contractor|consultant|service\s+provider|"
                             r"distributor|manufacturer)\b", re.I)


def find_obligations(data: ObligationsInput) -> list[FoundObligation]:
    document, text = data.document, data.document.text
    found: list[FoundObligation] = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        bound = _BOUND.search(sentence)
        if bound is None or end - start < 25:
            continue
        predicate = sentence[bound.start():]
        kind = next((k for k, pattern in _KINDS if pattern.search(predicate)), None)
        if kind is None or _NOT_MONITORED.search(sentence):
            continue
        owner = _owner(sentence[:bound.start()], data.profile)
        if kind == "payment" and re.search(r"\binvoices?\b[^.]{0,60}\bpayable\b", sentence, re.I):
            owner = _side_of_role("customer", data.profile) or owner  # "Supplier will invoice ... payable within": the customer pays
        if owner is None:
            continue
        recurrence = "continuous" if kind == "sla" else next((r for r, p in _RHYTHM if p.search(sentence)), "once")
        if kind == "insurance" and recurrence == "once":
            recurrence = "yearly"  # certificates are renewed with the policy
        due = _next_due(sentence, recurrence, data)
        found.append(FoundObligation(kind=kind, owner_side=owner, summary=_summary(kind, sentence),
                                     citation=Span.of(document, start, end), due_date=due,
                                     recurrence="on event" if due is None and _EVENT.search(sentence) else recurrence))
    terms = data.brief.terms if data.brief else None
    # the notice that stops an automatic renewal: a contract that simply ends needs no notice from anyone
    if terms and terms.auto_renews and terms.notice_deadline and terms.notice_citation:
        start, end = next(((s, e) for s, e in sentence_spans(text) if s <= terms.notice_citation.start < e),
                          (terms.notice_citation.start, terms.notice_citation.end))
        found.append(FoundObligation(
            kind="notice to terminate", owner_side="us", due_date=terms.notice_deadline, recurrence="once",
            summary=f"Give notice by {terms.notice_deadline:%d %b %Y} or the contract renews ({terms.notice_days} days' notice)",
            citation=Span.of(document, start, max(end, terms.notice_citation.end))))
    return found


def _owner(subject: str, profile: ContractProfile) -> str | None:
    """Who the sentence binds: the party named nearest before the verb ("Supplier may invoice and Buyer shall pay":
    Buyer), read against the parties' names and defined roles, then the usual role words."""
    subject = subject[-120:]
    if _BOTH.search(subject[-40:]):
        return "both"
    mentions: list[tuple[int, str]] = []
    for party in profile.parties:
        for name in dict.fromkeys(n for n in (party.role, *party.defined_terms, party.name) if n):
            mentions += [(m.end(), "us" if party.is_us else "them") for m in re.finditer(rf"\b{re.escape(name)}\b", subject, re.I)]
    for pattern, role in ((_CUSTOMER_ROLES, "customer"), (_SUPPLIER_ROLES, "supplier")):
        side = _side_of_role(role, profile)
        mentions += [(m.end(), side) for m in pattern.finditer(subject) if side]
    return max(mentions)[1] if mentions else None


def _side_of_role(role: str, profile: ContractProfile) -> str | None:
    if profile.our_side not in ("customer", "supplier"):
        return None
    return "us" if role == profile.our_side else "them"


def _summary(kind: str, sentence: str) -> str:
    words = " ".join(sentence.split())
    return f"{kind}: {words[:160]}{'…' if len(words) > 160 else ''}"


def _next_due(sentence: str, recurrence: str, data: ObligationsInput) -> date | None:
    today = data.today
    stated = [d for _, _, d in find_dates(sentence) if d >= today]
    if stated and recurrence == "once":
        return min(stated)
    offset = next((int(d.in_unit("day")) for d in find_durations(sentence)
                   if d.value and re.search(r"\b(?:after|following|of)\b", sentence[d.end:d.end + 25], re.I)), 0)
    if recurrence in ("monthly", "continuous"):
        period_end = date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
        due = period_end + timedelta(days=offset)
        return due if due >= today else period_end + relativedelta(months=1) + timedelta(days=offset)
    if recurrence == "quarterly":
        quarter_end_month = 3 * ((today.month - 1) // 3) + 3
        period_end = date(today.year, quarter_end_month, calendar.monthrange(today.year, quarter_end_month)[1])
        due = period_end + timedelta(days=offset)
        return due if due >= today else period_end + relativedelta(months=3) + timedelta(days=offset)
    if recurrence == "yearly":
        start = data.brief.terms.effective_date if data.brief else None
        if start is None:
            return None
        years = max(0, relativedelta(today, start).years)
        due = start + relativedelta(years=years) + timedelta(days=offset)
        return due if due >= today else start + relativedelta(years=years + 1) + timedelta(days=offset)
    return None
