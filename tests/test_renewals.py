"""Across the portfolio: renewal notice deadlines and clause search over reviews, on the CLI (the repository, which
files every review) and the web page (the review index, filtered by what the reader may see)."""

from __future__ import annotations

import json
import re

import pytest
from conftest import SAMPLES
from test_review_cli import cli


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory):
    data = tmp_path_factory.mktemp("portfolio")
    cli("review", *(str(SAMPLES / f) for f in ("saas_cloudnimbus.docx", "msa_orion.docx", "licence_quanta.docx")),
        "--out", str(data / "out"), data_dir=data)  # CLAUSEFLOW_TODAY is 2026-11-23 in cli()
    return data


def test_renewals_lists_notice_deadlines_soonest_first_within_the_window(portfolio):
    rows = json.loads(cli("renewals", "--within", "6m", "--json", data_dir=portfolio).stdout)
    assert [(r["name"], r["notice_deadline"], r["days_left"]) for r in rows] == [
        ("licence_quanta", "2026-12-02", 9), ("saas_cloudnimbus", "2027-03-04", 101)]
    assert rows[0]["auto_renews"] and rows[0]["notice_days"] == 60 and "notice of non-renewal" in rows[0]["recommended_action"]
    assert [r["name"] for r in json.loads(cli("renewals", "--within", "30d", "--json", data_dir=portfolio).stdout)] == [
        "licence_quanta"]
    table = cli("renewals", data_dir=portfolio).stdout  # 90 days by default
    assert "licence_quanta" in table and "saas_cloudnimbus" not in table and "Renewal notice deadlines" in table
    wrong = cli("renewals", "--within", "soon", data_dir=portfolio, check=False)
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "Traceback" not in wrong.stderr


def test_the_renewals_page_shows_what_the_reader_may_see(portfolio, monkeypatch):
    from fastapi.testclient import TestClient

    from graphs.configuration import ReviewConfig
    from web_app.server import create_app

    for name, functions in (("lee", ["legal"]), ("sam", ["security"])):
        cli("user", "add", name, "--functions", *functions, "--password-stdin", data_dir=portfolio,
            stdin="a long enough password\n")
    monkeypatch.setenv("CLAUSEFLOW_TODAY", "2026-11-23")
    app = create_app(ReviewConfig.from_env(portfolio, "local"))

    def page_for(user: str) -> str:
        client = TestClient(app)
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"username": user, "password": "a long enough password", "csrf": token})
        return client.get("/renewals?within=180").text

    legal = page_for("lee")
    assert legal.index("licence_quanta") < legal.index("saas_cloudnimbus") and "2026-12-02" in legal
    assert "saas_cloudnimbus" in legal and "(missed)" not in legal
    security = page_for("sam")  # only the SaaS contract is routed to security
    assert "saas_cloudnimbus" in security and "licence_quanta" not in security
    client = TestClient(app)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": "sam", "password": "a long enough password", "csrf": token})
    found = client.get("/search", params={"q": "aggregate liability"}).text
    assert "saas_cloudnimbus" in found and "msa_orion" not in found and "[liability]" in found


def test_search_finds_contracts_by_their_clauses_words_with_spans_that_are_in_the_contract(portfolio):
    hits = json.loads(cli("search", "liabilities aggregate", "--json", data_dir=portfolio).stdout)
    assert {h["contract"]["name"] for h in hits} == {"saas_cloudnimbus", "msa_orion", "licence_quanta"}  # one hit each
    assert all(h["contract"]["status"] == "in review" and h["contract"]["origin"] == "review" for h in hits)
    assert all("[liability]" in h["snippet"].lower() for h in hits)  # stemmed: "liabilities" found "liability"
    # every hit cites characters that are the clause in the reviewed text
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    service = ReviewService(ReviewConfig.from_env(portfolio, "local"))
    for hit in hits:
        text = service.status(hit["contract"]["thread_id"]).document.text[hit["start"] : hit["end"]]
        assert "aggregate liability" in text.lower()
    saas = json.loads(cli("search", "liability in SaaS contracts", "--json", data_dir=portfolio).stdout)
    assert {h["contract"]["name"] for h in saas} == {"saas_cloudnimbus"}
    assert {h["contract"]["name"] for h in json.loads(cli("search", "liability", "--type", "msa", "--json",
                                                          data_dir=portfolio).stdout)} == {"msa_orion"}
    # search syntax from the user is words, never FTS operators: no error; no clause has every word ("or", "near"),
    # so the answer is the clauses closest in meaning, each with its similarity
    odd = cli("search", 'liability" OR NEAR(', "--json", data_dir=portfolio)
    assert odd.returncode == 0 and all(h["similarity"] is not None for h in json.loads(odd.stdout))
    assert "No contract matches" in cli("search", "teleportation wormhole", data_dir=portfolio).stdout
