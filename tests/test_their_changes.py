"""The other side's tracked changes and comments in an inbound DOCX: listed for the reviewer, the review run on the
text as they propose it, findings in text they changed marked, and their changes kept in the redlined output."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
from docx.oxml.ns import qn
from lxml import etree

from conftest import SAMPLES
from document_io.loader import load_document
from document_io.wordml import W_NS
from test_review_cli import cli


def _tracked(run, tag: str, author: str, date: str) -> None:
    """Wrap a python-docx run in w:ins or w:del, as Word does when the sender has Track Changes on."""
    element = run._r
    wrapper = etree.SubElement(element.getparent(), qn(f"w:{tag}"))
    wrapper.set(qn("w:id"), str(abs(hash((tag, run.text))) % 10000))
    wrapper.set(qn("w:author"), author)
    wrapper.set(qn("w:date"), date)
    element.addprevious(wrapper)
    wrapper.append(element)
    if tag == "del":
        for t in element.iter(qn("w:t")):
            t.tag = qn("w:delText")


def _inbound(tmp_path: Path) -> Path:
    word = docx.Document(SAMPLES / "saas_cloudnimbus.docx")
    target = next(p for p in word.paragraphs if "total aggregate liability" in p.text)
    for run in list(target.runs):
        run.text = ""
    target.runs[0].text = "5. Limitation of Liability. Provider's total aggregate liability shall not exceed "
    _tracked(target.add_run("the fees paid by Customer in the one (1) month preceding the claim."), "ins", "Acme Legal",
             "2024-05-02T10:00:00Z")
    _tracked(target.add_run(" and shall be unlimited for data breaches"), "del", "Acme Legal", "2024-05-02T10:01:00Z")
    law = next(p for p in word.paragraphs if "governed by" in p.text)
    word.add_comment(law.runs, text="We cannot accept Delaware.", author="Acme Legal")
    path = tmp_path / "saas_inbound.docx"
    word.save(path)
    return path


def test_their_insertions_deletions_and_comments_are_read_with_author_and_place(tmp_path):
    document = load_document(_inbound(tmp_path))
    inserted = [r for r in document.revisions if r.kind == "insertion"]
    deleted = [r for r in document.revisions if r.kind == "deletion"]
    assert [r.text for r in inserted] == ["the fees paid by Customer in the one (1) month preceding the claim."]
    assert document.text[inserted[0].start:inserted[0].end] == inserted[0].text  # read as they propose it
    assert deleted[0].text == " and shall be unlimited for data breaches" and deleted[0].text not in document.text
    assert deleted[0].start == inserted[0].end and inserted[0].author == "Acme Legal" and inserted[0].date.startswith("2024-05-02")
    changes = document.their_changes()
    assert any(line.startswith("inserted by Acme Legal on 2024-05-02") for line in changes)
    assert any("comment 0 by Acme Legal" in line and "cannot accept Delaware" in line for line in changes)


def test_the_review_marks_findings_in_their_text_and_keeps_their_changes_in_the_output(tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    reviewed = cli("review", str(_inbound(tmp_path)), "--out", str(out), data_dir=data)
    assert "the other side's tracked changes and comments (3)" in reviewed.stdout
    assert "in text the other side changed: inserted by Acme Legal on 2024-05-02" in reviewed.stdout  # the 1-month cap
    thread = __import__("re").search(r"thread (\S+) ·", reviewed.stdout).group(1)
    cli("decide", thread, "--approve-all", "--reviewer", "Ann", data_dir=data)
    with zipfile.ZipFile(out / "saas_inbound.redlined.docx") as package:
        root = etree.fromstring(package.read("word/document.xml"))
    authors = {e.get(f"{{{W_NS}}}author") for e in root.iter(f"{{{W_NS}}}ins", f"{{{W_NS}}}del")}
    assert {"Acme Legal", "Ann"} <= authors  # theirs kept, ours added
    report = (out / "saas_inbound.review.md").read_text()
    assert "## The other side's changes and comments" in report and "In text the other side changed" in report


def test_the_page_labels_a_comment_in_the_contract_text_so_it_is_not_read_as_a_clause(tmp_path):
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService
    from web_app.server import highlighted_text

    status = ReviewService(ReviewConfig.from_env(tmp_path / "data", "local")).start(_inbound(tmp_path), tmp_path / "out")
    html = highlighted_text(status)
    assert '<span class="part">[comment 0 by Acme Legal]</span> We cannot accept Delaware.' in html
    assert html.count('class="part"') == 1  # the body paragraphs carry no label


def _their_exclusion_and_deletion(tmp_path: Path) -> Path:
    """The SaaS sample as the other side sends it back: a new exclusion for data breaches inserted, and the security
    duty they owed us deleted, both as tracked changes."""
    word = docx.Document(SAMPLES / "saas_cloudnimbus.docx")
    target = next(p for p in word.paragraphs if "total aggregate liability" in p.text)
    _tracked(target.add_run(" Provider shall have no liability for data breaches."), "ins", "Acme Legal", "2024-05-02T10:00:00Z")
    duty = word.add_paragraph("12. Security. ")
    _tracked(duty.add_run("Provider shall maintain appropriate security measures to protect Customer Data."), "del",
             "Acme Legal", "2024-05-02T10:05:00Z")
    path = tmp_path / "their_reply.docx"
    word.save(path)
    return path


def test_their_new_exclusion_and_their_deleted_duty_are_findings_on_their_changes(tmp_path):
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    status = ReviewService(ReviewConfig.from_env(tmp_path / "data", "local")).start(_their_exclusion_and_deletion(tmp_path),
                                                                                  tmp_path / "out")
    exclusion = [f for f in status.compliance.findings if "data breaches" in f.citation.quote and f.rule_id
                 and f.rule_id.startswith("risk.")]
    assert exclusion and exclusion[0].severity == "high" and "inserted by Acme Legal" in exclusion[0].counterparty_change
    deleted = [f for f in status.compliance.findings if f.rule_id == "their_deletion"]
    assert len(deleted) == 1 and "appropriate security measures" in deleted[0].explanation
    assert deleted[0].severity == "high" and "deleted by Acme Legal" in deleted[0].counterparty_change
    flag = next(s for s in status.redlines.suggestions if s.finding_id == deleted[0].id)
    assert flag.kind == "flag" and "reject their deletion" in flag.playbook_position


def test_a_clause_they_inserted_pending_acceptance_does_not_make_it_present(tmp_path):
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    word = docx.Document(SAMPLES / "msa_orion.docx")
    law = next(p for p in word.paragraphs if "Governing Law" in p.text)
    text = law.text
    for run in list(law.runs):
        run.text = ""
    first = law.runs[0]
    first.text = text
    _tracked(first, "ins", "Acme Legal", "2024-05-02T10:00:00Z")  # the whole clause is their insertion
    path = tmp_path / "their_law.docx"
    word.save(path)
    status = ReviewService(ReviewConfig.from_env(tmp_path / "data", "local")).start(path, tmp_path / "out")
    assert any(r.kind == "insertion" and "Governing Law" in r.text for r in status.document.revisions)
    missing = [f for f in status.compliance.findings if f.category == "governing_law" and f.position == "missing"]
    assert missing, [(f.category, f.position, f.title) for f in status.compliance.findings]
