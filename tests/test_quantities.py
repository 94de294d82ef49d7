"""The quantity model on real phrasings: values with units, compared in a common unit, written back in the
playbook's unit and the contract's style."""

from __future__ import annotations

import pytest

from document_io.quantities import (
    convert,
    find_counts,
    find_durations,
    find_money,
    find_multiples,
    find_percents,
    format_duration,
)


@pytest.mark.parametrize("text, value, unit, in_days", [
    ("forty-five (45) calendar days", 45, "day", 45),
    ("thirty days", 30, "day", 30),
    ("1 year", 1, "year", 365.25),
    ("ninety (90) days' prior written notice", 90, "day", 90),
    ("five business days", 5, "business day", 7),
    ("within five (5) Business Days of receipt", 5, "business day", 7),
    ("10 working days", 10, "business day", 14),
    ("48 hours", 48, "hour", 2),
    ("six (6) months", 6, "month", 182.625),
    ("two (2) years written notice", 2, "year", 730.5),
    ("a period of three weeks", 3, "week", 21),
    ("payable net 30", 30, "day", 30),
    ("one hundred eighty (180) days", 180, "day", 180),
])
def test_durations_parse_to_values_with_units(text, value, unit, in_days):
    (duration,) = find_durations(text)
    assert (duration.value, duration.unit) == (value, unit)
    assert duration.in_unit("days") == pytest.approx(in_days)
    spelled = text[duration.start:duration.end].lower()  # the exact characters: the number and its unit, nothing else
    assert spelled[0].isalnum() and spelled.rstrip("s").endswith(("hour", "day", "week", "month", "year", "net 30"))


def test_every_comparison_is_in_one_unit():
    assert convert(10, "days", "hours") == 240
    assert convert(2, "years", "months") == pytest.approx(24)
    assert convert(5, "business days", "days") == pytest.approx(7)
    assert convert(6, "months", "days") == pytest.approx(182.625)


@pytest.mark.parametrize("original, value, unit, written", [
    ("within ten (10) days", 48, "hours", "forty-eight (48) hours"),  # the playbook means hours: not "48 days"
    ("by giving two (2) years written notice", 30, "days", "thirty (30) days"),  # not "thirty (30) years"
    ("six (6) months", 90, "days", "ninety (90) days"),  # not "ninety (90) months"
    ("forty-five (45) calendar days", 30, "days", "thirty (30) calendar days"),  # same unit: the contract's wording
    ("within 10 Days", 1, "years", "1 Year"),
    ("net 15", 30, "days", "net 30"),
    ("thirty days", 12, "months", "twelve months"),
])
def test_a_redline_writes_the_playbook_value_in_the_playbook_unit_and_the_contracts_style(original, value, unit, written):
    (duration,) = find_durations(original)
    assert format_duration(value, duration, unit) == written


def test_money_multiples_percentages_and_counts():
    money = find_money("fees of USD 250,000, a cap of $1.5 million, 300,000 euros or £20k")
    assert [(m.value, m.currency) for m in money] == [(250000, "USD"), (1500000, "USD"), (300000, "EUR"), (20000, "GBP")]
    multiples = find_multiples("shall not exceed 2x the fees paid, two (2) times the annual fees, or twice the fees")
    assert [(m.value, m.base) for m in multiples] == [(2, "fees"), (2, "annual fees"), (2, "fees")]
    assert [p.value for p in find_percents("capped at three percent (3%) or 5 per cent")] == [3, 5]
    counts = find_counts("up to three (3) instances, 5 named users and within 10 days")
    assert [(c.value, c.noun) for c in counts] == [(3, "instances"), (5, "named")]
