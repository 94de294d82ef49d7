"""The price escalator and the contract value on real paper: every CUAD train and dev contract judged by reading
(evals/judgments/cuad_price_facts.yaml) gets exactly the judged answer, including "none" where an earlier reader took
a discount, a royalty, a late-payment surcharge or a liability limit for one."""

from __future__ import annotations

import pytest
import yaml

from conftest import ROOT

JUDGED = yaml.safe_load((ROOT / "evals" / "judgments" / "cuad_price_facts.yaml").read_text())


def test_the_judgments_cover_answers_and_refusals():
    assert sum(bool(j.get("escalator")) for j in JUDGED) >= 25
    assert sum("escalator" in j and j["escalator"] is None for j in JUDGED) >= 5
    assert sum("value" in j and j["value"] is None for j in JUDGED) >= 3


@pytest.mark.parametrize("judged", JUDGED, ids=[j["id"][:40] for j in JUDGED])
def test_price_facts_match_the_reading(judged, cuad_paper):
    from agents.contract_metadata import read_metadata
    from agents.price_reader import read_escalator
    from agents.schema import ExtractionResult

    document = cuad_paper.document(cuad_paper.find(judged["id"]))
    if "escalator" in judged:
        found = read_escalator(document)
        assert (found.summary() if found else None) == judged["escalator"], judged.get("why")
        if found:
            found.citation.verify(document)  # the quote is in the source
    if "value" in judged:
        assert read_metadata(document, ExtractionResult(clauses=[])).value == judged["value"], judged.get("why")
