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

from agents.duty_reader import lead_in, read_duty, read_item
from agents.schema import ContractProfile, NegotiationBrief, Span
from agents.term_ledger import NoticeRule
from document_io.dates import find_dates
from document_io.legal_text import sentence_spans
from document_io.models import SourceDocument
from document_io.quantities import find_durations


class FoundObligation(BaseModel):
    kind: str
    owner_side: str = Field(pattern="^(us|them|both|unknown)$")
    owner_name: str = Field(default="", description="the bound party as the sentence names it")
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


_RHYTHM = (
    ("monthly", re.compile(r"\b(?:monthly|each\s+(?:calendar\s+)?month|every\s+month|per\s+month|"
                           r"(?:from|after|following)\s+the\s+end\s+of\s+the\s+(?:calendar\s+)?month)\b", re.I)),
    ("quarterly", re.compile(r"\b(?:quarterly|each\s+(?:calendar\s+)?quarter|every\s+quarter)\b", re.I)),
    # "annual fees not to exceed" is a cap, not a rhythm: "annual" only for what is done once a year
    ("yearly", re.compile(r"\b(?:annually|annual\s+(?:reports?|statements?|audits?|certificat\w*|reviews?|meetings?|"
                          r"reconciliation)|each\s+(?:calendar\s+|contract\s+)?year|every\s+year|once\s+per\s+year|yearly|"
                          r"per\s+(?:calendar\s+|contract\s+)?year)\b", re.I)),
)
# a duty that holds all along rather than falling due: a service kept running, a logo on every episode
_CONTINUOUS = re.compile(r"\b(?:continuously|at\s+all\s+times|each\s+episode|every\s+episode|in\s+play|throughout\s+the\s+term|"
                         r"during\s+the\s+(?:term|performance)|obtain\s+and\s+maintain|must\s+have)\b", re.I)
# what sets an undated duty off: a request, an order, a shipment, a breach, the end of the agreement
_EVENT = re.compile(r"\b(?:upon|after|following|prior\s+to|before|immediately|promptly|in\s+the\s+event|if|when|in\s+case|"
                    r"once|as\s+soon\s+as|becoming\s+aware|on\s+(?:request|completion|termination|signing)|within\s+[\w-]+\s+\(?\d*\)?\s*"
                    r"(?:hours?|days?|business\s+days?|working\s+days?)|as\s+incurred|being\s+incurred|in\s+advance)\b", re.I)
# "by the 5th day of each month": due that many days into the next period
_DAY_OF_PERIOD = re.compile(r"\bby\s+the\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:calendar\s+)?day\s+of\s+each\s+(?:calendar\s+)?month", re.I)


def find_obligations(data: ObligationsInput) -> list[FoundObligation]:
    document, text = data.document, data.document.text
    found: list[FoundObligation] = []
    effective = data.brief.terms.effective_date if data.brief else None
    lead, items_left, next_item = None, 0, None
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        duty = read_duty(sentence, data.profile) if end - start >= 25 else None
        number = re.match(r"\s*(\d+)\.\s+[A-Z]", sentence)
        # a numbered paragraph is the next section, unless it carries on the list's own numbering ("1. Maintain ...",
        # "2. Disburse ...")
        carries_on = number is None or (next_item is not None and int(number.group(1)) in (next_item, next_item + 1))
        if duty is None and lead and items_left > 0 and carries_on:
            duty = read_item(sentence, lead, data.profile)  # "b. Report to the other Party ..." under "each Party agrees to:"
        if (introduces := lead_in(sentence)) is not None:
            lead, items_left = introduces, 12
        else:
            items_left -= 1
        if number and carries_on:
            next_item = int(number.group(1)) + 1
        if trailing := re.search(r"(?:^|\s)(\d{1,2})\.\s*$", sentence):  # the next item's number, split off by the sentence break
            next_item = int(trailing.group(1))
        elif introduces is not None:
            next_item = 1
        if duty is None:
            continue
        rule = _due_rule_of(sentence, duty.kind, effective, data.today)
        due = occurrences_around(rule, data.today)[1] if rule.recurrence != "continuous" or duty.kind == "sla" else None
        recurrence = rule.recurrence
        if recurrence == "once" and due is None:
            recurrence = "on event" if _EVENT.search(sentence) else "continuous" if _CONTINUOUS.search(sentence) else "once"
        found.append(FoundObligation(kind=duty.kind, owner_side=duty.owner_side, owner_name=duty.owner_name,
                                     summary=_summary(duty.kind, sentence), citation=Span.of(document, start, end),
                                     due_date=due, recurrence=recurrence, offset_days=rule.offset_days or None,
                                     anchor=rule.anchor))
    terms = data.brief.terms if data.brief else None
    # the notice that stops an automatic renewal: a contract that simply ends needs no notice from anyone. It falls
    # due once a term; the term ledger gives the open deadline on the day it is shown
    if terms and terms.auto_renews and terms.notice_citation and (terms.notice_days or terms.notice_fixed_day):
        start, end = next(((s, e) for s, e in sentence_spans(text) if s <= terms.notice_citation.start < e),
                          (terms.notice_citation.start, terms.notice_citation.end))
        # the non-renewal notice itself, not also a plain notice duty read from the same sentence
        found = [f for f in found if not (f.kind == "notice" and f.citation.start <= start < f.citation.end)]
        rule = NoticeRule(days=terms.notice_days, months=terms.notice_months, fixed_day=terms.notice_fixed_day)
        found.append(FoundObligation(
            kind="notice to terminate", owner_side="us", owner_name="us", due_date=terms.notice_deadline,
            recurrence="each term", summary=f"Give notice of non-renewal ({rule.describe()}) or the contract renews",
            citation=Span.of(document, start, max(end, terms.notice_citation.end))))
    return found


def _due_rule_of(sentence: str, kind: str, effective: date | None, today: date) -> DueRule:
    """The duty's rhythm and offset: a service level is continuous (reported monthly); insurance is renewed with the
    policy each year; "by the 5th day of each month" is five days after each month's end."""
    if day := _DAY_OF_PERIOD.search(sentence):
        return DueRule(recurrence="monthly", offset_days=int(day.group("day")))
    recurrence = "continuous" if kind == "sla" else next((r for r, p in _RHYTHM if p.search(sentence)), "once")
    if kind == "insurance" and recurrence == "once" and re.search(r"\bcertificates?\b", sentence, re.I):
        recurrence = "yearly"  # certificates are renewed with the policy
    if kind == "insurance" and recurrence == "once" and (_CONTINUOUS.search(sentence) or re.search(r"\bmaintain\b", sentence, re.I)):
        recurrence = "continuous"
    return due_rule(sentence, recurrence, effective, today)


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
                   if d.value and re.search(r"\b(?:after|following|of|from)\b", sentence[d.end:d.end + 25], re.I)), 0)
    return DueRule(recurrence=recurrence, offset_days=offset, stated=min(stated) if stated and recurrence == "once" else None,
                   anchor=effective_date if recurrence == "yearly" else None)
