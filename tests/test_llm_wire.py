"""What real model servers do on the wire (issue 34), against the scripted server: error events mid-stream, resets,
keep-alive comments, Retry-After, interrupted streams, and which output mode is remembered and for how long."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from scripted_openai import ORION_PROFILE, ScriptedOpenAI
from test_llm_backend import _client, orion  # noqa: F401  (the module fixture)

from agents.classifier import ClassifierInput, classify_with_llm
from model_backends.llm_client import LLMError


def _classify(document, client):
    return classify_with_llm(ClassifierInput(document=document, our_names=["Northwind Systems"]), client)


def test_an_error_event_mid_stream_is_retried_and_its_tokens_booked(orion):  # noqa: F811
    with ScriptedOpenAI().script({"json": ORION_PROFILE, "error_event": "the request exceeds the available context"},
                                 {"json": ORION_PROFILE}) as server:
        client = _client(server)
        assert _classify(orion, client).contract_type == "msa"
    usage = client.usage.by_agent["classifier"]
    assert usage.broken == 1 and usage.retries == 1 and usage.calls == 1
    assert usage.prompt_tokens > 2 * 500  # both attempts' prompts: the broken one was processed too


def test_connection_resets_are_retried_and_booked_with_what_was_sent(orion):  # noqa: F811
    with ScriptedOpenAI().script({"reset": True}, {"reset": True}, {"json": ORION_PROFILE}) as server:
        client = _client(server)
        assert _classify(orion, client).contract_type == "msa"
    usage = client.usage.by_agent["classifier"]
    assert usage.broken == 2 and usage.calls == 1 and usage.prompt_tokens > 3 * 500
    with ScriptedOpenAI(lambda request: {"reset": True}) as server:
        failing = _client(server, max_attempts=2)
        with pytest.raises(LLMError, match="after 2 attempts"):
            _classify(orion, failing)
    assert failing.usage.by_agent["classifier"].prompt_tokens > 2 * 500  # failed calls' tokens are not zero


def test_keep_alive_comments_do_not_extend_the_timeout(orion):  # noqa: F811
    with ScriptedOpenAI(lambda request: {"json": ORION_PROFILE, "keepalive": 30}) as server:
        client = _client(server, timeout_s=1.5, max_attempts=2)
        started = time.monotonic()
        with pytest.raises(LLMError, match="timed out"):
            _classify(orion, client)
        elapsed = time.monotonic() - started
    assert elapsed < 2 * 1.5 + 2, f"{elapsed:.1f} s for two attempts of 1.5 s"  # not 30 s each
    assert client.usage.by_agent["classifier"].abandoned == 2


def test_retry_after_is_honoured(orion):  # noqa: F811
    with ScriptedOpenAI().script({"status": 429, "message": "slow down", "retry_after": 1.2},
                                 {"json": ORION_PROFILE}) as server:
        client = _client(server)  # its own backoff is 0.01-0.05 s
        started = time.monotonic()
        _classify(orion, client)
        assert time.monotonic() - started >= 1.2


def test_an_interrupted_stream_is_counted_and_asked_again(orion):  # noqa: F811
    with ScriptedOpenAI().script({"text": "", "no_finish": True}, {"json": ORION_PROFILE}) as server:
        client = _client(server)
        assert _classify(orion, client).contract_type == "msa"
    assert client.usage.by_agent["classifier"].broken == 1


def test_a_mode_is_remembered_only_once_a_valid_answer_proved_it_and_probed_again_after_a_day(orion, tmp_path):  # noqa: F811
    memory = tmp_path / "capabilities.json"
    with ScriptedOpenAI(lambda request: {"text": "<html><body>502 Bad Gateway</body></html>"}) as server:
        client = _client(server, capabilities_path=memory, max_attempts=2)
        with pytest.raises(LLMError):
            _classify(orion, client)
    assert not memory.exists()  # an HTML page is no proof that json_schema works

    with ScriptedOpenAI().script({"status": 500, "message": "busy"}, {"json": ORION_PROFILE}) as server:
        client = _client(server, capabilities_path=memory)
        _classify(orion, client)
        assert [(r.get("response_format") or {}).get("type") for r in server.requests] == ["json_schema", "json_schema"]
    assert json.loads(memory.read_text())[f"{server.base_url}|scripted-model"]["mode"] == "json_schema"  # one 500 demoted nothing

    old = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat(timespec="seconds")
    memory.write_text(json.dumps({f"{server.base_url}|scripted-model": {"mode": "prompt_only", "reason": "x", "at": old}}))
    with ScriptedOpenAI(lambda request: {"json": ORION_PROFILE}) as again:
        memory.write_text(memory.read_text().replace(server.base_url, again.base_url))
        client = _client(again, capabilities_path=memory)
        _classify(orion, client)
        assert (again.requests[0].get("response_format") or {}).get("type") == "json_schema"  # probed from the top
    entry = json.loads(memory.read_text())[f"{again.base_url}|scripted-model"]
    assert entry["mode"] == "json_schema" and entry["at"] > old


@pytest.mark.parametrize("owned_by, configured, expected", [
    ("me", None, 1),          # llama-cpp-python: one request at a time (it interrupts a stream when another queues)
    ("llamacpp", None, 1),    # llama.cpp's own server
    ("openai", None, 4),
    (None, None, 4),          # no model list: a general server
    ("me", 3, 3),             # what the operator configured stands
])
def test_llama_cpp_style_servers_get_one_request_at_a_time(owned_by, configured, expected):
    with ScriptedOpenAI(owned_by=owned_by) as server:
        client = _client(server, max_parallel=configured)
    assert client.settings.max_parallel == expected
    assert (client.server_kind == "llama.cpp") is (owned_by in ("me", "llamacpp"))


def test_a_schema_compiled_into_a_grammar_carries_no_length_bounds_yet_lengths_are_still_checked():
    """llama-cpp-python's server process died compiling the redlining schema's maxLength 6000 into a grammar."""
    from agents.redlining import RedlineAnswer
    from model_backends.prompt_templates import load_prompt

    values = {name: "x" for name in load_prompt("redlining").placeholders()}
    answer = {"revised_clause": "Customer shall pay within thirty (30) days.", "position": "preferred",
              "rationale": "Net 30.", "escalate": False}
    with ScriptedOpenAI(lambda request: {"json": answer}, json_schema=False) as server:
        client = _client(server)
        assert client.structured("redlining", load_prompt("redlining"), values, RedlineAnswer).position == "preferred"
        sent = server.requests[-1]["response_format"]
    assert sent["type"] == "json_object" and "maxLength" not in json.dumps(sent["schema"])
    assert "maxLength" in json.dumps(RedlineAnswer.model_json_schema())  # the bound is real, and checked on our side
    with ScriptedOpenAI(lambda request: {"json": {**answer, "rationale": "y" * 700}}, json_schema=False) as server:
        with pytest.raises(LLMError):
            _client(server, max_attempts=1).structured("redlining", load_prompt("redlining"), values, RedlineAnswer)
