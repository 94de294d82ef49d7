"""Executed paper comes home: a signed PDF, from `app.py execute` or the other side's e-signature service, is checked
(pyHanko: integrity, chain to the deployment's trust roots, signer, time, changes after signing), matched to the
review whose agreed text it carries, and filed: "executed" with its signers, or "signature invalid" with the reason,
never executed on a failed check. A matched, valid copy becomes the contract of record: the review's own records are
marked superseded, so its renewals and obligations are counted from the executed copy alone.

Matching is by content, not by name: the agreed text of every finalised review (its redline with every change
accepted) is kept as a set of word shingles; a PDF whose words carry nearly all of one review's agreed text, and
little else, is that review's executed copy.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pydantic import BaseModel

from document_io.docx_accept import accept_all_changes
from document_io.docx_reader import read_docx
from document_io.pdf_signatures import SignatureReport, check_signatures
from graphs.review_service import ReviewService
from portfolio.records import Filing
from portfolio.repository import Repository

SHINGLE_WORDS = 6
AGREED_TEXT_COVERED = 0.85  # share of the agreed text's shingles the PDF must carry
PDF_TEXT_AGREED = 0.70  # share of the PDF's shingles that must come from the agreed text (a signature page adds some)


class FiledCopy(BaseModel):
    contract_id: str
    status: str
    thread_id: str | None = None
    signers: list[str] = []
    problem: str | None = None


def shingles(text: str) -> set[int]:
    """Overlapping runs of six words, lower-cased, letters and digits only: robust to line breaks, hyphenation at
    line ends and the PDF's spacing, sensitive to any changed word."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {int.from_bytes(hashlib.blake2b(" ".join(words[i:i + SHINGLE_WORDS]).encode(), digest_size=7).digest(), "big")
            for i in range(max(1, len(words) - SHINGLE_WORDS + 1))} if words else set()


def agreed_text(redlined_docx: bytes) -> str:
    """The words of the redline with every change accepted (body paragraphs: what the parties sign)."""
    return "\n".join(p.text for p in read_docx("agreed.docx", accept_all_changes(redlined_docx)) if p.part == "body")


def remember_agreed_copies(service: ReviewService, repository: Repository) -> None:
    """Keep the agreed text of every finalised review not yet kept (once each: a finalised review no longer changes)."""
    known = repository.agreed_copies()
    for review in service.audit.reviews():
        if review["status"] != "finalised" or review["thread_id"] in known:
            continue
        outputs = service.status(review["thread_id"]).outputs or {}
        path = Path(outputs.get("redlined_docx", ""))
        if path.is_file():
            text = agreed_text(path.read_bytes())
            repository.record_agreed_copy(review["thread_id"], hashlib.sha256(text.encode()).hexdigest(), sorted(shingles(text)))


def matching_review(text: str, repository: Repository) -> str | None:
    """The finalised review whose agreed text this is, or None."""
    found = shingles(text)
    best, best_score = None, 0.0
    for thread_id, (_, agreed) in repository.agreed_copies().items():
        if not agreed or not found:
            continue
        common = len(found & agreed)
        covered, own = common / len(agreed), common / len(found)
        if covered >= AGREED_TEXT_COVERED and own >= PDF_TEXT_AGREED and covered > best_score:
            best, best_score = thread_id, covered
    return best


def file_signed_copy(filing: Filing, pdf: bytes, *, text: str, repository: Repository, service: ReviewService | None,
                     trust_roots: list[bytes]) -> FiledCopy:
    """Check a signed PDF's signatures, match it to its review and file it (one commit, with its webhook event)."""
    report: SignatureReport = check_signatures(pdf, trust_roots) if trust_roots else _no_roots(pdf)
    record = filing.record
    record.signatures = report.signatures
    record.status = "executed" if report.valid else "signature invalid"
    record.signature_problem = report.problem if not report.valid else None
    thread_id = None
    if service is not None:
        remember_agreed_copies(service, repository)
        thread_id = matching_review(text, repository)
    if thread_id is not None:
        reviewed = service.status(thread_id)
        record.thread_id = thread_id
        record.previous_version = reviewed.document.sha256
        record.counterparty = record.counterparty or reviewed.profile.counterparty
        if record.request is None:
            record.request = reviewed.request
    signers = [s.signer for s in report.signatures]
    payload = {"contract_id": record.contract_id, "name": record.name, "status": record.status, "thread_id": thread_id,
               "counterparty": record.counterparty, "signers": signers, "problem": record.signature_problem}
    repository.file_many([filing], events=[("contract.executed", payload)] if report.valid else [])
    if report.valid and thread_id is not None:
        repository.supersede_review(thread_id)
    return FiledCopy(contract_id=record.contract_id, status=record.status, thread_id=thread_id, signers=signers,
                     problem=record.signature_problem)


def describe_copy(copy: FiledCopy) -> str:
    """One line for the import's row: what the signed PDF was filed as, by whom, and against which review."""
    if copy.status == "executed":
        line = f"executed, signed by {', '.join(copy.signers)}"
    else:
        line = f"signature invalid: {copy.problem}"
    return line + (f"; the agreed copy of review {copy.thread_id}" if copy.thread_id else "; matches no agreed review")


def _no_roots(pdf: bytes) -> SignatureReport:
    """Without configured trust roots no signature can be trusted: checked for integrity, and filed as invalid."""
    report = check_signatures(pdf, [])
    for signature in report.signatures:
        if signature.problem and "trusted root" in signature.problem:
            signature.problem = "no trust roots are configured (trust_roots in the signing set-up), so no signer can be trusted"
    return report


__all__ = ["FiledCopy", "agreed_text", "describe_copy", "file_signed_copy", "matching_review", "remember_agreed_copies", "shingles"]
