from document_io.legal_text import find_jurisdiction, minimal_edits
from document_io.quantities import find_durations, format_duration, number_to_words, words_to_number


def test_number_words_round_trip():
    for value in (1, 10, 15, 30, 48, 60, 90, 180, 365):
        assert words_to_number(number_to_words(value)) == value
    assert number_to_words(180) == "one hundred and eighty"
    assert words_to_number("one hundred eighty") == 180


def test_durations_in_words_digits_and_net_style():
    text = "renew for successive five (5) year periods; notice of one hundred eighty (180) days; net 10; within 45 days"
    found = [(d.value, d.unit, d.style) for d in find_durations(text)]
    assert found == [(5, "year", "words_digits"), (180, "day", "words_digits"), (10, "day", "net"), (45, "day", "digits")]
    notice = find_durations(text)[1]
    assert text[notice.start : notice.end] == "one hundred eighty (180) days"
    assert format_duration(60, notice) == "sixty (60) days"
    assert abs(find_durations("three (3) years")[0].in_unit("month") - 36) < 1e-9


def test_jurisdiction_name_and_normalisation():
    found = find_jurisdiction("governed by the laws of the State of New York, without regard")
    assert found.name == "the State of New York" and found.normalised == "new york"
    assert find_jurisdiction("laws of England and Wales.").normalised == "england and wales"


def test_minimal_edits_touch_only_changed_words():
    old = "renew for successive five (5) year periods"
    edits = minimal_edits(old, "renew for successive one (1) year periods", offset=100)
    assert [(e.start, e.end, e.new_text) for e in edits] == [(121, 125, "one"), (127, 128, "1")]
    assert old[21:25] == "five" and old[27:28] == "5"
