"""The term ledger across five years: twenty contracts imported once from their text (yearly, multi-year, one-off,
optional, mutual, evergreen, fixed-day notice, notice in months, quarterly renewals, not yet started, long ended), then
every view (renewals, alerts, the calendar feed, obligations, status, search, the counterparty page) asked on dates
from December 2026 to December 2031. The expected answers come from schedules worked by hand in
tests/fixtures/term_ledger/portfolio.yaml, not from the ledger's code."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from agents.term_ledger import NoticeRule, TermFacts, position
from test_review_cli import cli

FIXTURE = Path(__file__).parent / "fixtures" / "term_ledger" / "portfolio.yaml"
SCHEDULES = yaml.safe_load(FIXTURE.read_text())
# every six months for five years, plus days on and either side of a deadline and a term end
DATES = [date(2026, 12, 4) + timedelta(days=0)] + [date(2027 + n // 2, 6 if n % 2 == 0 else 12, 4) for n in range(10)] + [
    date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1), date(2027, 10, 1), date(2027, 10, 2), date(2028, 2, 29),
    date(2028, 3, 1), date(2027, 9, 30)]
WINDOW_DAYS = 365
MISSED_DAYS = 30


class Expected:
    """What a contract's hand-worked schedule says on a day."""

    def __init__(self, schedule: dict, day: date) -> None:
        ends, deadlines = schedule["ends"], schedule["deadlines"]
        self.ended = bool(schedule.get("final")) and bool(ends) and day > ends[-1]
        upcoming = [e for e in ends if e >= day]
        self.term_end = upcoming[0] if upcoming else (ends[-1] if ends else None)
        self.status = "expired" if self.ended else "executed"
        open_ = [(d, e) for d, e in zip(deadlines, ends) if d >= day]
        self.open_deadline, self.open_term_end = open_[0] if open_ and not self.ended else (None, None)
        passed = [d for d in deadlines if d < day]
        self.missed = passed[-1] if passed and not self.ended else None

    def listed(self, day: date, within: int | None) -> date | None:
        """The deadline `renewals` lists: the open one in the window, else one missed in the last 30 days."""
        until = day + timedelta(days=within) if within is not None else date.max
        if self.open_deadline and self.open_deadline <= until:
            return self.open_deadline
        if self.missed and (day - self.missed).days <= MISSED_DAYS:
            return self.missed
        return None


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory):
    from portfolio.repository import Repository

    folder = tmp_path_factory.mktemp("executed")
    for name, schedule in SCHEDULES.items():
        (folder / f"{name}.txt").write_text(schedule["text"] + "\n")
    data = tmp_path_factory.mktemp("data")
    result = json.loads(cli("import", str(folder), "--json", "--workers", "2", data_dir=data).stdout)
    assert [r["outcome"] for r in result] == ["filed"] * len(SCHEDULES), result
    repository = Repository(data / "portfolio.sqlite")
    by_name = {c.name.removesuffix(".txt"): c.contract_id for c in repository.contracts_as_of(date(2026, 12, 4))}
    assert set(by_name) == set(SCHEDULES)
    return repository, by_name, data


@pytest.mark.parametrize("day", DATES, ids=str)
def test_every_view_shows_the_right_term_end_deadline_and_status_on_each_day(portfolio, day):
    from portfolio.alerts import collect_alerts, notice_calendar
    from portfolio.search import parse_query, search_contracts
    from portfolio.views import counterparty

    repository, ids, _ = portfolio
    name_of = {v: k for k, v in ids.items()}
    expected = {name: Expected(schedule, day) for name, schedule in SCHEDULES.items()}
    problems = []

    records = {name_of[c.contract_id]: c for c in repository.contracts_as_of(day)}
    for name, want in expected.items():
        got = records[name]
        if (got.status, got.term_end) != (want.status, want.term_end):
            problems.append(f"{name}: status/term end {got.status} {got.term_end}, expected {want.status} {want.term_end}")

    listed = {name_of[c.contract_id]: (c.notice_deadline, c.term_end) for c in repository.renewals(day, WINDOW_DAYS)}
    for name, want in expected.items():
        deadline = want.listed(day, WINDOW_DAYS)
        got = listed.get(name, (None, None))
        if got[0] != deadline:
            problems.append(f"{name}: renewals lists {got[0]}, expected {deadline}")
        elif deadline is not None and deadline == want.open_deadline and got[1] != want.open_term_end:
            problems.append(f"{name}: the deadline {deadline} stops the term ending {got[1]}, expected {want.open_term_end}")

    alerts = {a.contract.removesuffix(".txt"): a.due for a in collect_alerts(repository, day, 60) if a.kind == "notice_deadline"}
    for name, want in expected.items():
        if alerts.get(name) != want.listed(day, 60):
            problems.append(f"{name}: alert {alerts.get(name)}, expected {want.listed(day, 60)}")

    feed = notice_calendar(repository, day).replace("\r\n ", "")  # unfolded (RFC 5545 3.1)
    for name, want in expected.items():
        deadline = want.listed(day, None)
        uid = f"UID:{ids[name]}-{deadline:%Y%m%d}@" if deadline else None
        in_feed = ids[name] in feed
        if (uid is None and in_feed) or (uid is not None and uid not in feed):
            problems.append(f"{name}: calendar {'has an event' if in_feed else 'has none'}, expected {deadline}")

    notices = {name_of[o.contract_id]: o.due_date for o, _ in repository.obligations(day, status="open", in_force_only=True)
               if o.kind == "notice to terminate"}
    for name, want in expected.items():
        automatic = "automatically" in SCHEDULES[name]["text"] and SCHEDULES[name]["deadlines"]
        if automatic and notices.get(name) != want.open_deadline:
            problems.append(f"{name}: notice obligation due {notices.get(name)}, expected {want.open_deadline}")
    old = [o for o, _ in repository.obligations(day, status="open") if o.due_date and (day - o.due_date).days > 366]
    problems += [f"an obligation overdue since {o.due_date}: {o.summary[:60]}" for o in old]

    expired = {h.contract.name.removesuffix(".txt") for h in search_contracts(repository, parse_query("expired contracts", day), day)}
    if expired != {n for n, w in expected.items() if w.ended}:
        problems.append(f"search 'expired contracts' finds {sorted(expired)}")

    view = counterparty(repository, "Alder Hosting Inc.", day)
    if view is None or view.contracts[0].status != expected["yearly_60_days"].status:
        problems.append("the counterparty page does not show yearly_60_days as expected")

    assert not problems, f"on {day}:\n" + "\n".join(problems)


@pytest.mark.parametrize("day", [date(2027, 6, 4), date(2029, 12, 4), date(2031, 6, 4)], ids=str)
def test_the_cli_moved_by_clauseflow_today_lists_the_same_deadlines(portfolio, day):
    """`CLAUSEFLOW_TODAY` moved forward: `renewals --json` and `alerts --json` answer for that day."""
    _, _, data = portfolio
    env = {"CLAUSEFLOW_TODAY": day.isoformat()}
    listed = {r["name"].removesuffix(".txt"): (r["notice_deadline"], r["status"])
              for r in json.loads(cli("renewals", "--within", "365d", "--json", data_dir=data, env=env).stdout)}
    expected = {name: Expected(schedule, day) for name, schedule in SCHEDULES.items()}
    assert listed == {name: (w.listed(day, WINDOW_DAYS).isoformat(), w.status) for name, w in expected.items()
                      if w.listed(day, WINDOW_DAYS)}
    alerts = json.loads(cli("alerts", "--within", "60d", "--json", data_dir=data, env=env).stdout)
    assert {a["contract"].removesuffix(".txt") for a in alerts if a["kind"] == "notice_deadline"} == \
        {name for name, w in expected.items() if w.listed(day, 60)}


def test_a_recorded_notice_of_non_renewal_ends_the_contract_after_that_term(portfolio):
    """Marking the renewal notice done (on the day it was given) stops the renewal: the contract expires at the end of
    the term it was given in, and no later deadline is listed."""
    repository, ids, data = portfolio
    day = date(2027, 11, 15)  # before 31 December 2027 (yearly_60_days' deadline for the term ending 28 February 2028)
    notice = next(o for o, _ in repository.obligations(day, contract_id=ids["yearly_60_days"]) if o.kind == "notice to terminate")
    assert notice.due_date == date(2027, 12, 31)
    repository.mark_obligation(notice.obligation_id, "done", "Pat Buyer", "non-renewal letter sent", today=day)
    assert ids["yearly_60_days"] not in {c.contract_id for c in repository.renewals(day, None)}
    assert repository.statuses(date(2028, 2, 29))[ids["yearly_60_days"]] == "executed"
    assert repository.statuses(date(2028, 3, 1))[ids["yearly_60_days"]] == "expired"
    marked = next(o for o, _ in repository.obligations(day, status="done", contract_id=ids["yearly_60_days"]))
    assert (marked.decided_by, marked.due_date) == ("Pat Buyer", date(2027, 12, 31))


def test_a_missed_deadline_is_listed_once_then_the_next_terms_deadline_is_open(portfolio):
    repository, ids, _ = portfolio
    contract = ids["six_months_notice"]  # deadline 30 June 2027 for the term ending 31 December 2027
    listed = {c.contract_id: c.notice_deadline for c in repository.renewals(date(2027, 7, 10), 90)}
    assert listed[contract] == date(2027, 6, 30)  # missed ten days ago: shown, once
    assert contract not in {c.contract_id for c in repository.renewals(date(2027, 8, 15), 90)}  # not for ever
    later = {c.contract_id: c.notice_deadline for c in repository.renewals(date(2027, 8, 15), 365)}
    assert later[contract] == date(2028, 6, 30)  # the next term's deadline is the open one


@pytest.mark.parametrize("rule, term_end, deadline", [
    (NoticeRule(months=6), date(2026, 12, 31), date(2026, 6, 30)),   # six calendar months, not 183 days
    (NoticeRule(months=3), date(2027, 5, 31), date(2027, 2, 28)),    # clipped to the shorter month
    (NoticeRule(fixed_day="10-01"), date(2026, 12, 31), date(2026, 10, 1)),  # "on or before October 1": that day
    (NoticeRule(fixed_day="10-01"), date(2027, 6, 30), date(2026, 10, 1)),  # the last 1 October before the end
    (NoticeRule(days=60), date(2028, 2, 29), date(2027, 12, 31)),
])
def test_notice_deadlines_are_counted_in_calendar_terms(rule, term_end, deadline):
    assert rule.deadline_for(term_end) == deadline


def test_an_automatic_renewal_with_no_stated_term_is_not_given_one():
    """A fact the contract does not state stays empty: after the first term the end is unknown, not guessed."""
    facts = TermFacts(effective_date=date(2025, 1, 1), initial_term_end=date(2025, 12, 31), renewal_kind="automatic",
                      notice=NoticeRule(days=30))
    assert position(facts, date(2025, 11, 1)).notice_deadline == date(2025, 12, 1)
    later = position(facts, date(2026, 3, 1))
    assert later.state == "renewed, term unknown" and later.term_end is None and later.notice_deadline is None


def test_the_spans_spend_matching_uses_answer_as_the_ledger_does():
    """BindingSpans (once per contract) and the ledger (per day) agree on in force and ended, on random facts."""
    import random

    from portfolio.ledger import BindingSpans, ended_by, in_force_on, position_of
    from portfolio.records import ContractRecord

    rng = random.Random(5)
    for i in range(2000):
        effective = date(1995, 1, 1) + timedelta(days=rng.randrange(12000)) if rng.random() < 0.9 else None
        end = (effective or date(2000, 1, 1)) + timedelta(days=rng.randrange(30, 2000)) if rng.random() < 0.85 else None
        record = ContractRecord(
            contract_id=str(i), name="c", source_file="c", origin="import", status=rng.choice(["executed", "terminated"]),
            effective_date=effective, expiration_date=end, renewal_kind=rng.choice([None, "automatic", "option", "mutual"]),
            renewal_term_months=rng.choice([None, 1, 3, 12, 24]), renewal_count=rng.choice([None, 1, 2]),
            notice_days=rng.choice([None, 30, 90]), notice_months=rng.choice([None, 6]),
            notice_given_on=date(2000, 1, 1) + timedelta(days=rng.randrange(10000)) if rng.random() < 0.2 else None)
        spans = BindingSpans([record])
        for _ in range(5):
            day = date(1994, 1, 1) + timedelta(days=rng.randrange(14000))
            assert spans.in_force_on(record, day) == in_force_on(record, day), (record, day)
            assert spans.ended_by(record, day) == ended_by(record, day), (record, day)
            if position_of(record, day).ended:
                assert spans.final_end(record) == position_of(record, day).term_end
