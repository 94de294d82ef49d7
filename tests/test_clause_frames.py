"""Clause frames against 410 sentences of CUAD train contracts read by hand (evals/judgments/clause_frames.yaml): who a
clause binds, who it is directed to, and its modality. The `test` split was kept apart from the sentences the rules
were written from; each of the three must be right on at least 90% of it."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from conftest import ROOT
from document_io.clause_frames import MUTUAL, frame_of
from document_io.contract_cast import CastParty, name_key

JUDGED = yaml.safe_load((ROOT / "evals" / "judgments" / "clause_frames.yaml").read_text())


def _same(label: str | None, found: str | None, parties: list[dict]) -> bool:
    if label is None or found is None or MUTUAL in (label, found):
        return label == found
    party = next(p for p in parties if p["name"] == found)
    return name_key(label) in {name_key(found), *(name_key(t) for t in party["terms"])} or label.lower() in (
        t.lower() for t in party["terms"])


def _scores(split: str) -> tuple[Counter, int]:
    right, count = Counter(), 0
    for item in (j for j in JUDGED if j["split"] == split):
        parties = [CastParty(name=p["name"], defined_terms=p["terms"], start=0, end=0, found_in="preamble") for p in item["parties"]]
        frame = frame_of(item["text"], parties)
        right["bound"] += _same(item["bound"], frame.bound, item["parties"])
        right["beneficiary"] += _same(item["beneficiary"], frame.beneficiary, item["parties"])
        right["modality"] += item["modality"] == frame.modality
        count += 1
    return right, count


def test_the_judged_set_is_what_the_issue_asks():
    splits = Counter(j["split"] for j in JUDGED)
    assert sum(splits.values()) >= 400 and splits["test"] >= 100
    assert not {j["contract"] for j in JUDGED if j["split"] == "test"} & {j["contract"] for j in JUDGED if j["split"] == "tune"}


@pytest.mark.parametrize("split", ["test", "tune"])
def test_frames_on_sentences_read_by_hand(split):
    right, count = _scores(split)
    for field in ("bound", "beneficiary", "modality"):
        assert right[field] / count >= 0.90, (split, field, right[field], count)


PARTIES = [CastParty(name="CloudNimbus Inc.", defined_terms=["Provider"], start=0, end=0, found_in="preamble"),
           CastParty(name="Northwind Systems, Inc.", defined_terms=["Customer"], start=0, end=0, found_in="preamble")]


@pytest.mark.parametrize("sentence, bound, beneficiary, modality", [
    # the three harmful cases of issue #27 start from reading these right
    ("Provider may change the terms and prices of the Services upon at least ninety (90) days notice to Customer.",
     "CloudNimbus Inc.", None, "right"),
    ("Customer may terminate this Agreement for convenience upon ninety (90) days notice to Provider.",
     "Northwind Systems, Inc.", None, "right"),
    ("In no event shall Provider be liable to Customer for any lost profits.", "CloudNimbus Inc.", "Northwind Systems, Inc.", "exclusion"),
    ("Provider's total liability under this Agreement shall not exceed the fees paid in the twelve months preceding the claim.",
     "CloudNimbus Inc.", None, "limitation"),
    ("Each party's aggregate liability shall be limited to the fees paid under this Agreement.", MUTUAL, None, "limitation"),
    ("Customer shall indemnify, defend and hold harmless Provider from any and all suits and claims.",
     "Northwind Systems, Inc.", "CloudNimbus Inc.", "obligation"),
    ("Customer shall pay each invoice within thirty (30) days of receipt.", "Northwind Systems, Inc.", None, "obligation"),
    ("Neither party shall assign this Agreement without the prior written consent of the other party.", MUTUAL, None, "prohibition"),
    ("Provider hereby assigns to Customer all right, title and interest in the Deliverables.", "CloudNimbus Inc.",
     "Northwind Systems, Inc.", "grant"),
    ("Customer agrees that Provider may use Customer's name in its marketing.", "CloudNimbus Inc.", None, "right"),
    ("The Services are provided AS IS.", None, None, "exclusion"),
    ("This Agreement shall be governed by the laws of the State of New York.", None, None, "none"),
])
def test_frames_of_the_clauses_direction_rules_turn_on(sentence, bound, beneficiary, modality):
    frame = frame_of(sentence, PARTIES)
    assert (frame.bound, frame.beneficiary, frame.modality) == (bound, beneficiary, modality)
