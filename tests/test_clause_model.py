"""The clause model: its candidate spans, its text features and the shipped weights on a contract it never saw."""

from __future__ import annotations

import numpy as np
import pytest

from document_io.legal_text import sentence_units
from document_io.models import document_from_text
from document_io.span_candidates import passages, phrases, sentence_pieces
from model_backends.clause_model import shipped_model
from model_backends.text_features import TfidfVocabulary, hashed

# Written for these tests in the style of an EDGAR exhibit (CUAD's source): not one of CUAD's contracts.
CONTRACT = """Exhibit 10.4

MASTER SUPPLY AGREEMENT

This Master Supply Agreement (the "Agreement") is made and entered into as of the 1st day of April, 2007 (the "Effective Date"), by and between Halvorsen Marine Products, Inc., a Delaware corporation ("Supplier"), and Tidewater Outfitters LLC, a Maine limited liability company ("Buyer").

1. Term. This Agreement shall commence on the Effective Date and shall continue for a period of three (3) years. Thereafter it renews automatically for successive one (1) year periods unless either party gives notice of non-renewal at least ninety (90) days before the end of the then-current term.

2. Governing Law. This Agreement shall be governed by and construed in accordance with the laws of the State of New York, without regard to its conflict of laws principles.

3. Assignment. Neither party may assign this Agreement without the prior written consent of the other party; provided that Supplier may assign this Agreement to an Affiliate upon written notice to Buyer.

4. Limitation of Liability. In no event shall either party's aggregate liability under this Agreement exceed the fees paid by Buyer in the twelve (12) months preceding the claim.

IN WITNESS WHEREOF, the parties have executed this Agreement as of the date first written above.
"""


@pytest.fixture(scope="module")
def document():
    return document_from_text(name="supply.txt", text=CONTRACT)


def test_phrases_find_dates_titles_names_and_defined_terms(document):
    found = {(p.kind, document.text[p.start : p.end]) for p in phrases(document.text)}
    assert ("date", "1st day of April, 2007") in found
    assert ("title", "MASTER SUPPLY AGREEMENT") in found
    assert ("name", "Halvorsen Marine Products, Inc.") in found
    assert ("term", "Supplier") in found and ("term", "Buyer") in found
    blank = phrases("AGENCY AGREEMENT\nNovember ___, 2006\nLadies and Gentlemen:")
    assert any(p.kind == "date" and p.start == 17 for p in blank)  # an undated draft's blank date is still a date



@pytest.mark.parametrize(("text", "date"), [
    ("made this _____ day of _______________, 20__, by and between", "_____ day of _______________, 20__"),  # a form
    ("entered into this day of ___________________, 19__ by", "day of ___________________, 19__"),
    ("made as of the ____ day of _______________2000 between", "____ day of _______________2000"),
    ("effective as of June , 2010 (the \"Effective Date\")", "June , 2010"),  # the day left out
    ("THIS AGREEMENT IS MADE ON THE 19  DAY OF MAY , 2010\nPARTIES", "19  DAY OF MAY , 2010"),
    ("made as of the 6t h day of March, 2006 (the", "6t h day of March, 2006"),  # an ordinal a scanner split
    ("Party B: Example Network Co., Ltd.\nApril 2013\n1", "April 2013"),
    ("AGENCY AGREEMENT\n, 2006\nLadies and Gentlemen:", ", 2006"),  # all but the year left blank
    ("This Agreement is dated [●] between", "[●]"),
    ("DATE: 8/4/10 DATE: 7-29-10", "7-29-10"),
])
def test_dates_in_forms_and_broken_scans_are_date_candidates(text, date):
    assert date in {text[p.start : p.end] for p in phrases(text) if p.kind == "date"}


def test_numbers_and_years_in_prose_are_not_dates():
    text = "In 2006, the Supplier shipped 1,200 units under Section 4-2 and paid $2,010.00 for 12 months."
    assert [text[p.start : p.end] for p in phrases(text) if p.kind == "date"] == []


@pytest.mark.parametrize("sentence", [
    "This Agreement shall commence on 1 January 1998.",
    '"Effective Date" means the Closing Date.',
    "This Amendment shall enter into force on the date of its signature by both Parties.",
    "The effective term is 12 months beginning March 1, 2005 and ending February 28, 2006.",
    "This Agreement is effective as of the last date signed below.",
])
def test_a_sentence_that_starts_the_term_is_a_start_candidate_whole(sentence):
    text = f"7. Term. {sentence} Either party may terminate this Agreement effective upon written notice.\n8. Fees."
    assert [text[p.start : p.end] for p in phrases(text) if p.kind == "start"] == [sentence]


def test_the_start_candidate_of_the_sample_contract(document):
    starts = [document.text[p.start : p.end] for p in phrases(document.text) if p.kind == "start"]
    assert starts == ["This Agreement shall commence on the Effective Date and shall continue for a period of three (3) years."]

def test_passages_cover_pieces_sentences_runs_and_paragraphs(document):
    units = sentence_units(document)
    found = passages(document.text, units)
    kinds = {p.kind for p in found}
    assert {"S", "S2", "C"} <= kinds
    assert len({(p.start, p.end) for p in found}) == len(found)  # each span once
    for passage in found:
        covered = [units[r] for r in passage.rows]
        assert covered[0].start <= passage.start and passage.end <= covered[-1].end
    text = "Neither party may assign this Agreement without consent; provided that Supplier may assign it to an Affiliate upon notice."
    pieces = sentence_pieces(text, 0, len(text))
    assert [text[a:b] for a, b in pieces] == ["Neither party may assign this Agreement without consent",
                                              "provided that Supplier may assign it to an Affiliate upon notice."]


def test_tfidf_matches_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["The Supplier shall indemnify the Buyer.", "Buyer may terminate for convenience.",
             "The Buyer shall pay the Supplier within thirty days.", "Supplier warrants the goods."]
    ours = TfidfVocabulary.fit(texts, bigrams=True, sublinear=True, min_df=1)
    theirs = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    expected = theirs.fit_transform(texts).toarray()
    assert sorted(ours.vocabulary) == list(theirs.get_feature_names_out())
    assert np.allclose(ours.transform(texts).toarray(), expected, atol=1e-6)
    assert np.allclose(ours.transform(["Nothing known here"]).toarray(), 0)
    counts = hashed([["a", "a", "b"], []]).toarray()
    assert counts.sum() == 3 and counts[0].max() == 2 and not counts[1].any()


def test_shipped_model_answers_short_questions_with_phrases_and_clauses_with_passages(document):
    model = shipped_model()
    units = sentence_units(document)
    predictions = model.predict(document.text, units, floor=0.01)
    best: dict[str, tuple[float, str]] = {}
    for p in predictions:
        assert 0.0 <= p.score <= 1.0
        quote = document.text[p.start : p.end]
        if p.score > best.get(p.category, (-1.0, ""))[0]:
            best[p.category] = (p.score, quote)
    assert best["Agreement Date"][1] == "1st day of April, 2007"
    assert best["Document Name"][1] == "MASTER SUPPLY AGREEMENT"
    assert "laws of the State of New York" in best["Governing Law"][1] and best["Governing Law"][0] > 0.5
    assert "assign" in best["Anti-Assignment"][1]
    assert "liability" in best["Cap on Liability"][1].lower()
    parties = {document.text[p.start : p.end] for p in predictions if p.category == "Parties" and p.score > 0.3}
    assert {"Halvorsen Marine Products, Inc.", "Tidewater Outfitters LLC"} <= parties
    assert "Source Code Escrow" not in {p.category for p in predictions if p.score > 0.3}


def test_the_review_extraction_agent_votes_with_the_clause_model(document):
    from agents.clause_extraction import _model_votes
    from model_backends.local_engine import LocalEngine

    engine = LocalEngine.__new__(LocalEngine)  # the votes need the library and the model, not the Chroma store
    from clause_library.playbook import default_library

    engine.library = default_library()
    units = sentence_units(document)
    votes = _model_votes(engine, document, units)
    governing = [c.id for c in engine.library.categories.values() if (c.cuad_category or "").lower() == "governing law"]
    assert governing, "the library maps a category to CUAD's Governing Law"
    row = next(i for i, u in enumerate(units) if "laws of the State of New York" in u.text)
    assert votes[governing[0]][row] >= 1.0
    assert max(votes[governing[0]][i] for i, u in enumerate(units) if "Limitation of Liability" in u.text) < 1.0
