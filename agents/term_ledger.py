"""The term ledger: where a contract stands on a given day, computed from its grounded term facts, never stored.

From the end of the initial term, the kind of renewal, the renewal term and how many renewals the clause allows, and
the notice rule, `position(facts, as_of)` gives the current term and its end, the notice deadline still open, the last
deadline that passed without a notice, and whether the contract has ended. Every view of the portfolio (renewals,
alerts, calendar, obligations, status, the counterparty page) asks the ledger for the day it shows, so an automatic
renewal rolls forward by itself and a contract that simply ends stops.

Calendar arithmetic is in calendar months: a renewal term starts the day after the last one ended and runs whole
months (a term ending 31 December renews to the next 31 December, one ending 30 June for six months to 31 December);
"six months" before 31 December is 30 June, and a fixed date ("on or before October 1") is that date, the last one
on or before the term's end.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, Field

RenewalKind = Literal["automatic", "option", "mutual"]
# a guard against facts that would roll a term end forward for ever (a one-month renewal from 1900)
_MOST_TERMS = 2400


class NoticeRule(BaseModel):
    """How long before a term's end the notice tied to renewal is due: a number of days, of calendar months, or a
    fixed day of the year. At most one is set; none means no notice is stated."""

    days: int | None = None
    months: int | None = None
    fixed_day: str | None = Field(default=None, pattern=r"^\d{2}-\d{2}$", description="'MM-DD': on or before that day")

    @property
    def stated(self) -> bool:
        return self.days is not None or self.months is not None or self.fixed_day is not None

    def deadline_for(self, term_end: date) -> date | None:
        if self.fixed_day is not None:
            month, day = (int(x) for x in self.fixed_day.split("-"))
            for year in (term_end.year, term_end.year - 1):
                candidate = _clipped(year, month, day)
                if candidate <= term_end:
                    return candidate
            return None
        if self.months is not None:
            return term_end - relativedelta(months=self.months)
        if self.days is not None:
            return term_end - timedelta(days=self.days)
        return None

    def describe(self) -> str:
        if self.fixed_day is not None:
            month, day = (int(x) for x in self.fixed_day.split("-"))
            return f"by {date(2000, month, day):%d %B} each year"
        if self.months is not None:
            return f"{self.months} month{'s' if self.months != 1 else ''}' notice"
        return f"{self.days} days' notice" if self.days is not None else "no notice stated"


class TermFacts(BaseModel):
    """The grounded facts the ledger rolls forward (each read from the clause that states it, or empty)."""

    effective_date: date | None = None
    initial_term_end: date | None = Field(default=None, description="the end of the initial term")
    renewal_kind: RenewalKind | None = None
    renewal_term_months: float | None = None
    renewal_count: int | None = Field(default=None, description="how many renewals the clause allows (None: no limit)")
    notice: NoticeRule = Field(default_factory=NoticeRule)
    until_terminated: bool = Field(default=False, description="runs until a party ends it: no end date")
    notice_given_on: date | None = Field(default=None, description="a recorded notice of non-renewal")


TermState = Literal["not started", "in force", "renewed, term unknown", "ended", "undated"]


class TermPosition(BaseModel):
    as_of: date
    state: TermState
    term_number: int | None = Field(default=None, description="0 for the initial term, n for the n-th renewal")
    term_start: date | None = None
    term_end: date | None = Field(default=None, description="the current term's end, or the last one's once ended")
    renews: bool = Field(default=False, description="the current term renews by itself unless notice is given")
    notice_deadline: date | None = Field(default=None, description="the next deadline still open (today or later)")
    deadline_term_end: date | None = Field(default=None, description="the end of the term that deadline stops or extends")
    missed_deadline: date | None = Field(default=None, description="the last deadline that passed without a notice")

    @property
    def ended(self) -> bool:
        return self.state == "ended"

    @property
    def days_until_deadline(self) -> int | None:
        return (self.notice_deadline - self.as_of).days if self.notice_deadline else None


def term_end(initial_end: date, months: float, renewals: int) -> date:
    """The end of the term after `renewals` renewals of `months`: each starts the day after the last ended."""
    return initial_end + timedelta(days=1) + relativedelta(months=int(round(months * renewals))) - timedelta(days=1)


def position(facts: TermFacts, as_of: date) -> TermPosition:
    """Where the contract stands on `as_of`."""
    if facts.effective_date and as_of < facts.effective_date:
        started = TermPosition(as_of=as_of, state="not started", term_number=0, term_start=facts.effective_date,
                               term_end=facts.initial_term_end)
        _open_deadline(started, facts, 0, _last_renewal(facts))
        return started
    if facts.initial_term_end is None:
        state: TermState = "in force" if facts.until_terminated or facts.effective_date else "undated"
        return TermPosition(as_of=as_of, state=state)
    last = _last_renewal(facts)
    step = facts.renewal_term_months
    if facts.renewal_kind == "automatic" and not step:
        # renews, but the filed text states no renewal term: after the first end the term is not known
        if as_of <= facts.initial_term_end:
            result = TermPosition(as_of=as_of, state="in force", term_number=0, term_start=facts.effective_date,
                                  term_end=facts.initial_term_end, renews=last != 0)
            if last != 0:
                _open_deadline(result, facts, 0, 1)  # only this term's: the next one's end is not known
            return result
        if facts.notice_given_on and (deadline := facts.notice.deadline_for(facts.initial_term_end)) and facts.notice_given_on <= deadline:
            return TermPosition(as_of=as_of, state="ended", term_number=0, term_end=facts.initial_term_end)
        return TermPosition(as_of=as_of, state="renewed, term unknown", term_number=None)
    step = step or 12.0
    current = _first_term_reaching(facts.initial_term_end, step, as_of, last)
    end = term_end(facts.initial_term_end, step, current)
    start = (term_end(facts.initial_term_end, step, current - 1) + timedelta(days=1)) if current else facts.effective_date
    if end < as_of:
        result = TermPosition(as_of=as_of, state="ended", term_number=current, term_start=start, term_end=end)
        _missed(result, facts, step, current, last)
        return result
    renews = last is None or current < last
    result = TermPosition(as_of=as_of, state="in force", term_number=current, term_start=start, term_end=end, renews=renews and facts.renewal_kind == "automatic")
    _open_deadline(result, facts, current, last)
    _missed(result, facts, step, current, last)
    return result


def final_end(facts: TermFacts) -> date | None:
    """The last day the contract can run to, or None when it has no end (renews without limit, runs until
    terminated, renewed for a term the text does not state, or states no end). On any day after it `position` says
    "ended"; from the effective date to it, the contract binds. For asking many days (spend matching) without working
    out the deadlines."""
    if facts.initial_term_end is None:
        return None
    if facts.renewal_kind == "automatic" and not facts.renewal_term_months:
        deadline = facts.notice.deadline_for(facts.initial_term_end)
        given = facts.notice_given_on and deadline and facts.notice_given_on <= deadline
        return facts.initial_term_end if given else None
    last = _last_renewal(facts)
    return None if last is None else term_end(facts.initial_term_end, facts.renewal_term_months or 12.0, last)


def _first_term_reaching(initial_end: date, step: float, as_of: date, last: int | None) -> int:
    """The first term whose end is on or after `as_of` (or the last one the contract can run to). Term ends only grow
    with the term's number, so the search starts a term before the one the months between imply instead of at the
    initial term: a contract renewed monthly since 1995 costs two steps, not three hundred."""
    months = (as_of.year - initial_end.year) * 12 + (as_of.month - initial_end.month)
    current = max(0, int(months // step) - 1) if step >= 1 else 0
    current = min(current, _MOST_TERMS, last if last is not None else current)
    while term_end(initial_end, step, current) < as_of and (last is None or current < last) and current < _MOST_TERMS:
        current += 1
    return current


def _last_renewal(facts: TermFacts) -> int | None:
    """The number of the last term the contract can run to: 0 without automatic renewal, the clause's count, or None
    for renewals without limit; a recorded notice of non-renewal stops it at the term whose deadline it met."""
    if facts.renewal_kind != "automatic":
        return 0
    last = facts.renewal_count
    if facts.notice_given_on and facts.initial_term_end:
        step = facts.renewal_term_months or 12.0
        k = 0
        while k < _MOST_TERMS and (last is None or k < last):
            end = term_end(facts.initial_term_end, step, k)
            deadline = facts.notice.deadline_for(end) or end
            if facts.notice_given_on <= deadline:
                break
            k += 1
        last = k if last is None else min(last, k)
    return last


def _open_deadline(result: TermPosition, facts: TermFacts, current: int, last: int | None) -> None:
    """The first notice deadline on or after today: for an automatic renewal the notice that stops the next renewal
    (this term's, or the next term's once this one's passed), for an option the notice that exercises it."""
    if not facts.notice.stated or facts.initial_term_end is None:
        return
    if facts.renewal_kind == "option":
        terms = [0] if current == 0 else []
    elif facts.renewal_kind == "automatic":
        stop = current + 2 if last is None else min(last, current + 2)
        terms = list(range(current, stop))
    else:
        return
    step = facts.renewal_term_months or 12.0
    for k in terms:
        end = term_end(facts.initial_term_end, step, k)
        deadline = facts.notice.deadline_for(end)
        if deadline is not None and deadline >= result.as_of:
            result.notice_deadline, result.deadline_term_end = deadline, end
            return


def _missed(result: TermPosition, facts: TermFacts, step: float, current: int, last: int | None) -> None:
    """The latest deadline before today that passed without a notice: the one that let the contract renew (or, for
    an option, lapse)."""
    if not facts.notice.stated:
        return
    if facts.renewal_kind == "automatic":
        # the last term a renewal can follow: a notice in the final term stops nothing
        top = current if last is None else min(current, last - 1)
        candidates = range(top, -1, -1)
    elif facts.renewal_kind == "option":
        candidates = range(0, 1)
    else:
        return
    for k in candidates:
        deadline = facts.notice.deadline_for(term_end(facts.initial_term_end, step, k))
        if deadline is not None and deadline < result.as_of:
            if facts.notice_given_on is None or facts.notice_given_on > deadline:
                result.missed_deadline = deadline
            return


def _clipped(year: int, month: int, day: int) -> date:
    """The day in that month, or its last day (29 February in a common year is the 28th)."""
    for d in range(day, 27, -1):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    return date(year, month, min(day, 28))
