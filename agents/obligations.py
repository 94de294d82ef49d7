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

import re
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, Field

from agents.schema import ContractProfile, NegotiationBrief, Span
from agents.term_ledger import NoticeRule
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
    offset_days: int | None = None
    anchor: date | None = None


class ObligationsInput(BaseModel):
    document: SourceDocument
    profile: ContractProfile
    brief: NegotiationBrief | None = None
    today: date


# bound to act: not "shall not", and not a right ("shall have the right to audit", "shall be entitled to")
_BOUND = re.compile(r"\b(?:shall|will|must|agrees?\s+to|is\s+required\s+to|undertakes?\s+to)\b"
                    r"(?!\s+(?:not\b|(?:also\s+)?(?:have|has)\s+(?:the\s+)?(?:right|option|discretion)|be\s+entitled|be\s+permitted))", re.I)
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
        rule = due_rule(sentence, recurrence, data.brief.terms.effective_date if data.brief else None, data.today)
        due = occurrences_around(rule, data.today)[1]
        found.append(FoundObligation(kind=kind, owner_side=owner, summary=_summary(kind, sentence),
                                     citation=Span.of(document, start, end), due_date=due,
                                     recurrence="on event" if due is None and _EVENT.search(sentence) else recurrence,
                                     offset_days=rule.offset_days or None, anchor=rule.anchor))
    terms = data.brief.terms if data.brief else None
    # the notice that stops an automatic renewal: a contract that simply ends needs no notice from anyone. It falls
    # due once a term; the term ledger gives the open deadline on the day it is shown
    if terms and terms.auto_renews and terms.notice_citation and (terms.notice_days or terms.notice_fixed_day):
        start, end = next(((s, e) for s, e in sentence_spans(text) if s <= terms.notice_citation.start < e),
                          (terms.notice_citation.start, terms.notice_citation.end))
        rule = NoticeRule(days=terms.notice_days if terms.notice_months is None else None, months=terms.notice_months,
                          fixed_day=terms.notice_fixed_day)
        found.append(FoundObligation(
            kind="notice to terminate", owner_side="us", due_date=terms.notice_deadline, recurrence="each term",
            summary=f"Give notice of non-renewal ({rule.describe()}) or the contract renews",
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


class DueRule(BaseModel):
    """When a duty falls due, as the sentence states it: a date (once), or a rhythm with days after each period's end
    (monthly, quarterly) or after each anniversary of the effective date (yearly)."""

    recurrence: str
    offset_days: int = 0
    anchor: date | None = None
    stated: date | None = None


_MOST_PERIODS = 400


def occurrences_around(rule: DueRule, today: date) -> tuple[date | None, date | None]:
    """(the last occurrence before `today`, the first on or after it). A one-off duty has only its date."""
    if rule.recurrence == "once":
        if rule.stated is None:
            return None, None
        return (rule.stated, None) if rule.stated < today else (None, rule.stated)
    every = _occurrences(rule, today)
    if every is None:
        return None, None
    previous = None
    for _ in range(_MOST_PERIODS):
        due = next(every)
        if due >= today:
            return previous, due
        previous = due
    return previous, None


def _occurrences(rule: DueRule, today: date):
    """The duty's due dates in order, from a little before `today`."""
    offset = timedelta(days=rule.offset_days)
    if rule.recurrence in ("monthly", "continuous", "quarterly"):
        months = 3 if rule.recurrence == "quarterly" else 1
        start = today - offset - relativedelta(months=months + 1)
        month = start.month - (start.month - 1) % months  # the first month of its period
        period_start = date(start.year, month, 1)

        def monthly():
            first = period_start
            while True:
                end = first + relativedelta(months=months) - timedelta(days=1)
                yield end + offset
                first = end + timedelta(days=1)
        return monthly()
    if rule.recurrence == "yearly" and rule.anchor is not None:
        years = max(0, relativedelta(today, rule.anchor).years - 1)

        def yearly():
            n = years
            while True:
                yield rule.anchor + relativedelta(years=n) + offset
                n += 1
        return yearly()
    return None


def due_rule(sentence: str, recurrence: str, effective_date: date | None, today: date) -> DueRule:
    """The sentence's due rule: a date it states (the first from `today` on, for a one-off duty), and for a rhythm
    the days after each period ("within fifteen days following the end of each month")."""
    stated = [d for _, _, d in find_dates(sentence) if d >= today]
    offset = next((int(d.in_unit("day")) for d in find_durations(sentence)
                   if d.value and re.search(r"\b(?:after|following|of)\b", sentence[d.end:d.end + 25], re.I)), 0)
    return DueRule(recurrence=recurrence, offset_days=offset, stated=min(stated) if stated and recurrence == "once" else None,
                   anchor=effective_date if recurrence == "yearly" else None)


def _next_due(sentence: str, recurrence: str, data: ObligationsInput) -> date | None:
    start = data.brief.terms.effective_date if data.brief else None
    return occurrences_around(due_rule(sentence, recurrence, start, data.today), data.today)[1]
