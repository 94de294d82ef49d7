"""The REST API (/api/v1): a personal API token carries exactly its reviewer's rights, a review routed elsewhere is
404 as on the pages, a decision on a review that moved since is 409 and nothing is saved, errors are JSON with stable
codes, lists are paginated, and the OpenAPI document describes it."""

from __future__ import annotations

import pytest
from conftest import SAMPLES
from test_review_cli import cli

RENEWING = ("SERVICES AGREEMENT\n\nThis Services Agreement is made as of January 1, 2026 between Orion Consulting Group LLC "
            "(\"Supplier\") and Northwind Systems, Inc. (\"Customer\").\n\n1. Term. This Agreement has an initial term of "
            "one (1) year and renews automatically for successive one (1) year terms unless either party gives written "
            "notice of non-renewal at least sixty (60) days before the end of the then-current term.\n")


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from fastapi.testclient import TestClient

    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService
    from web_app.accounts import Accounts
    from web_app.server import create_app

    data = tmp_path_factory.mktemp("api")
    config = ReviewConfig.from_env(data, "local")
    config.our_names = ["Northwind Systems, Inc."]
    service = ReviewService(config)
    status = service.start(SAMPLES / "supply_ferrotech.docx", data / "out")
    for n in (1, 2):  # two executed contracts with a renewal notice in the repository
        folder = data / f"executed{n}"
        folder.mkdir()
        (folder / f"orion_{n}.txt").write_text(RENEWING.replace("January 1", f"January {n}"), encoding="utf-8")
        cli("import", str(folder), data_dir=data)
    accounts = Accounts(config.audit_store)
    tokens = {}
    for name, functions in {"lee": ["legal"], "pat": ["procurement"], "sec": ["security"]}.items():
        accounts.add_user(name, "a long enough password 1", functions)
        tokens[name] = accounts.issue_api_token(name, by="test")
    accounts.add_user("sam", "a long enough password 1", ["legal", "procurement", "finance", "security"], ["sign-off"])
    tokens["sam"] = accounts.issue_api_token("sam", by="test")
    client = TestClient(create_app(config, service))
    return {"client": client, "tokens": tokens, "thread": status.thread_id, "status": status}


def _get(api, path: str, who: str | None = None):
    headers = {"Authorization": f"Bearer {api['tokens'][who]}"} if who else {}
    return api["client"].get("/api/v1" + path, headers=headers)


def _post(api, path: str, body: dict, who: str):
    return api["client"].post("/api/v1" + path, json=body, headers={"Authorization": f"Bearer {api['tokens'][who]}"})


def test_no_token_or_a_wrong_one_is_401_json(api):
    for headers in ({}, {"Authorization": "Bearer cf_not-a-real-token"}, {"Authorization": "Basic bGVlOng="}):
        answer = api["client"].get(f"/api/v1/reviews/{api['thread']}", headers=headers)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthenticated"


def test_a_review_reads_with_its_cited_suggestions_and_one_routed_elsewhere_does_not_exist(api):
    answer = _get(api, f"/reviews/{api['thread']}", "lee")
    assert answer.status_code == 200
    review = answer.json()
    assert review["contract_type"] == "supply" and review["our_side"] == "customer" and review["version"] >= 0
    text = api["status"].document.text
    assert review["suggestions"] and all(text[s["citation"]["start"]:s["citation"]["end"]] == s["citation"]["quote"]
                                         for s in review["suggestions"])
    hidden = _get(api, f"/reviews/{api['thread']}", "sec")  # security is not routed this supply contract
    missing = _get(api, "/reviews/no-such-thread", "sec")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"


def test_decisions_need_the_version_read_and_the_owning_function(api):
    review = _get(api, f"/reviews/{api['thread']}", "lee").json()
    legal = next(s for s in review["suggestions"] if s["owner_function"] == "legal" and s["decision"] is None)
    other = next(s for s in review["suggestions"] if s["owner_function"] != "legal" and s["decision"] is None)
    refused = _post(api, f"/reviews/{api['thread']}/decisions", {
        "expected_version": review["version"], "decisions": [{"suggestion_id": other["id"], "action": "approve"}]}, "lee")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_your_function"
    saved = _post(api, f"/reviews/{api['thread']}/decisions", {
        "expected_version": review["version"], "decisions": [{"suggestion_id": legal["id"], "action": "reject",
                                                              "comment": "acceptable for this deal"}]}, "lee")
    assert saved.status_code == 200
    after = saved.json()
    assert after["version"] > review["version"]
    assert next(s for s in after["suggestions"] if s["id"] == legal["id"])["decided_by"] == "lee"
    # a second caller still holding the old version: refused, nothing saved
    stale = _post(api, f"/reviews/{api['thread']}/decisions", {
        "expected_version": review["version"], "decisions": [{"suggestion_id": legal["id"], "action": "approve"}]}, "lee")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    now = _get(api, f"/reviews/{api['thread']}", "lee").json()
    assert next(s for s in now["suggestions"] if s["id"] == legal["id"])["decision"] == "reject"
    bad = _post(api, f"/reviews/{api['thread']}/decisions", {"expected_version": now["version"],
                                                             "decisions": [{"suggestion_id": legal["id"], "action": "maybe"}]}, "lee")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_renewals_are_paginated_and_only_for_a_portfolio_function(api):
    answer = _get(api, "/renewals?within_days=3650&per_page=1", "pat")
    assert answer.status_code == 200
    page = answer.json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["items"][0]["auto_renews"]
    second = _get(api, "/renewals?within_days=3650&per_page=1&page=2", "pat").json()["items"]
    assert len(second) == 1 and second[0]["contract_id"] != page["items"][0]["contract_id"]
    assert page["items"][0]["notice_deadline"] <= second[0]["notice_deadline"]  # soonest first
    assert _get(api, "/renewals?per_page=1000", "pat").status_code == 422  # at most 100 a page
    assert _get(api, "/renewals", "sec").json()["error"]["code"] == "no_portfolio_access"


def test_the_openapi_document_describes_the_api(api):
    document = api["client"].get("/api/v1/openapi.json").json()
    assert {"/reviews/{thread_id}", "/reviews/{thread_id}/decisions", "/renewals"} <= set(document["paths"])


def test_intake_starts_a_routed_review_and_unreadable_paper_is_a_json_422(api):
    headers = {"Authorization": f"Bearer {api['tokens']['pat']}"}
    paper = (SAMPLES / "saas_cloudnimbus.docx").read_bytes()
    started = api["client"].post("/api/v1/intake", headers=headers, data={"amount": "90000", "currency": "USD",
                                 "personal_data": "true"}, files={"paper": ("cloud.docx", paper)})
    assert started.status_code == 201, started.text
    body = started.json()
    assert {"legal", "security", "finance", "procurement"} <= set(body["routed_to"])
    assert _get(api, body["review"].removeprefix("/api/v1"), "pat").status_code == 200
    junk = api["client"].post("/api/v1/intake", headers=headers, files={"paper": ("x.docx", b"PK not a zip")})
    assert junk.status_code == 422 and junk.json()["error"]["code"] == "unreadable_paper"
    unknown = api["client"].post("/api/v1/intake", headers=headers, data={"amount": "5", "currency": "XYZ"},
                                 files={"paper": ("cloud.docx", paper)})
    assert unknown.status_code == 422 and "no exchange rate for XYZ" in unknown.json()["error"]["message"]


def test_sign_off_needs_the_role_and_every_decision_then_the_outputs_download(api):
    thread = api["thread"]
    review = _get(api, f"/reviews/{thread}", "sam").json()
    early = _post(api, f"/reviews/{thread}/sign-off", {"expected_version": review["version"]}, "sam")
    assert early.status_code == 409 and early.json()["error"]["code"] == "refused"  # suggestions still open
    assert _post(api, f"/reviews/{thread}/sign-off", {"expected_version": review["version"]}, "lee").json()["error"][
        "code"] == "no_sign_off_role"
    open_ = [{"suggestion_id": s["id"], "action": "reject"} for s in review["suggestions"] if s["decision"] is None]
    decided = _post(api, f"/reviews/{thread}/decisions", {"expected_version": review["version"], "decisions": open_}, "sam")
    assert decided.status_code == 200, decided.text
    assert _get(api, f"/reviews/{thread}/outputs/redlined_docx", "sam").json()["error"]["code"] == "not_finalised"
    signed = _post(api, f"/reviews/{thread}/sign-off", {"expected_version": decided.json()["version"]}, "sam")
    assert signed.status_code == 200 and signed.json()["finalised"]
    assert set(signed.json()["outputs"]) >= {"redlined_docx", "report_md", "report_json"}
    docx = api["client"].get(f"/api/v1/reviews/{thread}/outputs/redlined_docx",
                             headers={"Authorization": f"Bearer {api['tokens']['sam']}"})
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert _get(api, f"/reviews/{thread}/outputs/report_md", "sec").status_code == 404  # not routed to security


def test_obligations_list_and_mark_and_search_find_the_executed_contracts(api):
    listed = _get(api, "/obligations?status=all&per_page=100", "pat").json()
    assert listed["total"] >= 1
    duty = listed["items"][0]
    marked = _post(api, f"/obligations/{duty['obligation_id']}/mark", {"status": "done", "note": "sent"}, "pat")
    assert marked.status_code == 200 and marked.json()["obligation_id"] == duty["obligation_id"]
    assert _post(api, "/obligations/nope/mark", {"status": "done"}, "pat").json()["error"]["code"] == "not_found"
    assert _post(api, f"/obligations/{duty['obligation_id']}/mark", {"status": "done"}, "sec").status_code == 403
    found = _get(api, "/search?q=renews%20automatically", "pat").json()
    assert {"orion_1", "orion_2"} <= {h["name"] for h in found["items"]}
