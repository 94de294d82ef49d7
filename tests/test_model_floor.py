"""The local findings are the floor of the LLM backend (issue 34): a model that copies the prompt's examples, answers
valid-JSON nonsense or picks categories at random leaves every local finding and suggestion as it was and is reported
as unusable; what a model adds stays marked as the model's, and never closes a missing-clause finding."""

from __future__ import annotations

import random

import pytest
from conftest import SAMPLES
from scripted_openai import ScriptedOpenAI, agent_of, keyword_model, numbered_sentences
from test_llm_backend import _local_review, _service_on

from model_backends.prompt_templates import load_prompt


def _without_governing_law(tmp_path):
    from docx import Document

    document = Document(str(SAMPLES / "msa_orion.docx"))
    for paragraph in document.paragraphs:
        if paragraph.text.startswith("8. Governing Law."):
            paragraph._element.getparent().remove(paragraph._element)
    path = tmp_path / "msa_no_law.docx"
    document.save(str(path))
    return path


def _copying_model(request: dict) -> dict:
    """What the 270M model did: every answer is the example in the prompt."""
    names = {"classifier": "classifier", "clause_extraction": "clause_extraction", "redlining": "redlining",
             "renewal_leverage": "renewal_leverage"}
    return {"json": load_prompt(names[agent_of(request)]).example()}


def _findings(status) -> list[tuple]:
    return [(f.rule_id, f.severity, f.title, f.citation.start) for f in status.compliance.findings]


def _suggestions(status) -> list[tuple]:
    return [(s.category, s.kind, s.proposed_text, s.wording_by) for s in status.redlines.suggestions]


def test_an_example_copying_model_leaves_every_local_finding_and_is_reported_unusable(tmp_path):
    contract = _without_governing_law(tmp_path)
    local = _local_review(contract, tmp_path / "local")
    assert ("governing_law.required", "high") in {(f.rule_id, f.severity) for f in local.compliance.findings}
    with ScriptedOpenAI(_copying_model) as server:
        hybrid = _service_on(server, tmp_path / "hybrid").start(contract, tmp_path / "out")
    assert _findings(hybrid) == _findings(local)  # "No governing law clause" stands
    assert _suggestions(hybrid) == _suggestions(local)
    assert hybrid.profile.contract_type == local.profile.contract_type
    assert "Acme" not in str(hybrid.profile.model_dump()) and not any("Spend fell" in p for p in hybrid.brief.leverage_points)
    assert not [c for c in hybrid.extraction.clauses if c.source == "model"]
    unusable = [n for n in hybrid.model_notes if "answers unusable" in n]
    assert unusable and all(a in unusable[0] for a in ("classifier", "clause_extraction", "renewal_leverage"))


def test_valid_json_nonsense_never_becomes_a_redline_or_a_negotiation_point(tmp_path):
    local = _local_review(SAMPLES / "supply_ferrotech.docx", tmp_path / "local")
    flagged = [s for s in local.redlines.suggestions if s.kind == "flag"]
    assert flagged  # the exclusivity flag among them

    def nonsense(request):
        agent = agent_of(request)
        if agent == "redlining":
            return {"json": {"revised_clause": "The moon is made of green cheese and all fees are payable in seashells.",
                             "position": "preferred", "rationale": "because purple", "escalate": False}}
        if agent == "renewal_leverage":
            return {"json": {"leverage_points": ["Sing loudly."], "recommended_action": "Dance."}}
        if agent == "clause_extraction":
            return {"json": {"clauses": []}}
        return keyword_model(request)

    with ScriptedOpenAI(nonsense) as server:
        hybrid = _service_on(server, tmp_path / "hybrid").start(SAMPLES / "supply_ferrotech.docx", tmp_path / "out")
    assert _suggestions(hybrid) == _suggestions(local)  # every flag is still a flag, with the playbook's wording
    by_id = {s.id: s for s in hybrid.redlines.suggestions}
    for suggestion in flagged:
        kept = by_id[suggestion.id]
        assert kept.rationale.startswith(suggestion.rationale)  # the local reasoning stands ...
        assert "green cheese" in kept.rationale and "not used" in kept.rationale  # ... the model's text is a note
        assert "because purple" not in kept.rationale
    assert not any("Sing loudly" in p or "Dance" in p for p in hybrid.brief.leverage_points)
    assert any("answers unusable" in n and "redlining" in n for n in hybrid.model_notes)


def test_a_model_labelling_sentences_wrongly_removes_no_missing_clause_finding(tmp_path):
    """Sentences labelled with categories they are not (the missing ones among them, as a model picking at random
    sooner or later does): each missing-clause finding stays, saying what the model thought it found."""
    contract = SAMPLES / "saas_cloudnimbus.docx"
    local = _local_review(contract, tmp_path / "local")
    missing = {f.category for f in local.compliance.findings if f.position == "missing"}
    assert missing
    rng = random.Random(34)
    labels = sorted(missing) + ["governing_law", "term", "audit_rights", "insurance"]

    def wrong_model(request):
        if agent_of(request) == "clause_extraction":
            numbered = numbered_sentences(request)
            picked = rng.sample(sorted(numbered), min(len(labels), len(numbered)))
            return {"json": {"clauses": [{"category": label, "sentence": n} for label, n in zip(labels, picked)]}}
        return keyword_model(request) if agent_of(request) != "classifier" else {"json": {"nonsense": True}}

    with ScriptedOpenAI(wrong_model) as server:
        hybrid = _service_on(server, tmp_path / "hybrid").start(contract, tmp_path / "out")
    from_model = {c.category for c in hybrid.extraction.clauses if c.source == "model"}
    assert missing & from_model  # the model did claim a missing clause was there
    assert {f.category for f in hybrid.compliance.findings if f.position == "missing"} == missing
    levels = ["low", "medium", "high", "critical"]
    assert levels.index(hybrid.overall_risk) >= levels.index(local.overall_risk)
    noted = {f.category for f in hybrid.compliance.findings if f.position == "missing" and "The model also found" in f.explanation}
    assert noted == missing & from_model


@pytest.mark.parametrize("answer, copied", [
    ({"contract_type": "msa", "parties": [{"name": "Acme Widgets Ltd", "role": "Supplier", "is_us": False}]}, True),
    ({"leverage_points": ["Spend fell 20% year on year: ask for a lower rate."], "recommended_action": "x"}, True),
    ({"contract_type": "msa", "reasons": ["the title says Master Services Agreement"]}, False),  # a phrase, no fact
    ({"contract_type": "nda", "parties": [{"name": "Northwind Systems, Inc.", "role": "Customer"}]}, False),
])
def test_what_counts_as_copying_the_example(answer, copied):
    from model_backends.answer_checks import copied_example

    example = {**load_prompt("classifier").example(), **load_prompt("renewal_leverage").example()}
    sent = "This Agreement is between Northwind Systems, Inc. and Orion Consulting Group LLC."
    assert (copied_example(answer, example, sent) is not None) is copied
