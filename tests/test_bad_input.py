"""Bad files: a one-line reason, no traceback, exit code 2, and a batch goes on with the rest."""

from __future__ import annotations

import shutil

import pytest

from conftest import SAMPLES
from document_io.errors import (
    CorruptDocument, DocumentTooLarge, EmptyDocument, EncryptedDocument, NoTextLayer, NotEnglish, UnsupportedFormat,
)
from document_io.loader import load_document
from test_review_cli import cli

GERMAN = (
    "Dieser Vertrag unterliegt dem Recht der Bundesrepublik Deutschland. Der Lieferant verpflichtet sich, die Waren "
    "innerhalb von dreißig Tagen nach Eingang der Bestellung zu liefern. Die Haftung ist auf den Auftragswert begrenzt."
)


def _scanned_pdf(path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(200, 200, 200)
    pdf.rect(20, 20, 150, 100, style="F")  # a picture of a page, no text layer
    pdf.output(str(path))


def _text_pdf(path, *, user_password: str | None = None, owner_password: str | None = None):
    """A one-page PDF with a text layer, AES-256 encrypted when passwords are given (as a counterparty's tool does)."""
    import io

    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "MUTUAL NON-DISCLOSURE AGREEMENT. This Agreement is made between Northwind Systems, Inc. and "
                         "Bluepeak Analytics Ltd. Each party shall keep the other party's confidential information secret "
                         "and use it only to evaluate the proposed transaction. This Agreement is governed by the laws of "
                         "the State of Delaware. " * 3)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(pdf.output()))))
    if user_password is not None or owner_password is not None:
        writer.encrypt(user_password=user_password or "", owner_password=owner_password, algorithm="AES-256")
    with open(path, "wb") as handle:
        writer.write(handle)


@pytest.fixture
def bad_files(tmp_path):
    files = {}
    (files.__setitem__("empty", tmp_path / "empty.docx"))
    files["empty"].write_bytes(b"")
    files["wrong_ext"] = tmp_path / "contract.xlsx"
    files["wrong_ext"].write_bytes(b"PK\x03\x04 spreadsheet")
    files["corrupt_docx"] = tmp_path / "broken.docx"
    files["corrupt_docx"].write_bytes((SAMPLES / "msa_orion.docx").read_bytes()[:3000])
    files["corrupt_pdf"] = tmp_path / "broken.pdf"
    files["corrupt_pdf"].write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage")
    files["binary"] = tmp_path / "binary.txt"
    files["binary"].write_bytes(bytes(range(256)) * 40)
    files["huge"] = tmp_path / "huge.txt"
    with files["huge"].open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    files["german"] = tmp_path / "vertrag.txt"
    files["german"].write_text(GERMAN * 3, encoding="utf-8")
    files["scanned"] = tmp_path / "scanned.pdf"
    _scanned_pdf(files["scanned"])
    files["locked"] = tmp_path / "locked.pdf"
    _text_pdf(files["locked"], user_password="open sesame", owner_password="owner")
    files["renamed"] = tmp_path / "actually_text.docx"
    files["renamed"].write_text("This is plain text pretending to be Word.", encoding="utf-8")
    return files


@pytest.mark.parametrize(
    "key,error,words",
    [
        ("empty", EmptyDocument, "empty"),
        ("wrong_ext", UnsupportedFormat, "unsupported file type .xlsx"),
        ("corrupt_docx", CorruptDocument, "corrupt DOCX"),
        ("corrupt_pdf", CorruptDocument, "corrupt PDF"),
        ("binary", CorruptDocument, "binary content"),
        ("huge", DocumentTooLarge, "50.0 MB is over the 20 MB limit"),
        ("german", NotEnglish, "German"),
        ("scanned", NoTextLayer, "no text layer"),
        ("renamed", CorruptDocument, "not a DOCX file"),
        ("locked", EncryptedDocument, "encrypted and needs a password"),
    ],
)
def test_each_bad_file_gets_its_reason(bad_files, key, error, words):
    with pytest.raises(error) as caught:
        load_document(bad_files[key])
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_cli_batch_reports_each_bad_file_in_one_line_and_reviews_the_good_one(bad_files, tmp_path):
    good = tmp_path / "nda.docx"
    shutil.copy(SAMPLES / "nda_bluepeak.docx", good)
    paths = [str(p) for p in bad_files.values()] + [str(good)]
    result = cli("review", *paths, "--out", str(tmp_path / "out"), data_dir=tmp_path / "data", check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(bad_files)
    assert f"{len(bad_files)} of {len(paths)} file(s) could not be reviewed" in result.stderr
    assert "type NDA" in result.stdout  # the good file was still reviewed


def test_an_aes_pdf_with_only_an_owner_password_is_read(tmp_path):
    path = tmp_path / "restricted.pdf"
    _text_pdf(path, owner_password="owner only")  # opens without a password; printing/editing restricted
    document = load_document(path)
    assert "governed by the laws of the State of Delaware" in document.text


def test_cli_single_bad_file_exits_non_zero_without_traceback(bad_files, tmp_path):
    result = cli("review", str(bad_files["scanned"]), data_dir=tmp_path, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[0].startswith("error: scanned.pdf: the PDF has no text layer")


def test_unknown_thread_is_a_clear_error(tmp_path):
    result = cli("decide", "no-such-thread", "--approve", "S01", data_dir=tmp_path, check=False)
    assert result.returncode == 1 and "no review with thread id 'no-such-thread'" in result.stderr
    assert "Traceback" not in result.stderr


# --- file names and outputs ------------------------------------------------------------------------------------


def _thread_of(stdout: str) -> str:
    import re

    return re.search(r"thread (\S+) ·", stdout).group(1)


def test_two_contracts_with_one_name_finalised_to_one_folder_keep_their_own_outputs(tmp_path):
    import json

    out, data = tmp_path / "out", tmp_path / "data"
    for folder, sample in (("a", "msa_orion.docx"), ("b", "nda_bluepeak.docx")):
        (tmp_path / folder).mkdir()
        shutil.copy(SAMPLES / sample, tmp_path / folder / "contract.docx")
        thread = _thread_of(cli("review", str(tmp_path / folder / "contract.docx"), "--out", str(out), data_dir=data).stdout)
        cli("decide", thread, "--approve-all", "--reviewer", "Ann", data_dir=data)
    reports = sorted(out.glob("*.review.json"))
    assert "contract.review.json" in [p.name for p in reports] and len(reports) == 2  # the second got its own name
    assert len({json.loads(p.read_text())["sha256"] for p in reports}) == 2
    assert len(list(out.glob("*.redlined.docx"))) == 2


def test_odd_file_names_are_reviewed_printed_as_text_and_never_hidden(tmp_path):
    import json

    inbox, data = tmp_path / "inbox", tmp_path / "data"
    (inbox / "x[").mkdir(parents=True)
    shutil.copy(SAMPLES / "nda_bluepeak.docx", inbox / "x[" / "]y.docx")  # shown as "x[/]y.docx": rich markup
    shutil.copy(SAMPLES / "msa_orion.docx", inbox / "contract (final) [red]v2.docx")
    shutil.copy(SAMPLES / "dpa_medisafe.docx", inbox / "CON.docx")
    shutil.copy(SAMPLES / "licence_quanta.docx", inbox / "naïve café – 契約.docx")
    for copy in ("broken one.docx", "broken two.docx"):  # a failed file and its copy: both count as failed
        (inbox / copy).write_bytes((SAMPLES / "msa_orion.docx").read_bytes()[:3000])
    with (inbox / "sparse.pdf").open("wb") as handle:  # 3 GB, no disk used: refused from its size, never read
        handle.truncate(3 * 1024 ** 3)
    result = cli("batch", str(inbox), "--out", str(tmp_path / "triage"), "--workers", "1", data_dir=data, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    assert "x[/]y.docx" in result.stdout or "x[/]y.docx" in (tmp_path / "triage" / "triage.md").read_text()
    rows = json.loads((tmp_path / "triage" / "triage.json").read_text())
    failed = [r for r in rows if r["outcome"] == "failed"]
    reviewed = len(rows) - len(failed)
    assert f"{reviewed} reviewed, {len(failed)} failed" in result.stdout
    assert f"{reviewed} reviewed up to the human checkpoint, {len(failed)} could not be read" in (tmp_path / "triage" / "triage.md").read_text()
    assert {r["file"] for r in failed} == {"broken one.docx", "broken two.docx", "sparse.pdf"}
    assert any("3,072.0 MB is over the 20 MB limit" in r["reason"] for r in failed)
    # finalising a contract called "..docx" writes visible files
    shutil.copy(SAMPLES / "saas_cloudnimbus.docx", tmp_path / "..docx")
    thread = _thread_of(cli("review", str(tmp_path / "..docx"), "--out", str(tmp_path / "out"), data_dir=data).stdout)
    cli("decide", thread, "--approve-all", "--reviewer", "Ann", data_dir=data)
    written = sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".clauseflow"))
    assert "contract.redlined.docx" in written and not any(n.startswith("..") for n in written)
