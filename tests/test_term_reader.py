"""The term reader takes each fact only from the clause that states it, or leaves it empty.

The sentences are written the way the CUAD filings write them; the ones marked "issue #26" are the misreadings a
user found on contracts the project had never seen (expiry from a non-compete, renewal and notice from the
definition of "Year" and a lead time, escalators from LIBOR and a revenue share, an option read as automatic, a date
from an earlier agreement or the SEC stamp)."""

from datetime import date

import pytest

from agents.renewal_leverage import RenewalInput, analyse_renewal
from agents.schema import ExtractionResult
from agents.term_reader import read_term
from document_io.dates import BLANK_DATE, DATE, parse_blank_date, parse_date
from document_io.models import document_from_text

OPENING = 'This Supply Agreement is made as of March 1, 2015 (the "Effective Date") between Acme Inc. and Beta LLC. '


def reading_of(text: str):
    return read_term(document_from_text(name="t", text=text))


def brief_of(text: str):
    return analyse_renewal(RenewalInput(document=document_from_text(name="t", text=text), extraction=ExtractionResult(clauses=[]),
                                        today=date(2026, 12, 3)))


# --- issue #26: facts borrowed from the wrong clause ----------------------------------------------------------------

def test_a_non_compete_or_a_confidentiality_survival_is_not_the_term():
    reading = reading_of(OPENING + "During the Term and for six (6) months after termination, Beta shall not compete "
                         "with Acme. The obligations of confidentiality shall survive for five (5) years after expiration.")
    assert (reading.expiration_date, reading.initial_term_months) == (None, None)


def test_renewal_and_notice_are_not_read_from_the_definition_of_year_or_a_lead_time():
    reading = reading_of(OPENING + '"Year" means each period of twelve (12) months from the Effective Date. Beta shall '
                         "give one hundred twenty (120) days notice of packaging changes. This Agreement shall continue "
                         "for [***] years and shall renew automatically for successive [***] year periods unless either "
                         "party gives notice of non-renewal.")
    assert reading.renewal == "automatic"
    assert reading.renewal_term_months is None and reading.notice_days is None
    assert "renewal_term" in reading.redacted  # stated but redacted: not guessed from elsewhere


@pytest.mark.parametrize("sentence", [
    "Acme shall pay Beta a revenue share of 82.5% of Net Revenue, and the fees may be adjusted quarterly.",
    "The advertising fee shall be adjusted monthly by a factor of 0.025% of impressions delivered.",
    "Any overdue fees shall bear interest at USD 1M LIBOR + 3.5 per cent and the rates may be increased accordingly.",
])
def test_an_interest_rate_a_revenue_share_or_a_formula_is_not_a_price_escalator(sentence):
    assert brief_of(OPENING + sentence).terms.price_escalator is None


def test_a_price_increase_is_an_escalator_and_a_redacted_one_is_redacted():
    capped = brief_of(OPENING + "Beta may increase the prices once per year by no more than three percent (3%).").terms
    assert capped.price_escalator == "up to 3% increase"
    redacted = brief_of(OPENING + "Beta may increase the prices annually by up to [***]% upon notice.").terms
    assert redacted.price_escalator == "redacted increase" and "price_escalator" in redacted.redacted


def test_a_renewal_at_a_partys_option_is_not_automatic_and_has_no_non_renewal_deadline():
    brief = brief_of(OPENING + "The initial term of this Agreement is three (3) years. Licensor may, at its option, "
                     "extend this Agreement for one additional period of two (2) years by written notice given at "
                     "least ninety (90) days before the end of the initial term.")
    assert brief.terms.renewal_kind == "option" and not brief.terms.auto_renews
    assert brief.terms.renewal_count == 1 and brief.terms.renewal_term_months == 24
    assert "non-renewal" not in brief.recommended_action


def test_a_renewal_by_mutual_agreement_commits_no_renewal_term_and_unless_extended_is_not_a_renewal():
    mutual = reading_of(OPENING + "This Agreement may be renewed for additional one (1) year terms upon the mutual written "
                        "agreement of the parties.")
    assert mutual.renewal == "mutual" and mutual.renewal_term_months is None and mutual.notice_days is None
    passing = reading_of(OPENING + 'The term of this Agreement, unless mutually extended by written agreement of the '
                         "Parties, shall commence as of the date hereof and shall expire on December 31, 2028.")
    assert passing.renewal is None and passing.expiration_date == date(2028, 12, 31)


def test_the_agreement_date_is_not_the_date_of_an_earlier_agreement_or_the_filing_stamp():
    reading = reading_of("Source: ACME INC, 10-K, 3/16/2018\nThis Amendment is entered into as of June 5, 2017 between Acme "
                         "and Beta. WHEREAS the parties are parties to that certain Supply Agreement dated as of "
                         "January 2, 2010.")
    assert reading.agreement_date == date(2017, 6, 5)


# --- the start and the end of the term --------------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, expiration", [
    ("The term of this Agreement shall commence on March 1, 2015 and extend through December 31, 2016.", date(2016, 12, 31)),
    ("Unless earlier terminated, the initial term of this Agreement (\"Term\") is the Effective Date through March 15, 2022.",
     date(2022, 3, 15)),
    ("The Joint Venture is a fixed term Joint Venture beginning November 27, 2018 and ending November 30th, 2019.",
     date(2019, 11, 30)),
    ("Subject to earlier termination, the initial term of this Agreement shall be for a period beginning on the Effective "
     "Date and ending ten (10) years thereafter.", date(2025, 2, 28)),
    ("Term 4. The duration of this Venture (the \"Term\") will begin on March 1, 2015 and continue in full force and effect "
     "until February 28, 2025.", date(2025, 2, 28)),
    ("The Term of the Agreement is hereby extended to January 20, 2022 unless sooner terminated.", date(2022, 1, 20)),
    ("1) This Agreement shall become effective on the date of its execution and shall remain in force for three years.",
     date(2018, 2, 28)),
])
def test_end_dates_from_the_sentence_about_the_agreements_term(sentence, expiration):
    assert reading_of(OPENING + sentence).expiration_date == expiration


def test_an_end_on_the_later_of_a_date_and_an_event_is_flagged_as_movable():
    reading = reading_of(OPENING + "This Agreement shall expire on the later of (i) five (5) years from the date hereof, "
                         "or (ii) the completion of the Services.")
    assert reading.expiration_date == date(2020, 2, 29) and reading.expiration_may_move
    earlier = reading_of(OPENING + "This Agreement shall be effective until the earlier of (a) its termination or (b) the "
                         "date that is two (2) years after the date of this Agreement.")
    assert earlier.expiration_date == date(2017, 2, 28) and not earlier.expiration_may_move


def test_a_date_left_blank_gives_only_what_it_shows():
    reading = reading_of('AGREEMENT made as of the _____ day of __________________, 2015 (the "Effective Date") between '
                         "Acme and Beta. The initial term of this Agreement shall commence upon the Effective Date and "
                         "shall expire ten (10) years from the Effective Date.")
    assert reading.effective_date is None and reading.effective_date_partial.iso() == "2015"
    assert reading.expiration_date is None and reading.expiration_partial.iso() == "2025"
    six_months = reading_of("This Agreement is effective as of , 2004 between Acme and Beta. The term of this Agreement "
                            "shall commence on the Effective Date and continue for six (6) months.")
    assert six_months.expiration_partial is None  # the year six months on from an unknown day is not known


def test_a_commencement_date_defined_inline_or_in_words_dates_the_anniversary():
    reading = reading_of("This Agreement is made on December 23, 2003 between Acme and Beta. The initial term of this "
                         'Agreement shall be for 3 years (the "Initial Term") commencing on the date first set forth above '
                         '(the "Commencement Date") and ending on the 3rd anniversary of the Commencement Date.')
    assert reading.expiration_date == date(2006, 12, 23)


# --- dates as filings print them ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("MADE ON THE 19 DAY OF MAY , 2010 PARTIES", date(2010, 5, 19)),
    ("effective as of _Dec. 8, 2005 (hereinafter", date(2005, 12, 8)),
    ("made this 1st day of --- November, 2003 by", date(2003, 11, 1)),
    ("Hamburg, November 19t h, 2012", date(2012, 11, 19)),
])
def test_dates_with_the_noise_filings_carry(text, expected):
    assert [parse_date(m) for m in DATE.finditer(text)] == [expected]


@pytest.mark.parametrize("text, expected", [
    ("made as of February ___, 2017 by", "2017-02"),
    ("dated [ ], 2020 between", "2020"),
    ("this ____ day of ________, 2004", "2004"),
    ("AGREEMENT made as of , 2013, between", "2013"),
    ("effective as of June , 2010 (the", "2010-06"),
])
def test_blank_dates(text, expected):
    assert [parse_blank_date(m).iso() for m in BLANK_DATE.finditer(text)] == [expected]
    assert list(DATE.finditer(text)) == []
