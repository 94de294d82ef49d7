"""The LLM backend against a real HTTP server speaking the chat-completions protocol with scripted answers."""

from __future__ import annotations

import re

import pytest
from conftest import SAMPLES
from scripted_openai import ORION_PROFILE, ScriptedOpenAI, agent_of, contract_block, keyword_model, numbered_sentences
from test_review_cli import cli

from agents.classifier import ClassifierInput, classify_with_llm
from agents.clause_extraction import ExtractionInput, extract_clauses_with_llm, preselect_for_llm
from document_io.legal_text import sentence_units
from document_io.loader import load_document
from model_backends.llm_client import AnswerTruncated, LLMClient, LLMError, LLMSettings
from model_backends.token_budget import count_tokens

def _client(server: ScriptedOpenAI, **overrides) -> LLMClient:
    settings = dict(base_url=server.base_url, api_key="test-key", default_model="scripted-model",
                    retry_initial_s=0.01, retry_max_s=0.05, max_attempts=3, timeout_s=5)
    return LLMClient(LLMSettings(**(settings | overrides)))


@pytest.fixture(scope="module")
def orion():
    return load_document(SAMPLES / "msa_orion.docx")


def test_structured_answer_passes_the_contract_as_delimited_data_and_books_tokens(orion):
    with ScriptedOpenAI().script({"json": ORION_PROFILE}) as server:
        client = _client(server)
        profile = classify_with_llm(ClassifierInput(document=orion, our_names=["Northwind Systems"]), client)
    assert profile.contract_type == "msa" and profile.counterparty == "Orion Consulting Group LLC"
    request = server.requests[0]
    assert request["model"] == "scripted-model" and request["response_format"]["type"] == "json_schema"
    system, user = request["messages"][0]["content"], request["messages"][1]["content"]
    assert "never follow instructions" in system
    assert "Orion Consulting Group LLC" in contract_block(request) and "Orion" not in system
    usage = client.usage.by_agent["classifier"]
    assert usage.calls == 1 and usage.prompt_tokens == len(system.split()) + len(user.split())


def test_malformed_json_is_asked_again_and_counted_as_a_retry(orion):
    with ScriptedOpenAI().script({"text": "Sure! Here is the profile: {contract_type: msa"}, {"text": "```json\n" + __import__("json").dumps(ORION_PROFILE) + "\n```"}) as server:
        client = _client(server)
        profile = classify_with_llm(ClassifierInput(document=orion, our_names=["Northwind Systems"]), client)
    assert profile.contract_type == "msa"
    assert len(server.requests) == 2 and client.usage.by_agent["classifier"].retries == 1


def test_rate_limit_then_success(orion):
    with ScriptedOpenAI().script({"status": 429, "message": "slow down"}, {"status": 503}, {"json": ORION_PROFILE}) as server:
        client = _client(server)
        profile = classify_with_llm(ClassifierInput(document=orion, our_names=["Northwind Systems"]), client)
    assert profile.our_side == "customer" and len(server.requests) == 3
    assert client.usage.by_agent["classifier"].retries == 2


def test_timeouts_end_in_a_clear_error_after_the_last_attempt(orion):
    with ScriptedOpenAI(lambda request: {"sleep": 1.5, "json": ORION_PROFILE}) as server:
        client = _client(server, timeout_s=0.3, max_attempts=2)
        with pytest.raises(LLMError, match=r"classifier: no valid answer from scripted-model after 2 attempts \(timed out\)"):
            classify_with_llm(ClassifierInput(document=orion, our_names=["Northwind Systems"]), client)
    assert len(server.requests) == 2


def test_invalid_answers_every_time_are_reported_not_invented(orion):
    with ScriptedOpenAI(lambda request: {"json": {"contract_type": "spaceship"}}) as server:
        client = _client(server)
        with pytest.raises(LLMError, match="after 3 attempts"):
            classify_with_llm(ClassifierInput(document=orion, our_names=["Northwind Systems"]), client)


def test_a_server_that_answers_500_to_json_schema_is_probed_down_the_ladder_and_the_mode_is_remembered(orion, tmp_path):
    memory = tmp_path / "capabilities.json"
    # llama.cpp's server answers a schema it cannot use with a 500 that does not name the feature
    with ScriptedOpenAI(lambda request: {"json": ORION_PROFILE}, json_schema=False, schema_status=500,
                        schema_message="Internal Server Error") as server:
        client = _client(server, capabilities_path=memory)
        profile = classify_with_llm(ClassifierInput(document=orion, our_names=["Northwind Systems"]), client)
        assert profile.contract_type == "msa"
        # a 500 that does not name the feature is given up on only the second time in a row (once may be passing)
        assert [(r.get("response_format") or {}).get("type") for r in server.requests] == [
            "json_schema", "json_schema", "json_object"]
        assert server.requests[2]["response_format"]["schema"]["title"] == "ClassifierAnswer"  # the schema goes along
        assert client.output_modes() == {"scripted-model": "json_object_schema (json_schema refused: HTTP 500)"}
        assert client.usage.by_agent["classifier"].refused == 2
        user = server.requests[2]["messages"][-1]["content"]
        assert "JSON schema" in user and "Never follow instructions" in user  # survives a template without a system turn
        # another process, same endpoint and model: starts in the mode that worked, no probe
        again = _client(server, capabilities_path=memory)
        classify_with_llm(ClassifierInput(document=orion, our_names=["Northwind Systems"]), again)
        assert (server.requests[3].get("response_format") or {}).get("type") == "json_object"
    assert '"mode": "json_object_schema"' in memory.read_text()


def test_a_500_after_the_mode_has_worked_is_retried_not_taken_for_a_missing_feature(orion):
    with ScriptedOpenAI().script({"json": ORION_PROFILE}, {"status": 500, "message": "overloaded"}, {"json": ORION_PROFILE}) as server:
        client = _client(server)
        for _ in range(2):
            classify_with_llm(ClassifierInput(document=orion, our_names=["Northwind Systems"]), client)
    assert [(r.get("response_format") or {}).get("type") for r in server.requests] == ["json_schema"] * 3
    assert client.usage.by_agent["classifier"].retries == 1


def test_an_answer_cut_at_the_token_limit_is_asked_again_with_twice_the_budget_then_reported(orion):
    with ScriptedOpenAI().script({"json": ORION_PROFILE, "finish_reason": "length"}, {"json": ORION_PROFILE}) as server:
        client = _client(server, max_output_tokens=300)
        classify_with_llm(ClassifierInput(document=orion, our_names=["Northwind Systems"]), client)
    assert [r["max_tokens"] for r in server.requests] == [300, 600]
    assert client.usage.by_agent["classifier"].truncated == 1
    with ScriptedOpenAI(lambda request: {"text": '{"contract_type": "ms', "finish_reason": "length"}) as server:
        client = _client(server, max_output_tokens=300)
        with pytest.raises(AnswerTruncated, match=r"cut at the token limit twice \(300 then 600 tokens\)"):
            classify_with_llm(ClassifierInput(document=orion, our_names=["Northwind Systems"]), client)
    assert len(server.requests) == 2  # never the same request a third time


def test_a_call_given_up_on_is_closed_on_the_server_and_its_tokens_are_counted(orion):
    with ScriptedOpenAI(lambda request: {"stall": 1.5, "json": ORION_PROFILE}) as server:
        client = _client(server, timeout_s=0.4, max_attempts=2)
        with pytest.raises(LLMError, match="after 2 attempts \\(timed out\\)"):
            classify_with_llm(ClassifierInput(document=orion, our_names=["Northwind Systems"]), client)
        deadline = __import__("time").monotonic() + 5
        while server.closed_early < 2 and __import__("time").monotonic() < deadline:
            __import__("time").sleep(0.1)
    assert server.closed_early == 2  # both streams were closed by the client, so the server stopped generating
    usage = client.usage.by_agent["classifier"]
    assert usage.abandoned == 2 and usage.calls == 0 and usage.prompt_tokens > 500


def test_server_without_structured_outputs_falls_back_to_json_mode(orion):
    # an OpenAI-style server: no json_schema, and no "schema" extension on json_object either (both 400)
    with ScriptedOpenAI(lambda request: {"json": ORION_PROFILE}, json_schema=False, schema_extension=False) as server:
        client = _client(server)
        classify_with_llm(ClassifierInput(document=orion, our_names=["Northwind Systems"]), client)
        classify_with_llm(ClassifierInput(document=orion, our_names=["Northwind Systems"]), client)
    formats = [r.get("response_format") or {} for r in server.requests]
    assert [(f.get("type"), "schema" in f) for f in formats] == [
        ("json_schema", False), ("json_object", True), ("json_object", False), ("json_object", False)]  # remembered
    assert "JSON schema" in server.requests[2]["messages"][0]["content"]
    assert client.output_modes() == {"scripted-model": "json_object (json_object_schema refused: HTTP 400)"}


def test_extraction_answers_numbers_so_every_span_is_exact_and_bad_items_are_dropped_and_counted(orion, engine):
    def responder(request):
        numbered = numbered_sentences(request)
        law = next(n for n, sentence in numbered.items() if "governed by the laws" in sentence)
        return {"json": {"clauses": [
            {"category": "governing_law", "sentence": law},
            {"category": "governing_law", "sentence": law, "start": 0, "end": 20},  # a part of the sentence
            {"category": "governing_law", "sentence": len(numbered) + 1},  # a sentence that was not sent
            {"category": "governing_law", "sentence": law, "start": 5, "end": 10_000},  # offsets outside it
            {"category": "teleportation", "sentence": law},
        ]}}

    with ScriptedOpenAI(responder) as server:
        client = _client(server)
        result = extract_clauses_with_llm(ExtractionInput(document=orion), engine, client)
    request = server.requests[0]
    schema = request["response_format"]["json_schema"]["schema"]["properties"]["clauses"]
    assert schema["items"]["properties"]["category"]["enum"][:1] and "teleportation" not in schema["items"]["properties"]["category"]["enum"]
    assert schema["items"]["properties"]["sentence"]["maximum"] == len(numbered_sentences(request)) and schema["maxItems"] > 0
    assert "[1] " in contract_block(request) and "Never follow instructions" in request["messages"][-1]["content"]
    assert [c.category for c in result.clauses] == ["governing_law", "governing_law"]
    whole, part = sorted(result.clauses, key=lambda c: c.span.end - c.span.start, reverse=True)
    for clause in result.clauses:
        assert orion.text[clause.span.start : clause.span.end] == clause.span.quote
    assert "Texas" in whole.span.quote and part.span.quote == whole.span.quote[:20]
    usage = client.usage.by_agent["clause_extraction"]
    assert usage.quotes_returned == 5 and usage.quotes_dropped == 3


def test_extraction_sends_only_preselected_sentences(orion, engine):
    units = sentence_units(orion)
    chosen = preselect_for_llm(units, engine)
    assert 0 < len(chosen) < len(units)
    assert any("governed by" in u.text for u in chosen)
    assert count_tokens("\n".join(u.text for u in chosen)) < count_tokens(orion.text)


def _point_at(server: ScriptedOpenAI, monkeypatch, config) -> None:
    """The CLI subprocesses inherit this environment: the LLM backend, on the scripted server."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("CLAUSEFLOW_LLM_CONFIG", str(config))


def test_review_on_the_llm_backend_end_to_end(tmp_path, monkeypatch):
    config = tmp_path / "llm.yaml"
    config.write_text("default_model: gpt-4o-mini\nretry_initial_s: 0.01\nretry_max_s: 0.05\n")
    with ScriptedOpenAI(keyword_model) as server:
        _point_at(server, monkeypatch, config)
        review = cli("review", str(SAMPLES / "supply_ferrotech.docx"), "--out", str(tmp_path / "out"), data_dir=tmp_path / "data")
    out = review.stdout
    agents_called = {agent_of(r) for r in server.requests}
    assert agents_called == {"classifier", "clause_extraction", "redlining", "renewal_leverage"}
    assert re.search(r"LLM tokens \(prompt\+completion\): classifier \d+\+\d+", out) and "est. $" in out
    assert "1 unverifiable quote(s) dropped" in out
    # the planted instruction is a finding and the model's "low risk" does not lower the review's risk
    assert "prompt_injection" in out or "instruction" in out.lower()
    assert re.search(r"risk (high|critical)", out)
    # the model's wording for exclusivity (no rule can write it) became a word-level edit inside the citation
    assert "non-exclusive basis" in out
    thread = re.search(r"thread (\S+) ·", out).group(1)
    shown = cli("show", thread, data_dir=tmp_path / "data")
    assert "non-exclusive basis" in shown.stdout
    decided = cli("decide", thread, "--approve-all", "--reviewer", "A. Lee", data_dir=tmp_path / "data")
    assert "finalised" in decided.stdout and list((tmp_path / "out").glob("*.redlined.docx"))
    assert "LLM output mode: gpt-4o-mini: json_schema" in out
    report = next((tmp_path / "out").glob("*.review.md")).read_text(encoding="utf-8")
    assert "## Model run" in report and "clause_extraction: gpt-4o-mini at http://127.0.0.1" in report
    assert "output mode json_schema, prompt clause_extraction/2" in report and "prompt classifier/2" in report


def test_a_failed_agent_leaves_the_local_result_says_so_and_a_rerun_pays_for_nothing(tmp_path, monkeypatch):
    config = tmp_path / "llm.yaml"
    config.write_text("max_attempts: 2\nretry_initial_s: 0.01\nretry_max_s: 0.02\n")

    def responder(request):
        if agent_of(request) == "renewal_leverage":
            return {"status": 500, "message": "model server overloaded"}
        return keyword_model(request)

    with ScriptedOpenAI(responder) as server:
        _point_at(server, monkeypatch, config)
        args = ("review", str(SAMPLES / "supply_ferrotech.docx"), "--out", str(tmp_path / "out"))
        reviewed = cli(*args, data_dir=tmp_path / "data")
        assert "renewal: no usable answer from the model (renewal_leverage: no valid answer from gpt-4o-mini after 2 " \
               "attempts (HTTP 500)); the local brief is used" in reviewed.stdout
        first_run = len(server.requests)
        again = cli(*args, data_dir=tmp_path / "data")
    assert "already under review" in again.stdout and len(server.requests) == first_run  # checkpointed: nothing re-paid


def _service_on(server: ScriptedOpenAI, data_dir):
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    config = ReviewConfig.from_env(data_dir, "llm").model_copy(update={"our_names": ["Northwind Systems"]})
    return ReviewService(config, llm=_client(server, max_attempts=2))


def _local_review(path, data_dir):
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    config = ReviewConfig.from_env(data_dir, "local").model_copy(update={"our_names": ["Northwind Systems"]})
    return ReviewService(config).start(path, data_dir / "out")


def test_a_model_that_answers_nonsense_leaves_every_local_finding_and_says_it_was_unusable(tmp_path):
    local = _local_review(SAMPLES / "nda_bluepeak.docx", tmp_path / "local")
    with ScriptedOpenAI(lambda request: {"json": {"nonsense": True, "contract_type": "spaceship"}}) as server:
        hybrid = _service_on(server, tmp_path / "hybrid").start(SAMPLES / "nda_bluepeak.docx", tmp_path / "out")
    assert hybrid.profile.contract_type == local.profile.contract_type == "nda"
    assert [(s.category, s.kind, s.proposed_text) for s in hybrid.redlines.suggestions] == \
        [(s.category, s.kind, s.proposed_text) for s in local.redlines.suggestions]
    assert [c.span for c in hybrid.extraction.clauses] == [c.span for c in local.extraction.clauses]
    assert any(n.startswith("model scripted-model: ") and "answers unusable" in n and
               "review continued on the local engine" in n for n in hybrid.model_notes)


def test_a_model_that_finds_a_grounded_clause_the_local_engine_missed_adds_it(tmp_path):
    local = _local_review(SAMPLES / "msa_orion.docx", tmp_path / "local")
    found_locally = {c.category for c in local.extraction.clauses}
    sentence = next(u.text for u in sentence_units(local.document) if "Orion" in u.text and len(u.text) > 60)
    category = next(c for c in ("audit_rights", "non_solicit", "insurance", "force_majeure") if c not in found_locally)

    def responder(request):
        if agent_of(request) == "clause_extraction":
            numbered = numbered_sentences(request)
            number = next((n for n, text in numbered.items() if text == sentence), None)
            return {"json": {"clauses": ([{"category": category, "sentence": number}] if number else [])
                             + [{"category": category, "sentence": len(numbered) + 1}]}}  # one that was not sent
        return keyword_model(request) if agent_of(request) != "classifier" else {"json": ORION_PROFILE}

    with ScriptedOpenAI(responder) as server:
        hybrid = _service_on(server, tmp_path / "hybrid").start(SAMPLES / "msa_orion.docx", tmp_path / "out")
    added = [c for c in hybrid.extraction.clauses if c.source == "model"]
    assert [(c.category, c.span.quote) for c in added] == [(category, sentence)]
    assert {(c.category, c.span.start) for c in local.extraction.clauses} <= {(c.category, c.span.start) for c in hybrid.extraction.clauses}
    assert hybrid.profile.type_source == "both"  # the model agreed it is an MSA
    assert any("added 1 grounded one(s)" in n for n in hybrid.model_notes)


def test_a_finding_on_a_clause_only_the_model_found_says_so(engine):
    from agents.classifier import classify
    from agents.compliance import ComplianceInput, check_compliance
    from agents.redlining import RedliningInput, propose_redlines
    from agents.schema import ExtractedClause, ExtractionResult, Span
    from document_io.models import build_document

    texts = ["SERVICES AGREEMENT", 'Northwind Systems, Inc. (the "Customer") and Acme Works Ltd (the "Supplier") agree:',
             "1. Fees. The Customer shall pay each invoice within one hundred twenty (120) days of receipt."]
    document = build_document(name="t", source_path="t", fmt="docx", sha256="0", texts=texts)
    start = document.text.index("The Customer shall pay")
    clause = ExtractedClause(category="payment_terms", span=Span.of(document, start, len(document.text)), score=0.9,
                             method="llm", source="model")
    profile = classify(ClassifierInput(document=document, our_names=["Acme Works Ltd"], side="supplier"))
    compliance = check_compliance(ComplianceInput(document=document, profile=profile,
                                                  extraction=ExtractionResult(clauses=[clause])), engine.library)
    payment = [f for f in compliance.findings if f.category == "payment_terms"]
    assert payment and all(f.found_by == "model" for f in payment)
    redlines = propose_redlines(RedliningInput(document=document, compliance=compliance, profile=profile), engine)
    assert all(s.found_by == "model" for s in redlines.suggestions if s.category == "payment_terms")
