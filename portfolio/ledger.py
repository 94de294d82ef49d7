"""A filed contract as of a day: its term facts (stored as read) put through the term ledger (agents/term_ledger.py),
so every view shows the current term, the next open notice deadline, the last one missed and the status on the day
it shows, whatever day the contract was filed on."""

from __future__ import annotations

from datetime import date

from agents.term_ledger import NoticeRule, TermFacts, TermPosition, final_end, position
from portfolio.records import ContractRecord, ContractStatus


def facts_of(record: ContractRecord) -> TermFacts:
    """The ledger's facts from a filed record. Records filed before the renewal kind was stored have only
    `auto_renews`: automatic or nothing. Records carry no renewal term for an automatic renewal only when the contract
    states none."""
    kind = record.renewal_kind or ("automatic" if record.auto_renews else None)
    notice = NoticeRule(days=record.notice_days, months=record.notice_months, fixed_day=record.notice_fixed_day) \
        if kind in ("automatic", "option") else NoticeRule()  # the rule prefers a fixed day, then months, then days
    # a record written by hand (or by an older filer) may give only the term end it was filed with
    return TermFacts(effective_date=record.effective_date, initial_term_end=record.expiration_date or record.term_end,
                     renewal_kind=kind,
                     renewal_term_months=record.renewal_term_months, renewal_count=record.renewal_count,
                     until_terminated=record.until_terminated, notice=notice, notice_given_on=record.notice_given_on)


def status_from(stored: ContractStatus, where: TermPosition) -> ContractStatus:
    """An executed or finalised contract whose last term has ended has expired; any other status is a person's or
    the review's and stays."""
    if stored in ("executed", "finalised") and where.ended:
        return "expired"
    return stored


def position_of(record: ContractRecord, day: date) -> TermPosition:
    return position(facts_of(record), day)


def as_of(record: ContractRecord, today: date) -> ContractRecord:
    """The record with its term end, open notice deadline, last missed deadline, term state and status as of
    `today` (in place; returned for chaining)."""
    facts = facts_of(record)
    where = position(facts, today)
    record.term_start, record.term_end = where.term_start, where.term_end
    record.notice_deadline, record.deadline_term_end = where.notice_deadline, where.deadline_term_end
    record.missed_deadline = where.missed_deadline
    record.term_state = where.state
    record.status = status_from(record.status, where)
    record.recommended_action = _action(record, facts, where)
    return record


def _action(record: ContractRecord, facts: TermFacts, where: TermPosition) -> str | None:
    """What to diary as of the day shown (the action stored at filing was for the filing day)."""
    what = "notice of non-renewal" if facts.renewal_kind == "automatic" else "notice exercising the renewal option"
    if where.ended:
        return f"The contract ended on {where.term_end}." if where.term_end else None
    if where.notice_deadline is not None:
        left = (where.notice_deadline - where.as_of).days
        if left <= 120:
            return f"Decide now: {what} is due by {where.notice_deadline} ({left} days)."
        return f"Diary the {what} deadline {where.notice_deadline} ({left} days) and start talks 60 days before."
    if where.missed_deadline is not None and where.term_end is not None:
        return (f"The {what} deadline passed on {where.missed_deadline}; the term runs to {where.term_end}: plan for the "
                "next term or negotiate an exit.")
    if record.until_terminated:
        return "The term runs until a party ends it: diary a yearly review of whether to keep it."
    if where.term_end is not None:
        return f"The current term ends {where.term_end}; no renewal notice applies. Plan renewal or exit before then."
    return record.recommended_action


_BINDING = ("in force", "renewed, term unknown", "undated")


def in_force_on(record: ContractRecord, day: date) -> bool:
    """Whether the contract binds on `day`: started (or undated) and not ended, and not terminated."""
    return record.status != "terminated" and position_of(record, day).state in _BINDING


def ended_by(record: ContractRecord, day: date) -> bool:
    """Whether the contract had ended by `day` (its last term over, or terminated)."""
    return record.status == "terminated" or position_of(record, day).ended


class BindingSpans:
    """When each contract binds, worked out once per contract (`final_end`) rather than per day: spend matching asks it
    for every ERP line's date and every candidate contract. The same answers as `in_force_on` and `ended_by`."""

    def __init__(self, records: list[ContractRecord]) -> None:
        self._spans = {}
        for record in records:
            facts = facts_of(record)
            self._spans[record.contract_id] = (facts.effective_date, final_end(facts))

    def in_force_on(self, record: ContractRecord, day: date) -> bool:
        starts, ends = self._spans[record.contract_id]
        return record.status != "terminated" and not (starts and day < starts) and not (ends and day > ends)

    def ended_by(self, record: ContractRecord, day: date) -> bool:
        starts, ends = self._spans[record.contract_id]
        return record.status == "terminated" or (not (starts and day < starts) and ends is not None and day > ends)

    def final_end(self, record: ContractRecord) -> date | None:
        return self._spans[record.contract_id][1]
