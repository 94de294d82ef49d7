"""What the REST API (/api/v1) takes and answers: pydantic models, so the OpenAPI document describes every body."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Action = Literal["approve", "modify", "reject", "escalate"]
OutputKind = Literal["redlined_docx", "report_md", "report_json", "execution_pdf"]


class ErrorDetail(BaseModel):
    code: str = Field(description="stable: unauthenticated, not_found, no_such_suggestion, not_your_function, "
                      "stale_version, refused, invalid_request, no_portfolio_access, no_sign_off_role, not_finalised, "
                      "unreadable_paper, too_large, busy, internal")
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail


class CitedSpan(BaseModel):
    start: int
    end: int
    quote: str


class SuggestionOut(BaseModel):
    id: str
    category: str
    severity: str
    kind: str
    title: str
    citation: CitedSpan
    proposed_text: str | None
    owner_function: str
    decision: Action | None = None
    decided_by: str | None = None


class ReviewOut(BaseModel):
    thread_id: str
    name: str
    version: int
    finalised: bool
    contract_type: str
    counterparty: str | None
    our_side: str
    risk: str
    pending: list[str]
    next_sign_off: str | None = Field(description="the function that signs next under a sequential sign-off")
    outputs: list[OutputKind] = Field(description="downloads: GET /reviews/{thread_id}/outputs/{kind}")
    suggestions: list[SuggestionOut]


class ReviewRow(BaseModel):
    thread_id: str
    name: str
    contract_type: str
    counterparty: str | None
    risk: str
    status: str
    pending: int
    version: int


class ReviewPage(BaseModel):
    page: int
    per_page: int
    total: int
    items: list[ReviewRow]


class DecisionIn(BaseModel):
    suggestion_id: str = Field(max_length=40)
    action: Action
    modified_text: str | None = Field(default=None, max_length=20_000)
    comment: str | None = Field(default=None, max_length=2_000)
    escalate_to: Literal["legal", "security", "finance", "procurement"] | None = None


class DecisionsIn(BaseModel):
    expected_version: int = Field(ge=0, description="the review's version the caller read; 409 when it moved since")
    decisions: list[DecisionIn] = Field(min_length=1, max_length=500)


class SignOffIn(BaseModel):
    expected_version: int = Field(ge=0, description="the version whose decisions the signer confirms; 409 when it moved")


class RenewalOut(BaseModel):
    contract_id: str
    name: str
    counterparty: str | None
    notice_deadline: str | None
    days_left: int | None
    term_end: str | None
    auto_renews: bool


class RenewalPage(BaseModel):
    page: int
    per_page: int
    total: int
    items: list[RenewalOut]


class ObligationOut(BaseModel):
    obligation_id: str
    contract_id: str
    contract: str
    kind: str
    owner_side: str
    summary: str
    citation: CitedSpan
    due_date: str | None
    recurrence: str
    status: str


class ObligationPage(BaseModel):
    page: int
    per_page: int
    total: int
    items: list[ObligationOut]


class MarkIn(BaseModel):
    status: Literal["done", "missed", "open"]
    note: str | None = Field(default=None, max_length=1_000)
    due: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$",
                            description="the occurrence of a recurring duty being marked (YYYY-MM-DD); default: the one due now")


class ContractHitOut(BaseModel):
    contract_id: str
    name: str
    thread_id: str | None
    counterparty: str | None
    contract_type: str
    status: str
    category: str | None
    snippet: str
    similarity: float | None


class SearchOut(BaseModel):
    query: str
    by_meaning: bool
    total: int
    items: list[ContractHitOut]


class IntakeOut(BaseModel):
    thread_id: str
    routed_to: list[str]
    review: str = Field(description="GET this path for the review")
