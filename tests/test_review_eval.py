"""The review-level evaluation: its scorers against hand-worked cases, its summary against hand-counted results, and
one real CUAD dev contract end to end (skipped where ../shared has no CUAD)."""

from __future__ import annotations

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
