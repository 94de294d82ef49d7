"""The execution copy of an agreed contract: its redline with every change accepted, printed to PDF by LibreOffice,
with a signature page, then signed with PAdES signatures in the routing policy's order — our signatories, one per
sign-off function, then the other side's named signatory — each signing step one commit in the decision log.

Keys are the deployment's (signing.yaml beside the data, or CLAUSEFLOW_SIGNING): a PKCS#12 per signatory role or
one organisation key, passphrases from the environment, never from the file. The other side signs here only where
the deployment holds their key (a signing room); otherwise the PDF goes out with our signatures and comes back
signed through `app.py import`, which checks and files it.

Resumable: the PDF is replaced atomically after each signature, and the log records each signature with the
SHA-256 of the PDF it produced; a rerun after a kill continues from the last logged signature whose PDF is on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from document_io.docx_accept import accept_all_changes
from document_io.pdf_export import docx_to_pdf
from document_io.pdf_signatures import SignatureBlock, SignatureProblem, SignerKey, sign_pdf
from graphs.finalization import safe_file_stem, write_atomically
from graphs.review_service import ReviewService, ReviewStatus


class ExecutionRefused(ValueError):
    """The review is not agreed, or the signing set-up cannot sign it: a one-line reason."""


class KeyFile(BaseModel, extra="forbid"):
    name: str | None = Field(default=None, description="the signatory as the signature block shows them")
    pkcs12: Path
    passphrase_env: str | None = Field(default=None, description="the environment variable holding the passphrase")


class SigningSetup(BaseModel, extra="forbid"):
    """signing.yaml: who signs for us by role, whose certificates are trusted, and a time-stamp authority."""

    trust_roots: list[Path] = Field(default_factory=list, description="PEM or DER root certificates signers chain to")
    tsa_url: str | None = Field(default=None, description="an RFC 3161 time-stamp authority; none: no time stamps")
    signatories: dict[str, KeyFile] = Field(default_factory=dict, description="review function -> its signatory's key")
    organisation: KeyFile | None = Field(default=None, description="the key for a function without its own")
    counterparty_keys: dict[str, KeyFile] = Field(default_factory=dict, description="e-mail -> key, only where the "
                                                  "other side signs on this deployment")
    folder: Path = Field(default=Path("."), exclude=True)

    @classmethod
    def load(cls, path: Path) -> SigningSetup:
        try:
            setup = cls.model_validate({**(yaml.safe_load(path.read_text(encoding="utf-8")) or {}), "folder": path.parent})
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else " ".join(str(exc).split())[:160]
            raise ExecutionRefused(f"the signing set-up {path} cannot be read: {reason}") from None
        return setup

    def roots(self) -> list[bytes]:
        out = []
        for root in self.trust_roots:
            path = root if root.is_absolute() else self.folder / root
            try:
                out.append(path.read_bytes())
            except OSError:
                raise ExecutionRefused(f"trust root {path} cannot be read") from None
        return out

    def entry_for(self, role: str, email: str | None = None) -> KeyFile | None:
        """The key file of our signatory for a sign-off function (or the organisation's), or of the other side's
        signatory by e-mail (role "counterparty"); None where this deployment holds none."""
        if role == "counterparty":
            return self.counterparty_keys.get(email or "")
        return self.signatories.get(role) or self.organisation

    def key(self, entry: KeyFile, default_name: str) -> SignerKey:
        path = entry.pkcs12 if entry.pkcs12.is_absolute() else self.folder / entry.pkcs12
        passphrase = os.environ.get(entry.passphrase_env) if entry.passphrase_env else None
        if entry.passphrase_env and passphrase is None:
            raise ExecutionRefused(f"{entry.passphrase_env} is not set: the passphrase of {path.name}")
        return SignerKey(name=entry.name or default_name, pkcs12=path, passphrase=passphrase)


def signing_setup_path(data_dir: Path) -> Path:
    return Path(os.environ.get("CLAUSEFLOW_SIGNING") or data_dir / "signing.yaml")


def load_signing_setup(data_dir: Path) -> SigningSetup | None:
    """The deployment's signing set-up, or None where there is none."""
    path = signing_setup_path(data_dir)
    return SigningSetup.load(path) if path.is_file() else None


class Counterparty(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    email: str = Field(pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$", max_length=200)


class Signatory(BaseModel):
    step: int
    side: str  # "us" | "counterparty"
    role: str  # the sign-off function, or "counterparty"
    name: str
    on_behalf_of: str
    email: str | None = None


class SignedStep(BaseModel):
    signatory: Signatory
    pdf_sha256: str


class Execution(BaseModel):
    thread_id: str
    pdf: Path
    signed: list[SignedStep]
    awaiting: list[Signatory] = Field(default_factory=list, description="signatories this deployment cannot sign for")


def signing_order(status: ReviewStatus, counterparty: Counterparty, our_name: str, setup: SigningSetup) -> list[Signatory]:
    """Our signatories in the sign-off order the routing policy set (legal alone where it set none), then theirs."""
    roles = list(dict.fromkeys(status.profile.sign_off_steps or ["legal"]))
    order = []
    for role in roles:
        entry = setup.entry_for(role)
        if entry is None:
            raise ExecutionRefused(f"no signing key for {role}: add signatories.{role} (or organisation) to the signing set-up")
        order.append(Signatory(step=len(order), side="us", role=role, name=entry.name or f"{our_name} ({role})",
                               on_behalf_of=our_name))
    order.append(Signatory(step=len(order), side="counterparty", role="counterparty", name=counterparty.name,
                           email=str(counterparty.email), on_behalf_of=status.profile.counterparty or "the counterparty"))
    return order


def execute(service: ReviewService, thread_id: str, *, setup: SigningSetup, counterparty: Counterparty, our_name: str,
            actor: str) -> Execution:
    """Make and sign the execution PDF of a finalised review (see the module's note); returns what was signed."""
    status = service.status(thread_id)
    if not status.finalised:
        open_items = len(status.pending) + len(status.escalated)
        raise ExecutionRefused(f"{thread_id} is not agreed yet: {open_items} suggestion(s) open and no sign-off; "
                               "finalise it first (decide, then sign off)")
    redlined = Path(status.outputs["redlined_docx"])
    if not redlined.is_file():
        raise ExecutionRefused(f"the agreed redline {redlined} is not on this machine")
    order = signing_order(status, counterparty, our_name, setup)
    pdf_path = execution_pdf_path(status)
    logged = _logged_steps(service, thread_id)
    pdf, done = _resume(pdf_path, logged)
    if pdf is None:
        lines = ["Execution", f"Agreed between {our_name} and {order[-1].on_behalf_of}."]
        lines += [f"Signed for {s.on_behalf_of} by {s.name}" + (f" <{s.email}>" if s.email else "") + f" ({s.role})" for s in order]
        execution_docx = accept_all_changes(redlined.read_bytes(), signature_lines=lines)
        pdf = docx_to_pdf(execution_docx, name=safe_file_stem(status.document.name))
        write_atomically(pdf_path, pdf)
        done = []
    signed = list(done)
    awaiting = []
    for signatory in order[len(done):]:
        entry = setup.entry_for(signatory.role, signatory.email)
        if entry is None:
            awaiting = order[signatory.step:]
            break
        block = SignatureBlock(field=f"Signature{signatory.step + 1}_{signatory.role}", box=_box(signatory.step),
                               reason=f"agreed {status.document.name}", on_behalf_of=signatory.on_behalf_of)
        try:
            pdf = sign_pdf(pdf, setup.key(entry, signatory.name), block, tsa_url=setup.tsa_url)
        except SignatureProblem as problem:
            raise ExecutionRefused(str(problem)) from None
        write_atomically(pdf_path, pdf)
        step = SignedStep(signatory=signatory, pdf_sha256=hashlib.sha256(pdf).hexdigest())
        service.audit.record_event("signature", actor, thread_id=thread_id, detail=step.model_dump_json())
        signed.append(step)
    return Execution(thread_id=thread_id, pdf=pdf_path, signed=signed, awaiting=awaiting)


def execution_pdf_path(status: ReviewStatus) -> Path:
    """Where a finalised review's execution copy is written: beside its redline."""
    return Path(status.outputs["redlined_docx"]).with_name(f"{safe_file_stem(status.document.name)}.execution.pdf")


def _logged_steps(service: ReviewService, thread_id: str) -> list[SignedStep]:
    return [SignedStep.model_validate(json.loads(e.detail)) for e in service.audit.events(thread_id=thread_id, kind="signature")]


def _resume(pdf_path: Path, logged: list[SignedStep]) -> tuple[bytes | None, list[SignedStep]]:
    """The PDF on disk and the steps that made it, when it is the one the log's last signature produced; else start over
    (a kill between writing the PDF and logging its signature, or a PDF replaced by hand)."""
    if not pdf_path.is_file() or not logged:
        return None, []
    pdf = pdf_path.read_bytes()
    digest = hashlib.sha256(pdf).hexdigest()
    for last in range(len(logged) - 1, -1, -1):
        if logged[last].pdf_sha256 == digest:
            steps = _latest_chain(logged[:last + 1])
            return (pdf, steps) if steps else (None, [])
    return None, []


def _latest_chain(logged: list[SignedStep]) -> list[SignedStep]:
    """The last run of steps 0..n in the log (an earlier attempt that was started over is history)."""
    starts = [i for i, s in enumerate(logged) if s.signatory.step == 0]
    if not starts:
        return []
    chain = logged[starts[-1]:]
    return chain if [s.signatory.step for s in chain] == list(range(len(chain))) else []


def _box(step: int) -> tuple[int, int, int, int]:
    """Signature blocks two to a row on the signature page, from below its text down."""
    column, row = step % 2, step // 2
    x1, top = 60 + column * 250, 560 - row * 95
    return (x1, top - 75, x1 + 230, top)
