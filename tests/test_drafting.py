"""Our own paper, per side: every draft type read back through the project's loader defines every term it uses, states
each topic once, has the sections a lawyer expects, and holds no clause against the side that drafts it (our own
review of it raises nothing against us but the supplier's approved IP indemnity); the DOCX opens in LibreOffice."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date

import pytest
from conftest import ROOT
from test_review_cli import cli

from agents.drafting import INLINE_DEFINITION, DraftRequest, draft, draft_types, templates
from clause_library.playbook import load_library

SIDES = ("customer", "supplier")
US = "Northwind Systems"
# what a first draft a lawyer would send has, by heading (a DPA follows its main agreement for term and assignment)
EXPECTED = ["Definitions", "Notices", "Entire Agreement", "Counterparts", "Governing Law and Jurisdiction"]
COMMERCIAL = ["Fees and Payment", "Termination for Breach", "Termination for Convenience", "Assignment", "Limitation of Liability"]


def _text(contract_type: str, side: str, tmp_path) -> str:
    from document_io.loader import load_document

    out = tmp_path / f"{contract_type}_{side}.docx"
    cli("draft", contract_type, "--counterparty", "Orion Consulting Group LLC", "--side", side, "--out", str(out),
        data_dir=tmp_path / "d", env={"CLAUSEFLOW_OUR_NAMES": US})
    return load_document(out).text


@pytest.fixture(scope="module")
def drafts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drafts")
    return {(t, s): _text(t, s, folder) for t in draft_types() for s in SIDES}


def _defined(text: str) -> set[str]:
    return ({m.group("term") for m in INLINE_DEFINITION.finditer(text)}
            | {m.group(1) for m in re.finditer(r"\"([A-Z][\w -]+)\" means\b", text)})


def test_every_term_a_draft_uses_is_defined_in_it(drafts):
    terms = set(templates()["glossary"]) | {t for text in drafts.values() for t in _defined(text)}
    for (contract_type, side), text in drafts.items():
        body = text.split("Definitions", 1)[1]
        used = set()
        for term in sorted(terms, key=len, reverse=True):  # "Party" inside "Receiving Party" is the longer term's
            if re.search(rf"\b{re.escape(term)}\b", body):
                used.add(term)
                body = re.sub(rf"\b{re.escape(term)}\b", "§", body)
        assert used - _defined(text) == set(), (contract_type, side)


def test_each_topic_once_and_the_sections_a_lawyer_expects(drafts):
    for (contract_type, side), text in drafts.items():
        headings = re.findall(r"^\d+\. (.+)$", text, re.M)
        assert len(headings) == len(set(headings)), (contract_type, side, headings)
        expected = EXPECTED + ([] if contract_type in ("nda", "dpa") else COMMERCIAL)
        assert [h for h in expected if h not in headings] == [], (contract_type, side)
        assert len(re.findall(r"notice of non-renewal", text)) <= 1  # the renewal notice is stated once
        assert "[TO BE COMPLETED:" in text  # scope and fees are the drafter's to fill, and marked
    nda = drafts[("nda", "customer")]
    assert "(each a \"Party\")" in nda and "\"Confidential Information\" means" in nda and "(the \"Purpose\")" in nda
    assert "Customer" not in nda and "Supplier" not in nda


def test_the_parties_are_named_by_the_types_terms_and_the_side_decides_the_positions(drafts):
    licence = drafts[("licence", "supplier")]
    assert f"Orion Consulting Group LLC (the \"Licensee\") and {US} (the \"Licensor\")" in licence
    assert "non-transferable" in licence and "reserves all rights" in licence
    assert "non-transferable" not in drafts[("licence", "customer")]
    assert f"{US} (the \"Buyer\")" in drafts[("supply", "customer")]
    # as supplier our warranty is limited and re-performance is the remedy; as customer theirs runs twelve months
    assert "sole remedy" in drafts[("services", "supplier")] and "twelve (12) months" in drafts[("services", "customer")]
    # as customer nobody may raise our prices alone; as supplier we may, capped
    assert "any increase requires the Customer's written agreement" in drafts[("saas", "customer")]
    assert "may increase the Fees once in each contract year" in drafts[("saas", "supplier")]
    assert drafts[("services", "customer")] != drafts[("services", "supplier")]


def test_our_own_review_of_our_paper_raises_nothing_against_the_side_that_drafted_it(tmp_path, monkeypatch):
    """Each draft reviewed by the agents as inbound paper, with us as the drafting party: nothing against us, except,
    as supplier, the approved IP indemnity (the one indemnity by us the library allows)."""
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    monkeypatch.setenv("CLAUSEFLOW_OUR_NAMES", US)
    service = ReviewService(ReviewConfig.from_env(tmp_path / "data", "local"))
    approved_indemnity = "against any third-party claim alleging infringement of that third party's intellectual property"
    assert approved_indemnity in " ".join(load_library().get("indemnification").supplier_clause.split())
    from document_io.docx_draft import write_draft_docx

    for contract_type in draft_types():
        for side in SIDES:
            contract = draft(DraftRequest(contract_type=contract_type, our_name=US, counterparty="Orion Consulting Group LLC",
                                          our_side=side, effective=date(2026, 12, 4)), load_library())
            path = write_draft_docx(tmp_path / f"{contract_type}_{side}.docx", contract.title, contract.preamble,
                                    [(s.heading, s.text) for s in contract.sections], contract.signatories)
            status = service.start(path, tmp_path / "out")
            assert status.profile.our_side in (side, "unknown") or contract_type == "nda"
            against = [s for s in status.redlines.suggestions
                       if not (side == "supplier" and s.kind == "flag" and "indemn" in s.category
                               and s.citation.quote.startswith(f"The {_supplier(contract_type)} shall defend")
                               and approved_indemnity in s.citation.quote)]
            assert against == [], (contract_type, side, [(s.severity, s.title, s.citation.quote[:80]) for s in against])


def _supplier(contract_type: str) -> str:
    return templates()["types"][contract_type].get("roles", {}).get("supplier", "Supplier")


def test_an_unknown_type_is_a_one_line_refusal(tmp_path):
    unknown = cli("draft", "franchise", "--counterparty", "X", data_dir=tmp_path / "d", check=False)
    assert unknown.returncode == 2 and "no template" in unknown.stderr and unknown.stderr.count("\n") == 1


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_draft(tmp_path):
    out = tmp_path / "saas.docx"
    cli("draft", "saas", "--counterparty", "CloudNimbus Inc.", "--side", "supplier", "--out", str(out), data_dir=tmp_path / "d")
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)], cwd=ROOT,
                   capture_output=True, timeout=180, check=True, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    pdf = tmp_path / "saas.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000
