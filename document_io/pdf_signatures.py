"""PAdES signatures on PDFs with pyHanko: add one visible, incremental signature, and check every signature a PDF
carries (integrity, chain to the configured trust roots, signer, signing time, changes after signing).

The document tools' level: no knowledge of reviews or routing. Offline: revocation is not fetched (certificates of a
deployment's own CA carry no OCSP or CRL address); an RFC 3161 time stamp is asked for only when a TSA URL is given.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

MAX_SIGNATURES = 20  # a PDF claiming more is not checked signature by signature (each check re-reads the file)


class SignatureProblem(ValueError):
    """A key or certificate could not be used (wrong passphrase, unreadable PKCS#12): a one-line reason."""


class SignatureCheck(BaseModel):
    """What the validator found for one signature."""

    field: str
    signer: str = Field(description="the signing certificate's subject (common name, then e-mail where it has one)")
    signer_email: str | None = None
    signed_at: datetime | None = Field(default=None, description="the time stamp's time where there is one, else the "
                                       "signing time the signer's software claimed")
    time_stamped: bool = False
    intact: bool = Field(description="the signed bytes are unchanged")
    trusted: bool = Field(description="the certificate chains to a configured trust root")
    changed_after_signing: bool = Field(description="a later revision changes more than signature fields")
    problem: str | None = Field(default=None, description="why this signature does not hold, one line; None: valid")

    @property
    def valid(self) -> bool:
        return self.problem is None


class SignatureReport(BaseModel):
    signatures: list[SignatureCheck] = Field(default_factory=list)

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    @property
    def valid(self) -> bool:
        return self.signed and all(s.valid for s in self.signatures)

    @property
    def problem(self) -> str | None:
        """The first reason the PDF's signatures do not hold, or None."""
        if not self.signed:
            return "the PDF carries no signature"
        return next((f"{s.field} ({s.signer}): {s.problem}" for s in self.signatures if s.problem), None)


class SignerKey(BaseModel):
    """A signatory's key: a PKCS#12 file (key, certificate and chain) and its passphrase."""

    name: str = Field(description="who signs, as the signature block shows it")
    pkcs12: Path
    passphrase: str | None = None


class SignatureBlock(BaseModel):
    field: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$")
    page: int = Field(default=-1, description="0-based; -1 the last page")
    box: tuple[int, int, int, int] = Field(description="x1, y1, x2, y2 in PDF points from the page's bottom left")
    reason: str
    location: str | None = None
    on_behalf_of: str


def sign_pdf(pdf: bytes, key: SignerKey, block: SignatureBlock, *, tsa_url: str | None = None) -> bytes:
    """`pdf` with one more signature: a new visible field, signed in an incremental update (earlier signatures stay
    valid). A time stamp from `tsa_url` (RFC 3161) when given."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko.stamp import TextStampStyle

    signer = _load_signer(key)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    fields.append_signature_field(writer, fields.SigFieldSpec(block.field, on_page=block.page, box=block.box))
    meta = signers.PdfSignatureMetadata(field_name=block.field, reason=block.reason, location=block.location,
                                        name=key.name, subfilter=fields.SigSeedSubFilter.PADES)
    style = TextStampStyle(stamp_text=f"Signed for {_printable(block.on_behalf_of)}\nby %(signer)s\n%(ts)s",
                           border_width=1)
    stamper = timestamps.HTTPTimeStamper(tsa_url, timeout=20) if tsa_url else None
    out = io.BytesIO()
    signers.PdfSigner(meta, signer=signer, timestamper=stamper, stamp_style=style).sign_pdf(writer, output=out)
    return out.getvalue()


def check_signatures(pdf: bytes, trust_roots: list[bytes]) -> SignatureReport:
    """Every embedded signature, checked against `trust_roots` (PEM or DER certificates). A PDF that cannot be read
    as a signed PDF gives a report with the reason on a pseudo-signature, never an exception."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    # pyHanko logs every failed check with a traceback; the reason is on the report, so its log stays quiet
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    roots = [_certificate(root) for root in trust_roots]
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # a damaged file: say so on the record instead of failing the import
        return SignatureReport(signatures=[_unreadable(f"the PDF's signatures cannot be read: {_one_line(exc)}")])
    if len(embedded) > MAX_SIGNATURES:
        return SignatureReport(signatures=[_unreadable(f"{len(embedded)} signatures (more than {MAX_SIGNATURES} are not checked)")])
    return SignatureReport(signatures=[_check(signature, context, validate_pdf_signature) for signature in embedded])


def signature_count(pdf: bytes) -> int:
    """How many signatures the PDF carries (0 for an unsigned or unreadable one), without validating them."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        return len(PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures)
    except Exception:
        return 0


def _check(signature, context, validate) -> SignatureCheck:
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    field = signature.field_name or "signature"
    try:
        status = validate(signature, context)
    except SignatureValidationError as exc:
        return _unreadable(f"not a valid signature: {_one_line(exc)}", field)
    except Exception as exc:  # malformed CMS and the like: a reason on the record, not a crash
        return _unreadable(f"cannot be checked, the PDF is damaged where it is signed (changed after signing?): "
                           f"{_one_line(exc)}", field)
    certificate = status.signing_cert
    name = certificate.subject.native.get("common_name") or certificate.subject.human_friendly
    email = certificate.subject.native.get("email_address")
    stamp = status.timestamp_validity
    changed = (status.coverage != SignatureCoverageLevel.ENTIRE_FILE
               and (status.diff_result is None or not status.docmdp_ok
                    or getattr(status.modification_level, "name", "OTHER") not in ("NONE", "LTA_UPDATES", "FORM_FILLING")))
    problem = None
    if not status.intact:
        problem = "changed after signing: the signed bytes do not match the signature"
    elif not status.valid:
        problem = "the signature does not verify against its certificate"
    elif changed:
        problem = "changed after signing: a later revision alters the signed content"
    elif not status.trusted:
        problem = "signed by a key that does not chain to a trusted root"
    elif status.revoked:
        problem = "the signer's certificate is revoked"
    elif stamp is not None and not (stamp.intact and stamp.valid and stamp.trusted):
        problem = "its time stamp does not verify against a trusted time-stamp authority"
    return SignatureCheck(field=field, signer=str(name), signer_email=email,
                          signed_at=stamp.timestamp if stamp is not None else status.signer_reported_dt,
                          time_stamped=stamp is not None, intact=bool(status.intact), trusted=bool(status.trusted),
                          changed_after_signing=bool(changed or not status.intact), problem=problem)


def _unreadable(reason: str, field: str = "signature") -> SignatureCheck:
    return SignatureCheck(field=field, signer="unknown", intact=False, trusted=False, changed_after_signing=False,
                          problem=reason)


def _load_signer(key: SignerKey):
    from pyhanko.sign import signers

    if not key.pkcs12.is_file():
        raise SignatureProblem(f"{key.name}'s signing key {key.pkcs12} does not exist")
    signer = signers.SimpleSigner.load_pkcs12(str(key.pkcs12),
                                              passphrase=key.passphrase.encode() if key.passphrase is not None else None)
    if signer is None:
        raise SignatureProblem(f"{key.name}'s signing key {key.pkcs12.name} cannot be opened (wrong passphrase, or not "
                               "a PKCS#12 file)")
    return signer


def _certificate(data: bytes):
    from asn1crypto import pem, x509

    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return x509.Certificate.load(data)


def _printable(text: str) -> str:
    return "".join(c for c in text if c.isprintable())[:80].replace("%", "%%")


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
