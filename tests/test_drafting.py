"""Our own paper: a first draft assembled from the approved clause library, as a DOCX that Word and LibreOffice open
and that reads back through the project's own loader with its headings and every approved clause verbatim."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import ROOT
from test_review_cli import cli


def test_a_draft_contains_every_approved_clause_of_its_template_under_numbered_headings(tmp_path):
    from agents.drafting import heading_of, templates
    from clause_library.playbook import default_library
    from document_io.loader import load_document

    out = tmp_path / "msa_draft.docx"
    result = cli("draft", "msa", "--counterparty", "Orion Consulting Group LLC", "--out", str(out), data_dir=tmp_path / "d")
    assert "13 approved clauses" in result.stdout
    assert "12. Assignment\n" in load_document(out).text + "\n"  # "Assignment (anti-assignment)" as a heading
    document = load_document(out)
    text = document.text
    library = default_library()
    for number, category in enumerate(templates()["msa"]["clauses"], start=1):
        assert f"{number}. {heading_of(library.get(category).label)}" in text
        assert " ".join(library.get(category).approved_clause.split()) in " ".join(text.split())  # verbatim
    assert "Northwind Systems (the \"Customer\") and Orion Consulting Group LLC (the \"Supplier\")" in text
    assert any(p.in_table and "Orion Consulting Group LLC" in p.text for p in document.paragraphs)  # the signature table


def test_a_mutual_nda_speaks_of_each_party_and_a_draft_on_the_supplier_side_swaps_the_parties(tmp_path):
    from document_io.loader import load_document

    nda = tmp_path / "nda.docx"
    cli("draft", "nda", "--counterparty", "BluePeak Analytics Ltd", "--out", str(nda), data_dir=tmp_path / "d")
    text = load_document(nda).text
    assert "each a \"Party\"" in text and "the Supplier" not in text.split("1. ")[1]
    supply = tmp_path / "supply.docx"
    cli("draft", "supply", "--counterparty", "Big Retail plc", "--side", "supplier", "--out", str(supply), data_dir=tmp_path / "d")
    assert "Big Retail plc (the \"Customer\") and Northwind Systems (the \"Supplier\")" in load_document(supply).text
    unknown = cli("draft", "franchise", "--counterparty", "X", data_dir=tmp_path / "d", check=False)
    assert unknown.returncode == 2 and "no template" in unknown.stderr and unknown.stderr.count("\n") == 1


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_draft(tmp_path):
    out = tmp_path / "saas.docx"
    cli("draft", "saas", "--counterparty", "CloudNimbus Inc.", "--out", str(out), data_dir=tmp_path / "d")
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)], cwd=ROOT,
                   capture_output=True, timeout=180, check=True, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    pdf = tmp_path / "saas.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000
