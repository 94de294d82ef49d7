"""The review against suggestions judged by reading (evals/judgments/review_suggestions.yaml; issue #27): nothing
judged harmful is raised, the useful ones are still raised, and what the review raises has been judged."""

from __future__ import annotations

import pytest

from evals.judged_review import load_judgments, run_judged


def test_the_judged_file_is_well_formed():
    judgments = load_judgments()
    assert len(judgments) >= 250
    assert {j.side for j in judgments} == {"customer", "supplier"}
    assert len({j.contract for j in judgments}) >= 40


def test_on_judged_contracts_nothing_harmful_is_raised_and_the_useful_ones_still_are(cuad_paper, engine):
    contracts = [cuad_paper.contract(i) for i in cuad_paper.ids("train")]
    report = run_judged(contracts, engine)
    for side, tally in report.by_side.items():
        assert tally.reviews == 40, side
        assert tally.harmful == 0, side
        assert tally.useful_recall is not None and tally.useful_recall >= 0.8, (side, tally)
        assert tally.unjudged <= 0.1 * tally.suggestions, (side, report.unjudged_examples)
