"""Each agent on the samples, scored against samples/labels.yaml (hand-written expectations)."""

from __future__ import annotations

import pytest

from conftest import SAMPLES, run_agents

SAMPLE_FILES = [
    (name, file)
    for name, file in [
        ("nda_bluepeak", "nda_bluepeak.docx"), ("msa_orion", "msa_orion.docx"),
        ("saas_cloudnimbus", "saas_cloudnimbus.docx"), ("supply_ferrotech", "supply_ferrotech.docx"),
        ("licence_quanta", "licence_quanta.docx"), ("licence_quanta", "licence_quanta.txt"),
        ("dpa_medisafe", "dpa_medisafe.docx"), ("dpa_medisafe", "dpa_medisafe.pdf"),
    ]
]


@pytest.fixture(scope="module")
def reviewed(engine):
    cache = {}

    def get(file):
        if file not in cache:
            cache[file] = run_agents(SAMPLES / file, engine)
        return cache[file]

    return get


@pytest.mark.parametrize("name,file", SAMPLE_FILES)
def test_classifier_type_parties_and_side(name, file, reviewed, labels):
    _, profile, *_ = reviewed(file)
    expected = labels[name]
    assert profile.contract_type == expected["contract_type"]
    assert profile.counterparty == expected["counterparty"]
    assert profile.our_side == expected["our_side"]
    assert "legal" in profile.review_functions
    assert any(p.is_us and "Northwind" in p.name for p in profile.parties)


@pytest.mark.parametrize("name,file", SAMPLE_FILES)
def test_compliance_finds_exactly_the_labelled_deviations(name, file, reviewed, labels):
    _, _, extraction, compliance, *_ = reviewed(file)
    expected = labels[name]
    rule_findings = {f.rule_id: f.position for f in compliance.findings if f.position not in (None, "missing")}
    assert rule_findings == expected["findings"]
    missing = sorted(f.category for f in compliance.findings if f.position == "missing")
    assert missing == sorted(expected["missing"])
    assert bool(extraction.injection_flags) == expected["injection"]
    assert any(f.category == "prompt_injection" for f in compliance.findings) == expected["injection"]


@pytest.mark.parametrize("name,file", SAMPLE_FILES)
def test_every_suggestion_is_grounded_in_the_source(name, file, reviewed):
    document, _, extraction, compliance, redlines, _ = reviewed(file)
    for clause in extraction.clauses:
        assert document.text[clause.span.start : clause.span.end] == clause.span.quote
    asks = [f.id for f in compliance.findings if f.severity != "info"]  # a note (a term in our favour) asks nothing
    assert sorted(s.finding_id for s in redlines.suggestions) == sorted(asks)
    for suggestion in redlines.suggestions:
        assert document.text[suggestion.citation.start : suggestion.citation.end] == suggestion.citation.quote
        for edit in suggestion.edits:
            assert suggestion.citation.start <= edit.start <= edit.end <= suggestion.citation.end


@pytest.mark.parametrize("name,file", SAMPLE_FILES)
def test_renewal_terms_and_deadline(name, file, reviewed, labels):
    *_, brief = reviewed(file)
    terms = brief.terms.model_dump()
    for key, value in labels[name]["renewal"].items():
        assert terms[key] == value, key


def test_redlines_are_minimal_edits(reviewed):
    document, _, _, compliance, redlines, _ = reviewed("saas_cloudnimbus.docx")
    by_rule = {f.rule_id: f.id for f in compliance.findings}
    suggestion = next(s for s in redlines.suggestions if s.finding_id == by_rule["auto_renewal.term_max"])
    changed = [(document.text[e.start : e.end], e.new_text) for e in suggestion.edits]
    assert changed == [("five", "one"), ("5", "1")]
    notice = next(s for s in redlines.suggestions if s.finding_id == by_rule["renewal_notice.max_days"])
    assert [(document.text[e.start : e.end], e.new_text) for e in notice.edits] == [
        ("one hundred eighty", "sixty"), ("180", "60")]
    assert notice.escalate_to == "procurement"


def test_missing_clause_becomes_insertion_of_the_approved_library_clause(reviewed, engine):
    _, _, _, _, redlines, _ = reviewed("supply_ferrotech.docx")
    insurance = next(s for s in redlines.suggestions if s.category == "insurance")
    assert insurance.kind == "insert"
    # numbered after the contract's last section and the clauses inserted before it ("8." → 9., 10., "11. Insurance."),
    # in the contract's own party terms (it writes bare "Supplier"), the approved wording otherwise verbatim
    approved = engine.library.get("insurance").approved_clause
    assert insurance.insertion.text == "11. Insurance. " + approved.replace("The Supplier", "Supplier")
    assert insurance.library_clause_id == "insurance:clause"


def test_hidden_text_instruction_is_flagged_not_obeyed(reviewed):
    _, profile, extraction, compliance, redlines, _ = reviewed("supply_ferrotech.docx")
    flag = extraction.injection_flags[0]
    assert "must approve this agreement" in flag.span.quote and "hidden" in flag.reason
    # the planted text asked for no flags; the review still raises every labelled finding
    assert len([f for f in compliance.findings if f.category != "prompt_injection"]) >= 7
    deletion = next(s for s in redlines.suggestions if s.category == "prompt_injection")
    assert deletion.edits[0].new_text == "" and deletion.severity == "high"


def _library_rows(engine):
    from clause_library.vector_store import _entries

    return _entries(engine.library)


def test_library_search_finds_the_right_category(engine):
    hits = engine.store.search("This contract is governed by the laws of France", limit=3)
    assert hits[0].category_id == "governing_law"
    assert all(h.text in {row[3] for row in _library_rows(engine)} for h in hits)  # the library files' own wording
