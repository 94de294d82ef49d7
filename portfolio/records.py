"""What the contract repository files: contracts with their metadata and clauses, obligations, suppliers, spend lines
and the flags spend raises against a contract. Every fact read from a contract carries its span."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from agents.schema import IntakeRequest, Span
from document_io.pdf_signatures import SignatureCheck

ContractStatus = Literal["in review", "finalised", "executed", "expired", "terminated", "superseded", "signature invalid"]
Origin = Literal["review", "import", "execution"]
# statuses of records that are not the contract in force: no renewal deadline and no obligation comes from them
# ("superseded": a review whose signed, executed copy is filed; "signature invalid": a signed PDF that failed its check)
NOT_OF_RECORD = ("expired", "terminated", "superseded", "signature invalid")


WHOLE_TEXT = "text"  # the category of the contract's sentences filed for word search beyond the categorised clauses


class ClauseRecord(BaseModel):
    category: str
    start: int
    end: int
    text: str


class ContractRecord(BaseModel):
    contract_id: str = Field(description="the SHA-256 of the file's bytes: one record per distinct contract")
    name: str = Field(description="the file name it came in under")
    source_file: str
    origin: Origin
    thread_id: str | None = Field(default=None, description="the review it came from, when it came from one")
    title: str = ""
    contract_type: str = "other"
    parties: list[str] = Field(default_factory=list)
    counterparty: str | None = None
    our_side: str = "unknown"
    risk: str | None = None
    status: ContractStatus = "executed"
    owner: str | None = None
    effective_date: date | None = None
    expiration_date: date | None = Field(default=None, description="the end of the initial term")
    term_end: date | None = Field(default=None, description="the current term's end: as of the day a view shows "
                                  "(portfolio/ledger.py), not as filed")
    auto_renews: bool = False
    renewal_kind: Literal["automatic", "option", "mutual"] | None = None
    renewal_term_months: float | None = None
    renewal_count: int | None = Field(default=None, description="how many renewals the clause allows (None: no limit)")
    until_terminated: bool = False
    notice_days: int | None = None
    notice_months: int | None = Field(default=None, description="the renewal notice when stated in calendar months")
    notice_fixed_day: str | None = Field(default=None, description="'MM-DD': renewal notice due by a day of the year")
    notice_deadline: date | None = None
    governing_law: str | None = None
    value: float | None = None
    not_to_exceed: float | None = None
    currency: str | None = None
    payment_terms_days: int | None = None
    liability_cap: str | None = None
    liability_cap_amount: float | None = None
    minimum_commitment: float | None = None
    price_escalator_pct: float | None = None
    po_numbers: list[str] = Field(default_factory=list)
    recommended_action: str | None = None
    citations: dict[str, Span] = Field(default_factory=dict, description="each metadata field's source span")
    request: IntakeRequest | None = Field(default=None, description="the intake request the contract came with")
    previous_version: str | None = Field(default=None, description="for the other side's reply: the contract id of the "
                                         "version we sent (every round is kept)")
    signatures: list[SignatureCheck] = Field(default_factory=list, description="a signed PDF's signatures as checked "
                                             "when it was filed, in signing order")
    signature_problem: str | None = Field(default=None, description="why a signed PDF was filed as 'signature invalid'")
    clauses: list[ClauseRecord] = Field(default_factory=list)
    filed_at: datetime | None = None
    # as of the day a view shows (portfolio/ledger.py): never stored
    missed_deadline: date | None = Field(default=None, description="the last notice deadline that passed without notice")
    term_start: date | None = Field(default=None, description="the current term's first day")
    deadline_term_end: date | None = Field(default=None, description="the end of the term the open deadline stops")
    term_state: str | None = Field(default=None, description="the term ledger's state: in force, ended, not started, ...")
    notice_given_on: date | None = Field(default=None, description="a recorded notice of non-renewal")

    @property
    def notice_period(self) -> str:
        """The renewal notice as the contract states it: '60 d', '6 mo', 'by 01-10' (MM-DD), or '—'."""
        if self.notice_fixed_day:
            return f"by {self.notice_fixed_day}"
        if self.notice_months is not None:
            return f"{self.notice_months} mo"
        return f"{self.notice_days} d" if self.notice_days is not None else "—"


Recurrence = Literal["once", "monthly", "quarterly", "yearly", "continuous", "on event", "each term"]
ObligationStatus = Literal["open", "done", "missed"]


class Obligation(BaseModel):
    obligation_id: str = Field(description="contract id + the span's start: stable across re-filing")
    contract_id: str
    kind: str = Field(description="sla, report, deliverable, insurance, audit, payment, notice, confidentiality, other")
    owner_side: Literal["us", "them", "both", "unknown"]
    owner_name: str | None = Field(default=None, description="the bound party as the contract names it")
    summary: str
    citation: Span
    due_date: date | None = Field(default=None, description="a one-off duty's date; for a recurring one, the next "
                                  "occurrence as of the day shown")
    recurrence: Recurrence = "once"
    offset_days: int | None = Field(default=None, description="days after each period's end (or the anchor's anniversary)")
    anchor: date | None = Field(default=None, description="a yearly duty's anniversary date (the effective date)")
    status: ObligationStatus = "open"
    decided_by: str | None = None
    decided_at: datetime | None = None


class Supplier(BaseModel):
    supplier_id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    tax_id: str | None = None
    risk_tier: str | None = None


class SpendLine(BaseModel):
    """One PO or invoice line from the ERP export."""

    line_id: int | None = None
    kind: Literal["po", "invoice"]
    supplier: str
    po_number: str | None = None
    invoice_number: str | None = None
    date: date
    amount: float
    currency: str = "USD"
    description: str = ""
    paid_date: date | None = None
    unit_price: float | None = None
    item: str | None = None
    contract_id: str | None = None
    match_reason: str | None = None
    source_file: str | None = Field(default=None, description="the export it came from")
    source_line: int | None = Field(default=None, description="its line number in that file (the header is line 1)")


FlagKind = Literal["no_contract", "after_expiry", "over_cap", "price_above_escalator", "paid_early",
                   "under_minimum", "sla_miss", "duplicate_line"]


class SpendFlag(BaseModel):
    kind: FlagKind
    detail: str
    contract_id: str | None = None
    supplier: str | None = None
    line_id: int | None = Field(default=None, description="the repository's row id of the (first) line")
    source: str | None = Field(default=None, description="where the line is in the ERP export: 'erp.csv line 9, "
                               "invoice INV-1004'")
    citation: Span | None = Field(default=None, description="the contract clause the flag rests on")


class Filing(BaseModel):
    """What one contract adds to the repository, written in one commit."""

    record: ContractRecord
    obligations: list[Obligation] = Field(default_factory=list)
    review_version: str | None = Field(default=None, description="for a review: the state it was filed at")
