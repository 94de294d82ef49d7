"""Negotiation rounds judged by meaning: the other side's reply to our supply redline renumbers a clause we asked for,
keeps out a paragraph we asked them to delete, reverts one change, deletes the indemnity we asked for and adds one by
us instead. Round 2 must read each status right, raise the new indemnity against us, propose our deleted protection
again, and keep a decision we made on an insertion even though the paragraph it followed moved."""

from __future__ import annotations

import docx
import pytest
from conftest import SAMPLES
from test_review_cli import _thread, cli

OURS = {"CLAUSEFLOW_OUR_NAMES": "Northwind Systems, Inc."}
BUYER_INDEMNITY = ("10. Indemnification by Buyer. Buyer shall defend, indemnify and hold harmless Supplier and its affiliates "
                   "from and against all claims, losses and expenses arising out of Buyer's use of the products.")


def _write(paragraphs: list[str], path) -> None:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))


@pytest.fixture(scope="module")
def reply(tmp_path_factory):
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService
    from graphs.rounds import _sent_paragraphs

    data = tmp_path_factory.mktemp("round_scenarios")
    first = cli("review", str(SAMPLES / "supply_ferrotech.docx"), "--out", str(data / "out"), data_dir=data, env=OURS)
    thread = _thread(first.stdout)
    service = ReviewService(ReviewConfig.from_env(data, "local"))
    by_category = {s.category: s.id for s in service.status(thread).redlines.suggestions}
    rejected = by_category["insurance"]  # we decide not to ask for insurance this time
    approved = [sid for sid in by_category.values() if sid != rejected]
    cli("decide", thread, "--reviewer", "A. Lee", "--approve", *approved, "--reject", rejected, data_dir=data, env=OURS)
    sent, _ = _sent_paragraphs(service.status(thread))
    theirs = []
    for paragraph in sent:
        if paragraph.startswith("10. Indemnification"):
            theirs.append(BUYER_INDEMNITY)  # our supplier indemnity deleted, one by us in its place
            continue
        paragraph = paragraph.replace("9. Assignment", "8A. Assignment")  # renumbered, same words
        paragraph = paragraph.replace("Either party may terminate this Agreement for convenience",
                                      "Supplier may terminate this Agreement for convenience")  # our change reverted
        theirs.append(paragraph)
    path = data / "supply_reply.docx"
    _write(theirs, path)
    second = cli("review", str(path), "--round-of", thread, "--out", str(data / "out"), data_dir=data, env=OURS)
    new_thread = _thread(second.stdout)
    return {"service": service, "first": thread, "second": new_thread, "ids": by_category, "stdout": second.stdout}


def test_statuses_follow_meaning_not_numbering_or_position(reply):
    outcomes = {a.category: a.outcome for a in reply["service"].rounds(reply["second"]).asked}
    assert outcomes["assignment"] == "accepted"  # "9." became "8A.", the words are ours
    assert outcomes["prompt_injection"] == "accepted"  # the paragraph we asked them to delete stayed deleted
    assert outcomes["payment_terms"] == "accepted" and outcomes["warranty"] == "accepted"
    assert outcomes["termination_for_convenience"] == "rejected"
    assert outcomes["indemnification"] == "rejected"
    other = reply["service"].rounds(reply["second"]).other_changes
    assert [(c.kind, c.after) for c in other] == [("added", BUYER_INDEMNITY)]  # nothing empty, nothing renumbered


def test_an_indemnity_added_against_us_is_a_finding_and_our_deleted_one_is_proposed_again(reply):
    status = reply["service"].status(reply["second"])
    indemnities = [s for s in status.redlines.suggestions if s.category == "indemnification"]
    against_us = [s for s in indemnities if s.kind != "insert" and "Buyer shall defend, indemnify" in s.citation.quote]
    assert against_us and all(s.severity in ("high", "critical") and s.kind == "flag" for s in against_us)
    again = [s for s in indemnities if s.kind == "insert"]
    assert len(again) == 1 and again[0].insertion.text.split(". ", 1)[1].startswith("Indemnification. Supplier shall defend")
    assert again[0].title == "No indemnification clause protecting us"
    (added,) = reply["service"].rounds(reply["second"]).other_changes  # their new paragraph, with what this round raised on it
    assert {r.suggestion_id for r in added.raised} == {s.id for s in against_us}
    assert "+ added: 10. Indemnification by Buyer" in reply["stdout"] and f"→ {against_us[0].id} " in reply["stdout"]


def test_a_decision_on_an_insertion_carries_over_though_the_paragraph_it_followed_moved(reply):
    status = reply["service"].status(reply["second"])
    insurance = next(s for s in status.redlines.suggestions if s.category == "insurance")
    decision = status.decisions.get(insurance.id)
    assert decision is not None and decision.action == "reject" and reply["first"] in decision.comment


def test_an_edit_never_gives_one_right_twice_on_different_terms(tmp_path):
    source = docx.Document(str(SAMPLES / "supply_ferrotech.docx"))
    paragraphs = [p.text for p in source.paragraphs]
    paragraphs = [p.replace("Supplier may terminate this Agreement for convenience on thirty (30) days' written notice.",
                            "Supplier may terminate this Agreement for convenience on thirty (30) days' written notice, and "
                            "Buyer may terminate it for convenience on one hundred and eighty (180) days' written notice.")
                  for p in paragraphs]
    path = tmp_path / "supply_both_may_leave.docx"
    _write(paragraphs, path)
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    thread = _thread(cli("review", str(path), "--out", str(tmp_path / "out"), data_dir=tmp_path, env=OURS).stdout)
    status = ReviewService(ReviewConfig.from_env(tmp_path, "local")).status(thread)
    convenience = [s for s in status.redlines.suggestions if s.category == "termination_for_convenience"]
    # Buyer has its own right: nothing says the right is the Supplier's alone, and no edit makes it "either party" too
    assert not any("alone" in s.title for s in convenience)
    assert not any("Either party may terminate" in (s.proposed_text or "") for s in convenience)
    (notice,) = convenience  # what is left: our 180 days' notice is longer than the playbook's 90
    assert notice.kind == "edit" and "Buyer may terminate it for convenience on thirty (30)" in notice.proposed_text


@pytest.mark.parametrize("name", [s.name for s in __import__("evals.round_scenarios", fromlist=["x"]).load_scenarios()])
def test_every_committed_reply_scenario_gets_the_round_report_a_reviewer_expects(name, tmp_path):
    """evals/judgments/round_scenarios.yaml: five replies to the samples and two to CUAD contracts (accept, refuse,
    rewrite, delete, add against us, renumber, move), each with its expected statuses, other changes, what is raised
    on their new words, what is proposed again and what carries over."""
    from evals.datasets import SHARED_CUAD
    from evals.round_scenarios import load_scenarios, run_scenario

    scenario = next(s for s in load_scenarios() if s.name == name)
    if scenario.contract.startswith("cuad:") and not (SHARED_CUAD / "full_contract_txt").is_dir():
        pytest.skip("CUAD is not beside the repository")
    result = run_scenario(scenario, tmp_path)
    assert result.problems == [], "\n".join(result.problems + result.report)
