"""Negotiation rounds end to end: review, decide and finalise our redline; the other side replies with a DOCX that
accepts one change, refuses one, rewrites one and adds a clause of its own; the second round shows exactly that and
keeps the decisions that still apply."""

from __future__ import annotations

import copy

import pytest
from conftest import SAMPLES
from test_review_cli import cli


def _reply(original, path, replacements: dict[str, str], added_after: str, added: str) -> None:
    """The counterparty's next version: their own edit of the contract they sent, as a DOCX (python-docx)."""
    import docx

    document = docx.Document(str(original))
    for paragraph in document.paragraphs:
        text = original_text = paragraph.text
        for old, new in replacements.items():
            text = text.replace(old, new)
        if text != paragraph.text:
            runs = paragraph.runs
            runs[0].text = text
            for run in runs[1:]:
                run.text = ""
        if added_after in original_text:
            new_paragraph = copy.deepcopy(paragraph._p)
            paragraph._p.addnext(new_paragraph)
            inserted = docx.text.paragraph.Paragraph(new_paragraph, paragraph._parent)
            inserted.runs[0].text = added
            for run in inserted.runs[1:]:
                run.text = ""
    document.save(str(path))


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    data = tmp_path_factory.mktemp("rounds")
    first = cli("review", str(SAMPLES / "msa_orion.docx"), "--out", str(data / "out"), data_dir=data)
    thread = first.stdout.split("thread ")[1].split(" ")[0]
    cli("decide", thread, "--reviewer", "A. Lee", "--approve", "S01", "S03", "S04", "--reject", "S02", "S05",
        "--comment", "term and law are acceptable", data_dir=data)
    service = ReviewService(ReviewConfig.from_env(data, "local"))
    sent = service.status(thread)
    assert sent.finalised
    by_id = {s.id: s for s in sent.redlines.suggestions}
    reply = data / "msa_orion_v2.docx"
    _reply(SAMPLES / "msa_orion.docx", reply, {
        by_id["S01"].citation.quote: by_id["S01"].proposed_text,  # they accept our payment terms
        by_id["S04"].citation.quote: "Supplier may assign this Agreement to an affiliate on written notice to Customer.",
    }, added_after=by_id["S04"].citation.quote[:40],
        added="Supplier may subcontract any of its obligations under this Agreement without the consent of Customer.")
    second = cli("review", str(reply), "--round-of", thread, "--out", str(data / "out"), data_dir=data)
    new_thread = second.stdout.split("thread ")[1].split(" ")[0]
    return {"data": data, "service": service, "first": thread, "second": new_thread, "stdout": second.stdout, "sent": sent}


def test_the_second_round_shows_what_they_accepted_refused_rewrote_and_added(rounds):
    comparison = rounds["service"].rounds(rounds["second"])
    assert comparison.previous_thread == rounds["first"] and comparison.round_number == 2
    assert {a.suggestion_id: a.outcome for a in comparison.asked} == {"S01": "accepted", "S03": "rejected", "S04": "changed"}
    changed = next(a for a in comparison.asked if a.suggestion_id == "S04")
    assert changed.now_reads.startswith("Supplier may assign this Agreement to an affiliate")
    assert [(c.kind, c.after) for c in comparison.other_changes] == [
        ("added", "Supplier may subcontract any of its obligations under this Agreement without the consent of Customer.")]
    out = rounds["stdout"]
    assert "Round 2: their reply to" in out and "1 accepted, 1 rejected, 1 changed" in out and "+ added: Supplier may subcontract" in out


def test_decisions_that_still_apply_carry_over_and_refused_changes_wait_for_a_person(rounds):
    status = rounds["service"].status(rounds["second"])
    carried = {sid: d for sid, d in status.decisions.items() if (d.comment or "").startswith("carried over")}
    categories = {s.id: s.category for s in status.redlines.suggestions}
    assert sorted(categories[sid] for sid in carried) == ["governing_law", "term"]  # we rejected these; words unchanged
    assert all(d.action == "reject" and d.reviewer == "A. Lee" and rounds["first"] in d.comment for d in carried.values())
    pending = {categories[sid] for sid in status.pending}
    assert "limitation_of_liability" in pending  # they refused our change: a person decides again
    assert "payment_terms" not in categories.values()  # accepted: nothing left to ask for
    history = cli("history", rounds["second"], data_dir=rounds["data"]).stdout
    assert "carried over from the earlier round" in history
    assert "Round 2" in cli("show", rounds["second"], data_dir=rounds["data"]).stdout


def test_a_round_needs_a_finalised_earlier_round_and_a_different_file(rounds, tmp_path):
    data = rounds["data"]
    same = cli("review", str(SAMPLES / "msa_orion.docx"), "--round-of", rounds["first"], data_dir=data, check=False)
    assert same.returncode == 1 and "the very version we sent" in same.stderr and "Traceback" not in same.stderr
    unknown = cli("review", str(SAMPLES / "nda_bluepeak.docx"), "--round-of", "no-such-thread", data_dir=data, check=False)
    assert unknown.returncode == 1 and "no review with thread id" in unknown.stderr
    open_review = cli("review", str(SAMPLES / "nda_bluepeak.docx"), data_dir=data).stdout.split("thread ")[1].split(" ")[0]
    early = cli("review", str(SAMPLES / "licence_quanta.docx"), "--round-of", open_review, data_dir=data, check=False)
    assert early.returncode == 1 and "not finalised" in early.stderr
    two = cli("review", str(SAMPLES / "nda_bluepeak.docx"), str(SAMPLES / "dpa_medisafe.docx"), "--round-of", rounds["first"],
              data_dir=data, check=False)
    assert two.returncode == 2 and "takes one file" in two.stderr


def test_the_repository_keeps_every_round_linked_to_the_version_it_answers(rounds):
    from portfolio.repository import Repository

    cli("renewals", "--json", data_dir=rounds["data"])  # any repository command files the reviews
    repository = Repository(rounds["data"] / "portfolio.sqlite")
    first = repository.contract(rounds["sent"].document.sha256)
    second = repository.contract(rounds["service"].status(rounds["second"]).document.sha256)
    assert first.status == "finalised" and first.previous_version is None
    assert second.status == "in review" and second.previous_version == first.contract_id


def test_the_review_report_of_a_reply_tells_the_negotiation_history(rounds):
    data = rounds["data"]
    thread = rounds["second"]
    status = rounds["service"].status(thread)
    cli("decide", thread, "--reviewer", "A. Lee", "--approve-all", data_dir=data)
    report = (rounds["service"].status(thread).outputs or {}).get("report_md")
    text = open(report, encoding="utf-8").read()
    assert "## Negotiation rounds" in text and f"Round 2, the other side's reply to {rounds['first']}" in text
    assert "round 1 S01 (payment_terms) accepted" in text and "they added: “Supplier may subcontract" in text
    assert status.round_of == rounds["first"]
