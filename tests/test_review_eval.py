"""The review-level evaluation: its scorers against hand-worked cases, its summary against hand-counted results, and
one real CUAD dev contract end to end (skipped where ../shared has no CUAD)."""

from __future__ import annotations

from datetime import date

import pytest

from evals.review_eval import (
    ContractResult,
    FactResult,
    MissingFinding,
    _same_date,
    _same_duration,
    _same_end_date,
    _same_parties,
    _same_place,
    summarise,
)


def test_fact_scorers_on_cuads_answer_formats():
    assert _same_date("3/1/2003", "2003-03-01") and not _same_date("3/1/2003", "2003-01-03")
    assert _same_date("[]/[]/1996", "1996-07-04")  # CUAD gives only the year: the year decides
    assert _same_date("31/01/2025", "2025-01-31")  # and a few dates day first
    assert _same_date("perpetual", "2003-03-01") is None  # nothing to compare: not scored
    assert _same_end_date("1/31/2024", "2024-01-31") and _same_end_date("3/27/2029", "2029-03-26")
    assert not _same_end_date("3/27/2029", "2029-03-20")
    assert _same_place("Pennsylvania", "pennsylvania") and _same_place("Delaware; New York", "new york")
    assert not _same_place("Arkansas", "the state") and not _same_place("Texas", None)
    assert _same_duration("successive 1 year", "12 months") and _same_duration("60 days; 180 days", "180 days")
    assert not _same_duration("2 years", "12 months") and _same_duration("perpetual", "12 months") is None
    assert _same_parties('Collectible Concepts Group, Inc. ("CCGI"); Pivotal Self Service Tech, Inc. ("Pivotal")',
                         "Collectible Concepts Group, Inc.; Pivotal Self Service Tech, Inc.")
    assert not _same_parties("Newegg Inc. (\"Newegg\"); Allied Esports International, Inc.", "Newegg Inc.")


def _result(id_, *, missing=(), facts=None, gold="supply", predicted="supply", shown=2, passing=2):
    return ContractResult(id=id_, gold_type=gold, predicted_type=predicted,
                          missing=[MissingFinding(category=c, cuad_category="X", present_in_cuad=p) for c, p in missing],
                          facts=facts or {}, suggestions=3, edits_shown=shown, edits_passing_recheck=passing,
                          edits_withheld=0, seconds=1.0)


def test_summary_counts_by_hand():
    results = [
        _result("a", missing=[("governing_law", False), ("insurance", True)],
                facts={"governing_law": FactResult(gold="Texas", predicted="texas", correct=True)}),
        _result("b", missing=[("assignment", False)], predicted="licence",
                facts={"governing_law": FactResult(gold="Ohio", predicted=None, correct=False),
                       "expiration_date": FactResult(gold="perpetual", predicted=None, correct=None)}),
        _result("c", gold="other", predicted="msa", shown=0, passing=0),
    ]
    report = summarise(results, dataset="t", split="dev", side="customer", machine="test")
    assert report.missing_checkable == 3 and report.missing_precision == pytest.approx(2 / 3, abs=1e-4)
    assert report.missing_false_by_category == {"insurance": 1}
    assert report.fact_accuracy["governing_law"] == 0.5 and report.fact_counts["expiration_date"] == 0
    assert report.type_accuracy == 0.5 and report.type_counts == 2  # "other" is not scored
    assert report.type_confusions == {"supply→licence": 1} and report.recheck_pass_rate == 1.0


def test_one_real_cuad_contract_end_to_end(engine):
    from evals.datasets import DatasetUnavailable, open_dataset
    from evals.review_eval import review_contract

    try:
        dataset = open_dataset("cuad", None)
    except DatasetUnavailable:
        pytest.skip("no CUAD in ../shared")
    contract = next(c for c in dataset.contracts("dev") if c.id.startswith("ACCELERATEDTECHNOLOGIESHOLDINGCORP"))
    result = review_contract(contract, engine)
    assert result.facts["governing_law"].correct  # "Pennsylvania"
    assert result.facts["effective_date"].correct and result.facts["expiration_date"].correct  # 3/1/2003 – 2/28/2004
    assert all(not m.present_in_cuad for m in result.missing if m.present_in_cuad is not None)
    assert result.edits_passing_recheck == result.edits_shown


@pytest.mark.parametrize("clause, months", [
    ("The term of this Agreement shall commence on the Effective Date and shall continue in full force and effect for an "
     "initial period of five (5) years. Thereafter, this Agreement renews.", 60),
    ('The term of this Agreement shall begin on the Effective Date and continue for three (3) years thereafter (the '
     '"Initial Term") and shall automatically renew for additional one (1) year periods.', 36),
    ("2.01. The term of this Agreement shall be for 10 years commencing on the date of execution of this Agreement.", 120),
    ('The term of this Agreement (the "Term") will begin on February 1, 1998 and end on the first anniversary of the '
     "date of this Agreement.", 12),
    ("This Agreement shall remain in force for three (3) years from the Effective Date unless terminated earlier.", 36),
    ("During the Term of this Agreement, and for a period of one year thereafter, the Distributor shall not compete.", None),
])
def test_initial_terms_in_the_phrasings_real_contracts_use(clause, months):
    from agents.renewal_leverage import RenewalInput, analyse_renewal
    from agents.schema import ExtractionResult
    from document_io.models import document_from_text

    brief = analyse_renewal(RenewalInput(document=document_from_text(name="t", text=clause),
                                         extraction=ExtractionResult(clauses=[]), today=__import__("datetime").date(2026, 1, 1)))
    assert brief.terms.initial_term_months == months


_OPENING = 'This Agreement is entered into as of the 15 th day of July, 2010 (the "Effective Date"). '


@pytest.mark.parametrize("clause, expiration", [
    # phrasings from CUAD train-split contracts (each a miss before the rule that reads it)
    ("The term of this Agreement commences on the Effective Date and, unless terminated earlier, shall continue until "
     'five (5) years following the Effective Date (the "Initial Term").', "2015-07-14"),
    ('This Agreement shall become effective as of the Effective Date and shall extend until the four (4) year anniversary '
     'of the Effective Date (the "Term").', "2014-07-15"),
    ("This Agreement shall commence on the Effective Date and shall continue until the four-year anniversary of the "
     "Effective Date.", "2014-07-15"),
    ("The term of this Agreement commences on the Effective Date and shall continue in effect until the later of (a) the "
     "fourth (4th) anniversary of the Effective Date, or (b) the completion of the Research.", "2014-07-15"),
    ("This Agreement shall commence on the Effective Date and shall continue in effect for a FIVE (5) year period.", "2015-07-14"),
    ("This Agreement shall become effective on the date it is signed and have a term of five (5) years commencing as of "
     "the effective date hereof.", "2015-07-14"),
    ("The initial term of this Agreement shall, unless sooner terminated, expires in five (5) years from the date of "
     "Effective Date.", "2015-07-14"),
    ("This Agreement will be in effect for one year from the Effective Date and will automatically renew.", "2011-07-14"),
    ("The term of this Agreement will continue until the earlier of (i) December 31, 2022, (ii) the termination of the "
     "Studio Lease.", "2022-12-31"),
    ('"Contract Period" shall mean that period of time commencing on January 1, 2011 and concluding December 31, 2013.',
     "2013-12-31"),
    ('"Expiration Date" means March 31, 2020.', "2020-03-31"),
    ("Terms of the project: 12 weeks from February 8, 2011 to May 3, 2011.", "2011-05-03"),
    # a date in a sentence about the agreement's term beats an earlier one about something else
    ("(c) Provider shall allow the Recipient to use the tool at no cost, until December 31, 2021. 3.1 Termination of "
     "Agreement. This Agreement be deemed effective as of the Effective Date and shall terminate on December 31, 2020.",
     "2020-12-31"),
])
def test_end_dates_in_the_phrasings_real_contracts_use(clause, expiration):
    from agents.renewal_leverage import RenewalInput, analyse_renewal
    from agents.schema import ExtractionResult
    from document_io.models import document_from_text

    terms = analyse_renewal(RenewalInput(document=document_from_text(name="t", text=_OPENING + clause),
                                         extraction=ExtractionResult(clauses=[]), today=date(2026, 1, 1))).terms
    assert terms.effective_date == date(2010, 7, 15)  # "15 th day of July, 2010": the ordinal as OCR splits it
    assert terms.expiration_date is not None
    assert abs((terms.expiration_date - date.fromisoformat(expiration)).days) <= 1  # the anniversary or the day before


@pytest.mark.parametrize("clause, months, notice", [
    ("This Agreement shall continue on a year to year basis until terminated by either party on written notice.", 12, None),
    ("This agreement shall renew automatically each year thereafter, unless either party serves written notice of its "
     "intention not to renew at least 90 days prior to the expiration of the then current term.", 12, 90),
    ("After the Initial Term, this Agreement shall continue on a month to month basis until terminated by either party "
     "upon thirty (30) days prior written notice.", 1, 30),
    ("This Agreement will extend automatically for monthly periods unless either party notifies the other party in "
     "writing at least thirty (30) days before the expiration of the then current term.", 1, 30),
    ("The initial term is three (3) years. Upon the expiry of the Initial Term this Agreement shall automatically renew "
     "for successive terms of the same duration, unless either party gives written notice.", 36, None),
    ("This Agreement shall be automatically renewed for an additional one year period on each anniversary of the "
     "Effective Date, unless terminated by either Party hereto upon ninety (90) days written notice to the other.", 12, 90),
])
def test_renewal_rhythms_and_their_notice(clause, months, notice):
    from agents.renewal_leverage import RenewalInput, analyse_renewal
    from agents.schema import ExtractionResult
    from document_io.models import document_from_text

    terms = analyse_renewal(RenewalInput(document=document_from_text(name="t", text=_OPENING + clause),
                                         extraction=ExtractionResult(clauses=[]), today=date(2026, 1, 1))).terms
    assert terms.renewal_term_months == months
    assert terms.notice_days == notice
