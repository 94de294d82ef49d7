"""The reviewer's page and the record (issue #28): one visibility rule on every route, no message a link can plant,
refusals that say so, a busy database that answers 503, a lockout that does not grow, no wording box on a flag that
cites more than one clause, and no comment cut short. Each test fails on the main before this change."""

from __future__ import annotations

import re
import sqlite3
from contextlib import contextmanager
from urllib.parse import quote

import httpx
import pytest

from conftest import SAMPLES, serving
from test_review_cli import _thread, cli

PASSWORDS = {"fin": "finance first 123", "lee": "legal eagle 1234", "sec": "security first 1", "pro": "procure it 12345",
             "all": "all contracts 123"}
READERS = {"fin": (["finance"], []), "lee": (["legal"], ["sign-off"]), "sec": (["security"], []),
           "pro": (["procurement"], []), "all": (["security"], ["all-contracts"])}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("route-walk")
    threads = {name: _thread(cli("review", str(SAMPLES / f"{name}.docx"), "--out", str(data / "out"), data_dir=data).stdout)
               for name in ("nda_bluepeak", "msa_orion")}
    for name, (functions, roles) in READERS.items():
        cli("user", "add", name, "--functions", *functions, *(["--roles", *roles] if roles else []), "--password-stdin",
            data_dir=data, stdin=PASSWORDS[name] + "\n")
    with serving(data) as base:
        yield {"base": base, "data": data, "threads": threads}


@contextmanager
def logged_in(base: str, name: str):
    with httpx.Client(base_url=base, follow_redirects=True, timeout=60) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        answer = client.post("/login", data={"csrf": token, "username": name, "password": PASSWORDS[name]})
        assert answer.status_code == 200 and name in answer.text
        yield client


def _nda_routed_to_legal_only(site) -> None:
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    status = ReviewService(ReviewConfig.from_env(site["data"], "local")).status(site["threads"]["nda_bluepeak"])
    assert "finance" not in status.profile.review_functions


def test_every_repository_route_shows_a_reader_only_the_contracts_their_functions_may_see(site):
    _nda_routed_to_legal_only(site)
    nda = site["threads"]["nda_bluepeak"]
    routes = ["/", "/portfolio", "/contracts?q=confidential+information", "/contracts?q=nda",
              "/contracts?q=confidential&meaning=1", "/counterparties/" + quote("BluePeak Analytics Ltd", safe=""),
              "/obligations?status=all", "/calendar.ics", "/renewals?within=3650", "/search?q=confidential",
              f"/reviews/{nda}", f"/reviews/{nda}/finalise", f"/reviews/{nda}/preview"]
    with logged_in(site["base"], "fin") as fin:
        for route in routes:
            answer = fin.get(route)
            body = answer.text.lower().replace(nda, "")  # a 404 may repeat the address the reader typed
            assert "bluepeak" not in body, route
            if route.startswith("/reviews/"):
                assert answer.status_code == 404, route
    with logged_in(site["base"], "lee") as lee:  # the rule hides, it does not break: legal finds it
        assert "bluepeak" in lee.get("/contracts?q=confidential+information").text.lower()
        assert lee.get(f"/reviews/{nda}").status_code == 200


def test_every_function_sees_on_every_route_exactly_what_the_rule_allows(site):
    """The walk for every reader: a contract shows on a route only when the reader may see its review (routed to, or
    owned by, one of their functions, or the all-contracts role); the repository answers 403 to a reader outside
    legal, procurement and finance; a review outside the rule is a 404 on every review route."""
    from web_app.accounts import Reviewer

    nda = site["threads"]["nda_bluepeak"]
    routed = ["legal"]  # _nda_routed_to_legal_only
    _nda_routed_to_legal_only(site)
    repository = ["/portfolio", "/contracts?q=confidential+information", "/obligations?status=all", "/calendar.ics"]
    reviews = [f"/reviews/{nda}", f"/reviews/{nda}/finalise", f"/reviews/{nda}/preview"]
    for name, (functions, roles) in READERS.items():
        rule = Reviewer(username=name, functions=functions, roles=roles)
        may_see = rule.sees(routed, ["legal"])
        with logged_in(site["base"], name) as reader:
            for route in reviews:
                assert reader.get(route).status_code == (200 if may_see else 404), (name, route)
            for route in repository:
                answer = reader.get(route)
                if not rule.sees_portfolio:
                    assert answer.status_code == 403, (name, route)
                assert "bluepeak" not in answer.text.lower().replace(nda, "") or may_see, (name, route)
            found = reader.get("/contracts?q=confidential+information")
            if rule.sees_portfolio:
                assert ("bluepeak" in found.text.lower()) == may_see, name
            assert ("nda_bluepeak" in reader.get("/?status=all").text) == may_see, name


def test_a_message_in_a_link_is_shown_only_when_the_server_wrote_it_for_this_reader(site):
    msa = site["threads"]["msa_orion"]
    planted = "Your session expired. Call +1 555 0100 to restore access."
    with logged_in(site["base"], "lee") as lee:
        page = lee.get(f"/reviews/{msa}?error={quote(planted)}").text
        assert "555 0100" not in page
        refused = lee.post(f"/reviews/{msa}/our-party", data={"csrf": _csrf(lee, msa), "party": "Nobody Ltd"})
        assert "Nobody Ltd" in refused.text and "Not saved" in refused.text  # the server's own refusal is shown
        signed_for_lee = str(refused.url)
    with logged_in(site["base"], "fin") as fin:  # the same signed link shows nothing to someone else
        assert "Nobody Ltd" not in fin.get(signed_for_lee.replace(site["base"], "")).text


def _csrf(client: httpx.Client, thread: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(f"/reviews/{thread}").text).group(1)


def test_a_busy_database_answers_a_503_page_on_login(site):
    from graphs.configuration import ReviewConfig

    store = ReviewConfig.from_env(site["data"], "local").audit_store
    client = httpx.Client(base_url=site["base"], timeout=60)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    holder = sqlite3.connect(store, timeout=1)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the server's bounded wait
    try:
        answer = client.post("/login", data={"csrf": token, "username": "lee", "password": PASSWORDS["lee"]})
    finally:
        holder.rollback()
        holder.close()
    assert answer.status_code == 503 and "busy" in answer.text and "Traceback" not in answer.text
    assert "<html" in answer.text.lower()


def test_a_lockout_does_not_grow_with_further_tries_and_an_admin_can_end_it(tmp_path):
    from web_app.accounts import FAILURES_PER_USER, Accounts

    accounts = Accounts(tmp_path / "reviews.sqlite")
    accounts.add_user("kim", "kim's long password", ["legal"])
    for _ in range(FAILURES_PER_USER):
        assert accounts.log_in("kim", "wrong password", client="a").token is None
    for _ in range(20):
        assert accounts.log_in("kim", "kim's long password", client="b").locked
    with accounts.read() as db:
        counted = db.execute("SELECT COUNT(*) FROM login_failures WHERE username='kim'").fetchone()[0]
    assert counted == FAILURES_PER_USER  # tries during the lockout are logged as events, not counted again
    assert accounts.unlock("kim", by="cli:admin") == FAILURES_PER_USER
    assert accounts.log_in("kim", "kim's long password", client="b").token


COOPERATION = ("COOPERATION AGREEMENT\n\nThis Cooperation Agreement is made on 1 March 2025 between Alpha Widgets Ltd and "
               "Beta Gadgets Ltd.\n\n1. Purpose. The parties will cooperate on the joint marketing of their products in "
               "Europe.\n\n2. Term. This Agreement runs for two (2) years from the date above.\n")


def test_modify_on_a_question_flag_is_refused_and_a_long_comment_is_not_cut(tmp_path):
    """'Which party are we?' cites the title: on main, a note typed into its wording box and saved as Modify became a
    tracked change deleting the title (or, in the issue, 2,370 characters of preamble)."""
    contract = tmp_path / "cooperation.txt"
    contract.write_text(COOPERATION, encoding="utf-8")
    data = tmp_path / "data"
    thread = _thread(cli("review", str(contract), "--out", str(tmp_path / "out"), data_dir=data).stdout)
    from graphs.configuration import ReviewConfig
    from graphs.review_service import MAX_COMMENT, ReviewService

    service = ReviewService(ReviewConfig.from_env(data, "local"))
    question = next(s for s in service.status(thread).redlines.suggestions if s.category == "our_side")
    assert not question.rewordable
    refused = cli("decide", thread, "--modify", question.id, "Checked with the business.", "--no-finalize", data_dir=data,
                  check=False)
    assert refused.returncode != 0 and "a wording would replace what it cites" in refused.stderr
    assert "Traceback" not in refused.stderr and question.id not in service.status(thread).decisions
    with pytest.raises(ValueError, match="at most 4,000"):
        service.comment(thread, question.id, "Ann", "x" * (MAX_COMMENT + 1))
    assert not service.audit.comments(thread).get(question.id)  # refused whole, not cut and saved


def test_a_forwarded_address_from_an_untrusted_caller_does_not_pick_the_address_the_throttle_counts(tmp_path):
    """On main, uvicorn believed X-Forwarded-For from 127.0.0.1, so a local caller could spread failed logins over
    made-up addresses and never reach the per-address limit."""
    from web_app.accounts import FAILURES_PER_CLIENT

    data = tmp_path / "data"
    cli("user", "add", "lee", "--functions", "legal", "--password-stdin", data_dir=data, stdin=PASSWORDS["lee"] + "\n")
    with serving(data) as base, httpx.Client(base_url=base, timeout=60) as client:
        for attempt in range(FAILURES_PER_CLIENT):
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
            client.post("/login", data={"csrf": token, "username": f"guess{attempt}", "password": "wrong guess 12345"},
                        headers={"X-Forwarded-For": f"203.0.113.{attempt}"})
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        answer = client.post("/login", data={"csrf": token, "username": "lee", "password": PASSWORDS["lee"]},
                             headers={"X-Forwarded-For": "198.51.100.7"})
    assert answer.status_code == 429  # every try counted against the address that connected


def test_inserted_clauses_are_numbered_from_the_approved_set(engine):
    """Rejecting the first of two inserted clauses must not leave the other side a document that reads 7 -> 9."""
    from datetime import datetime, timezone

    from agents.classifier import ClassifierInput, classify
    from agents.clause_extraction import ExtractionInput, extract_clauses
    from agents.compliance import ComplianceInput, check_compliance
    from agents.redlining import RedliningInput, propose_redlines
    from agents.schema import Decision
    from document_io.models import document_from_text
    from graphs.finalization import changes_for

    text = ("SERVICES AGREEMENT\nThis Services Agreement is made between Acme Works Ltd (\"Supplier\") and Northwind "
            "Systems, Inc. (\"Customer\").\n" + "".join(
                f"{n}. {h}. {b}\n" for n, (h, b) in enumerate([
                    ("Services", "Supplier shall provide the services in Schedule A."),
                    ("Fees", "Customer shall pay each invoice within forty-five (45) days of receipt."),
                    ("Term", "This Agreement runs for one (1) year from signature."),
                    ("Governing Law", "This Agreement is governed by the laws of the State of Delaware."),
                    ("Notices", "Notices are given in writing to the addresses above."),
                    ("Liability", "Supplier's aggregate liability is limited to the fees paid in the prior twelve (12) months."),
                    ("Entire Agreement", "This Agreement is the whole agreement of the parties.")], start=1)))
    document = document_from_text(name="t", text=text)
    profile = classify(ClassifierInput(document=document, our_names=["Northwind Systems, Inc."]))
    extraction = extract_clauses(ExtractionInput(document=document), engine)
    compliance = check_compliance(ComplianceInput(document=document, profile=profile, extraction=extraction), engine.library)
    suggestions = propose_redlines(RedliningInput(document=document, compliance=compliance, profile=profile), engine).suggestions
    inserts = [s for s in suggestions if s.kind == "insert" and s.insertion.text[:2] in ("8.", "9.")]
    assert [s.insertion.text[:2] for s in inserts[:2]] == ["8.", "9."], [s.insertion.text[:30] for s in inserts]
    now = datetime.now(timezone.utc)
    decisions = {s.id: Decision(suggestion_id=s.id, action="reject", reviewer="Ann", decided_at=now) for s in suggestions}
    decisions[inserts[1].id] = Decision(suggestion_id=inserts[1].id, action="approve", reviewer="Ann", decided_at=now)
    _, insertions = changes_for(suggestions, decisions)
    assert [i.text[:2] for i in insertions] == ["8."]
    assert insertions[0].text[3:] == inserts[1].insertion.text[3:]
