"""The REST API for other systems (CRM, ERP, a ticketing tool): /api/v1 on the same server as the pages.

A caller authenticates with a reviewer's personal API token (`Authorization: Bearer cf_...`, issued by `app.py user
token` and stored hashed) and has exactly that reviewer's rights: it sees the reviews the pages would show them (an
unrouted review is 404, as on the pages), may decide only suggestions their functions own, and sees the repository
only with a portfolio function. Decisions carry the version the caller read; a decision on a review that moved since
is refused with 409, never merged. Errors are JSON with a stable code: {"error": {"code": ..., "message": ...}}.
Lists are paginated (page, per_page <= 100). OpenAPI: /api/v1/openapi.json.

This first slice covers reading a review, deciding its suggestions, and listing renewals; intake, sign-off, outputs,
search and obligations are still the pages' and the CLI's."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from agents.schema import Decision
from graphs.audit_log import DatabaseBusy, StaleDecision
from graphs.locks import ReviewBusy
from graphs.review_service import ReviewNotFound, ReviewService, ReviewStatus
from portfolio.review_sync import SyncedRepository
from web_app.accounts import Accounts, Reviewer, owner_function, owners_of

MAX_PER_PAGE = 100


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


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
    decision: Literal["approve", "modify", "reject", "escalate"] | None = None
    decided_by: str | None = None


class ReviewOut(BaseModel):
    thread_id: str
    version: int
    finalised: bool
    contract_type: str
    counterparty: str | None
    our_side: str
    risk: str
    suggestions: list[SuggestionOut]


class DecisionIn(BaseModel):
    suggestion_id: str
    action: Literal["approve", "modify", "reject", "escalate"]
    modified_text: str | None = Field(default=None, max_length=20_000)
    comment: str | None = Field(default=None, max_length=2_000)


class DecisionsIn(BaseModel):
    expected_version: int = Field(description="the review's version the caller read; 409 when it moved since")
    decisions: list[DecisionIn] = Field(min_length=1, max_length=500)


class RenewalOut(BaseModel):
    contract_id: str
    name: str
    counterparty: str | None
    notice_deadline: str | None
    days_left: int | None
    term_end: str | None
    auto_renews: bool


class Page(BaseModel):
    page: int
    per_page: int
    total: int
    items: list[RenewalOut]


def api_app(service: ReviewService, accounts: Accounts, portfolio: SyncedRepository, today) -> FastAPI:
    """The /api/v1 application, mounted by web_app.server.create_app on the pages' service, accounts and repository."""
    api = FastAPI(title="Clauseflow API", version="1", openapi_url="/openapi.json", docs_url=None, redoc_url=None)

    @api.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status)

    @api.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        if isinstance(exc, (DatabaseBusy, ReviewBusy)):
            return JSONResponse({"error": {"code": "busy", "message": str(exc)}}, status_code=503)
        return JSONResponse({"error": {"code": "internal", "message": "the server could not answer; nothing was changed"}},
                            status_code=500)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse({"error": {"code": "invalid_request", "message": f"{where}: {first.get('msg', 'invalid')}"}},
                            status_code=422)

    def caller(request: Request) -> Reviewer:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        reviewer = accounts.reviewer_for_api_token(token) if token else None
        if reviewer is None:
            raise ApiError(401, "unauthenticated", "send a personal API token: Authorization: Bearer <token>")
        return reviewer

    def visible(reviewer: Reviewer, thread_id: str) -> ReviewStatus:
        try:
            status = service.status(thread_id)
        except ReviewNotFound:
            status = None
        if status is None or not reviewer.sees(status.profile.review_functions, owners_of(status)):
            raise ApiError(404, "not_found", f"no review with thread id {thread_id!r}")  # unrouted: no hint it exists
        return status

    def as_out(status: ReviewStatus) -> ReviewOut:
        suggestions = []
        for s in status.redlines.suggestions:
            decision = status.decisions.get(s.id)
            suggestions.append(SuggestionOut(
                id=s.id, category=s.category, severity=s.severity, kind=s.kind, title=s.title,
                citation=CitedSpan(start=s.citation.start, end=s.citation.end, quote=s.citation.quote),
                proposed_text=s.proposed_text, owner_function=owner_function(s, decision),
                decision=decision.action if decision else None, decided_by=decision.reviewer if decision else None))
        return ReviewOut(thread_id=status.thread_id, version=status.version, finalised=status.finalised,
                         contract_type=status.profile.contract_type, counterparty=status.profile.counterparty,
                         our_side=status.profile.our_side, risk=status.overall_risk, suggestions=suggestions)

    @api.get("/reviews/{thread_id}", response_model=ReviewOut)
    async def read_review(request: Request, thread_id: str) -> ReviewOut:
        reviewer = await run_in_threadpool(caller, request)
        return as_out(await run_in_threadpool(visible, reviewer, thread_id))

    @api.post("/reviews/{thread_id}/decisions", response_model=ReviewOut)
    async def post_decisions(request: Request, thread_id: str, body: DecisionsIn) -> ReviewOut:
        reviewer = await run_in_threadpool(caller, request)
        return await run_in_threadpool(decide, reviewer, thread_id, body)

    def decide(reviewer: Reviewer, thread_id: str, body: DecisionsIn) -> ReviewOut:
        status = visible(reviewer, thread_id)
        by_id = {s.id: s for s in status.redlines.suggestions}
        now, decisions = datetime.now(timezone.utc), []
        for asked in body.decisions:
            suggestion = by_id.get(asked.suggestion_id)
            if suggestion is None:
                raise ApiError(404, "no_such_suggestion", f"{thread_id} has no suggestion {asked.suggestion_id}")
            owner = owner_function(suggestion, status.decisions.get(suggestion.id))
            if not reviewer.may_decide(owner):
                raise ApiError(403, "not_your_function", f"{suggestion.id} is for {owner}; the token's reviewer reviews for "
                                                         f"{', '.join(reviewer.functions)}")
            if asked.action == "modify" and not (asked.modified_text or "").strip():
                raise ApiError(422, "invalid_request", f"{suggestion.id}: modify needs modified_text")
            decisions.append(Decision(suggestion_id=suggestion.id, action=asked.action, reviewer=reviewer.username,
                                      decided_at=now, modified_text=asked.modified_text if asked.action == "modify" else None,
                                      comment=asked.comment, authenticated_by="api token"))
        try:
            after = service.decide(thread_id, decisions, expected_version=body.expected_version)
        except StaleDecision as stale:
            raise ApiError(409, "stale_version", str(stale)) from stale
        except ValueError as refused:
            raise ApiError(422, "refused", str(refused)) from refused
        return as_out(after)

    @api.get("/renewals", response_model=Page)
    async def renewals(request: Request, within_days: int = Query(90, ge=0, le=3660), page: int = Query(1, ge=1),
                       per_page: int = Query(50, ge=1, le=MAX_PER_PAGE)) -> Page:
        reviewer = await run_in_threadpool(caller, request)
        return await run_in_threadpool(list_renewals, reviewer, within_days, page, per_page)

    def list_renewals(reviewer: Reviewer, within_days: int, page: int, per_page: int) -> Page:
        if not reviewer.sees_portfolio:
            raise ApiError(403, "no_portfolio_access", "the repository is for legal, procurement and finance")
        hide = service.index.hidden_from(reviewer.visible_functions)
        rows = [c for c in portfolio().renewals(today, within_days) if c.thread_id not in hide]
        items = [RenewalOut(contract_id=c.contract_id, name=c.name, counterparty=c.counterparty,
                            notice_deadline=c.notice_deadline.isoformat() if c.notice_deadline else None,
                            days_left=(c.notice_deadline - today).days if c.notice_deadline else None,
                            term_end=c.term_end.isoformat() if c.term_end else None, auto_renews=bool(c.auto_renews))
                 for c in rows]
        start = (page - 1) * per_page
        return Page(page=page, per_page=per_page, total=len(items), items=items[start:start + per_page])

    return api
