"""The REST API for other systems (CRM, ERP, a ticketing tool): /api/v1 on the same server as the pages.

A caller authenticates with a reviewer's personal API token (`Authorization: Bearer cf_...`, issued by `app.py token
add` and stored hashed) and has exactly that reviewer's rights: it sees the reviews the pages would show them (an
unrouted review is 404, as on the pages), decides only suggestions their functions own, signs off only with the
sign-off role and for the step that is theirs, and sees the repository only with a portfolio function (a contract
filed from a review they may not see stays hidden). Decisions and sign-offs carry the version the caller read; one on
a review that moved since is refused with 409, never merged. Errors are JSON with a stable code:
{"error": {"code": ..., "message": ...}}. Lists are paginated (page, per_page <= 100). OpenAPI: /api/v1/openapi.json.
Models: web_app/api_models.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from agents.schema import Decision
from document_io.errors import DocumentError
from graphs.database import DatabaseUnreachable
from graphs.execution import execution_pdf_path
from graphs.audit_log import AlreadySignedOff, DatabaseBusy, StaleDecision
from graphs.finalization import OpenEscalations, UndecidedSuggestions
from graphs.locks import ReviewBusy
from graphs.review_service import ReviewNotFound, ReviewService, ReviewStatus, SignOffStepRefused
from portfolio.review_sync import SyncedRepository
from web_app.accounts import Accounts, Reviewer, owner_function, owners_of
from web_app.api_models import (CitedSpan, ContractHitOut, DecisionsIn, ErrorOut, IntakeOut, MarkIn, ObligationOut,
                                ObligationPage, OutputKind, RenewalOut, RenewalPage, ReviewOut, ReviewPage, ReviewRow,
                                SearchOut, SignOffIn, SuggestionOut)
from web_app.intake_pages import UploadTooLarge, intake_request, store_upload

MAX_PER_PAGE = 100
_MEDIA = {"redlined_docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "report_md": "text/markdown; charset=utf-8", "report_json": "application/json", "execution_pdf": "application/pdf"}


def _errors(*codes: int) -> dict:
    """The error answers an operation documents (every operation can also be 400, 401, 404, 413, 422 and 503)."""
    return {code: {"model": ErrorOut} for code in sorted({400, 401, 404, 413, 422, 503, *codes})}


def api_error_response(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    """The API's error body, {"error": {"code", "message"}}: also used by the server in front of the API's mount."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def api_app(service: ReviewService, accounts: Accounts, portfolio: SyncedRepository, today: date) -> FastAPI:
    """The /api/v1 application, mounted by web_app.server.create_app on the pages' service, accounts and repository."""
    api = FastAPI(title="Clauseflow API", version="1", openapi_url="/openapi.json", docs_url=None, redoc_url=None,
                  servers=[{"url": "/api/v1"}])
    config = service.config

    @api.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return api_error_response(exc.status, exc.code, exc.message)

    # handled here, not by the catch-all below: Starlette re-raises what its 500 handler answered, and the pages' app
    # around this one would then try to answer a second time
    @api.exception_handler(DatabaseBusy)
    @api.exception_handler(ReviewBusy)
    async def busy(request: Request, exc: Exception):
        return api_error_response(503, "busy", str(exc), {"Retry-After": "2"})

    @api.exception_handler(DatabaseUnreachable)
    async def unavailable(request: Request, exc: Exception):
        return api_error_response(503, "unavailable", str(exc), {"Retry-After": "5"})

    @api.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        return api_error_response(500, "internal", "the server could not answer; nothing was changed")

    @api.exception_handler(StarletteHTTPException)
    async def routing_error(request: Request, exc: StarletteHTTPException):
        """No route (a path with a newline or a slash in an id), a body that is not JSON: our JSON, not the framework's."""
        code = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
        message = "no such resource" if exc.status_code == 404 else str(exc.detail)
        return api_error_response(exc.status_code, code, message)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return api_error_response(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    def caller(request: Request) -> Reviewer:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        reviewer = accounts.reviewer_for_api_token(token) if token and token.isprintable() and len(token) < 200 else None
        if reviewer is None:
            raise ApiError(401, "unauthenticated", "send a personal API token: Authorization: Bearer <token>")
        return reviewer

    def portfolio_reader(request: Request) -> Reviewer:
        reviewer = caller(request)
        if not reviewer.sees_portfolio:
            raise ApiError(403, "no_portfolio_access", "the repository is for legal, procurement and finance")
        return reviewer

    def visible(reviewer: Reviewer, thread_id: str) -> ReviewStatus:
        try:
            status = service.status(thread_id)
        except ReviewNotFound:
            status = None
        if status is None or not reviewer.sees(status.profile.review_functions, owners_of(status)):
            raise ApiError(404, "not_found", f"no review with thread id {thread_id!r}")  # unrouted: no hint it exists
        return status

    def hidden_contracts(reviewer: Reviewer, repository) -> set[str]:
        """Contracts filed from reviews the reader may not see (the pages' rule), in the repository already synced for
        this request (each sync files the reviews that changed: once a request is enough)."""
        return repository.filed_from(service.index.hidden_from(reviewer.visible_functions))

    def as_out(status: ReviewStatus) -> ReviewOut:
        suggestions = []
        for s in status.redlines.suggestions:
            decision = status.decisions.get(s.id)
            suggestions.append(SuggestionOut(
                id=s.id, category=s.category, severity=s.severity, kind=s.kind, title=s.title,
                citation=CitedSpan(start=s.citation.start, end=s.citation.end, quote=s.citation.quote),
                proposed_text=s.proposed_text, owner_function=owner_function(s, decision),
                decision=decision.action if decision else None, decided_by=decision.reviewer if decision else None))
        return ReviewOut(thread_id=status.thread_id, name=status.document.name, version=status.version,
                         finalised=status.finalised, contract_type=status.profile.contract_type,
                         counterparty=status.profile.counterparty, our_side=status.profile.our_side,
                         risk=status.overall_risk, pending=status.pending, next_sign_off=status.next_sign_off_step,
                         outputs=[k for k in _MEDIA if _has_output(status, k, service.blobs)], suggestions=suggestions)

    def paged(page: int, per_page: int, items: list):
        start = (page - 1) * per_page
        return dict(page=page, per_page=per_page, total=len(items), items=items[start:start + per_page])

    # --- intake -------------------------------------------------------------------------------------

    review_links = {  # OpenAPI links: what a client (and the stateful fuzzer) may call next with the thread id
        "ReadReview": {"operationId": "read_review", "parameters": {"thread_id": "$response.body#/thread_id"}},
        "DecideSuggestions": {"operationId": "post_decisions", "parameters": {"thread_id": "$response.body#/thread_id"}},
        "SignOff": {"operationId": "sign_off", "parameters": {"thread_id": "$response.body#/thread_id"}},
    }

    @api.post("/intake", response_model=IntakeOut, status_code=201, operation_id="intake",
              responses={201: {"description": "the review started", "links": review_links}, **_errors(413)},
              summary="an intake request with the counterparty's paper: routed, then reviewed up to the human checkpoint")
    async def intake(request: Request, paper: UploadFile = File(description="DOCX, PDF or text"),
                     requester: str | None = Form(None, max_length=120), supplier: str | None = Form(None, max_length=200),
                     category: str | None = Form(None, max_length=80), amount: str | None = Form(None, max_length=40),
                     currency: str | None = Form(None, max_length=8), purpose: str | None = Form(None, max_length=2000),
                     personal_data: bool = Form(False), security_relevant: bool = Form(False),
                     deadline: str | None = Form(None, max_length=10)) -> IntakeOut:
        reviewer = await run_in_threadpool(caller, request)
        fields = {"requester": requester or "", "supplier": supplier or "", "category": category or "",
                  "amount": amount or "", "currency": currency or "", "purpose": purpose or "",
                  "personal_data": "on" if personal_data else "", "security_relevant": "on" if security_relevant else "",
                  "deadline": deadline or ""}
        try:
            asked = intake_request(fields, reviewer.username)
        except ValueError as exc:
            raise ApiError(422, "invalid_request", " ".join(str(exc).split())[:300]) from None
        try:
            path = await store_upload(paper, config.data_dir, config.max_bytes)
        except UploadTooLarge as refused:
            raise ApiError(413, "too_large", str(refused)) from None
        try:
            status = await run_in_threadpool(service.start, path, config.data_dir / "out", request=asked)
        except DocumentError as exc:
            raise ApiError(422, "unreadable_paper", exc.reason) from None
        except ValueError as exc:
            raise ApiError(422, "invalid_request", " ".join(str(exc).split())[:300]) from None
        return IntakeOut(thread_id=status.thread_id, routed_to=status.profile.review_functions,
                         review=f"/api/v1/reviews/{status.thread_id}")

    # --- reviews ------------------------------------------------------------------------------------

    @api.get("/reviews", response_model=ReviewPage, operation_id="list_reviews", responses={200: {"description": "a page", "links": {
        "ReadFirstReview": {"operationId": "read_review", "parameters": {"thread_id": "$response.body#/items/0/thread_id"}}}},
        **_errors()})
    async def list_reviews(request: Request, page: int = Query(1, ge=1, le=100_000),
                           per_page: int = Query(50, ge=1, le=MAX_PER_PAGE)) -> ReviewPage:
        def answer():
            from graphs.review_index import QueueQuery

            reviewer = caller(request)
            service.catch_up_index()
            found = service.index.page(QueueQuery(status="all", page=page, per_page=per_page), visible_functions=reviewer.visible_functions)
            return ReviewPage(page=page, per_page=per_page, total=found.total, items=[
                ReviewRow(thread_id=r.thread_id, name=r.name, contract_type=r.contract_type, counterparty=r.counterparty,
                          risk=r.risk, status=r.status, pending=r.pending, version=r.version) for r in found.rows])
        return await run_in_threadpool(answer)

    @api.get("/reviews/{thread_id}", response_model=ReviewOut, operation_id="read_review",
             responses={200: {"description": "the review", "links": review_links}, **_errors(404)})
    async def read_review(request: Request, thread_id: str) -> ReviewOut:
        reviewer = await run_in_threadpool(caller, request)
        return as_out(await run_in_threadpool(visible, reviewer, thread_id))

    @api.post("/reviews/{thread_id}/decisions", response_model=ReviewOut, operation_id="post_decisions",
              responses=_errors(403, 404, 409))
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
                                      comment=asked.comment, authenticated_by="api token",
                                      escalate_to=asked.escalate_to if asked.action == "escalate" else None))
        try:
            after = service.decide(thread_id, decisions, expected_version=body.expected_version)
        except StaleDecision as stale:
            raise ApiError(409, "stale_version", str(stale)) from stale
        except ValueError as refused:  # signed off, a conflicting edit: nothing was saved
            raise ApiError(409, "refused", str(refused)) from refused
        return as_out(after)

    @api.post("/reviews/{thread_id}/sign-off", response_model=ReviewOut, operation_id="sign_off",
              responses=_errors(403, 404, 409))
    async def sign_off(request: Request, thread_id: str, body: SignOffIn) -> ReviewOut:
        """Sign off at the version read: the next step of a sequential sign-off, or the last one, which finalises."""
        reviewer = await run_in_threadpool(caller, request)

        def sign() -> ReviewOut:
            visible(reviewer, thread_id)
            if not reviewer.may_sign_off:
                raise ApiError(403, "no_sign_off_role", "signing off needs the sign-off role")
            try:
                return as_out(service.finalise(thread_id, reviewer.username, expected_version=body.expected_version,
                                               signer_functions=reviewer.functions, authenticated_by="api token"))
            except SignOffStepRefused as refused:
                raise ApiError(403, "not_your_function", str(refused)) from None
            except StaleDecision as stale:
                raise ApiError(409, "stale_version", str(stale)) from None
            except (AlreadySignedOff, UndecidedSuggestions, OpenEscalations, ValueError) as refused:
                raise ApiError(409, "refused", " ".join(str(refused).split())[:400]) from None
        return await run_in_threadpool(sign)

    @api.get("/reviews/{thread_id}/outputs/{kind}", responses={200: {"content": {m: {} for m in _MEDIA.values()},
                                                                     "description": "the file"}, **_errors(404)},
             response_class=FileResponse)
    async def download(request: Request, thread_id: str, kind: OutputKind):
        reviewer = await run_in_threadpool(caller, request)
        status = await run_in_threadpool(visible, reviewer, thread_id)
        path = await run_in_threadpool(_output_path, status, kind, service.blobs)
        if path is None:
            raise ApiError(404, "not_finalised" if not status.finalised else "not_found",
                           f"{thread_id} has no {kind} yet" + ("" if status.finalised else " (not finalised)"))
        return FileResponse(path, media_type=_MEDIA[kind], filename=path.name)

    # --- the repository -----------------------------------------------------------------------------

    @api.get("/renewals", response_model=RenewalPage, responses=_errors(403))
    async def renewals(request: Request, within_days: int = Query(90, ge=0, le=3660), page: int = Query(1, ge=1, le=100_000),
                       per_page: int = Query(50, ge=1, le=MAX_PER_PAGE)) -> RenewalPage:
        def answer():
            reviewer = portfolio_reader(request)
            repository = portfolio()
            hide = hidden_contracts(reviewer, repository)
            items = [RenewalOut(contract_id=c.contract_id, name=c.name, counterparty=c.counterparty,
                                notice_deadline=c.notice_deadline.isoformat() if c.notice_deadline else None,
                                days_left=(c.notice_deadline - today).days if c.notice_deadline else None,
                                term_end=c.term_end.isoformat() if c.term_end else None, auto_renews=bool(c.auto_renews))
                     for c in repository.renewals(today, within_days) if c.contract_id not in hide]
            return RenewalPage(**paged(page, per_page, items))
        return await run_in_threadpool(answer)

    @api.get("/obligations", response_model=ObligationPage, responses=_errors(403))
    async def obligations(request: Request, status: str = Query("open", pattern="^(open|done|missed|all)$"),
                          due_within_days: int = Query(30, ge=1, le=3660), page: int = Query(1, ge=1, le=100_000),
                          per_page: int = Query(50, ge=1, le=MAX_PER_PAGE)) -> ObligationPage:
        def answer():
            reviewer = portfolio_reader(request)
            repository = portfolio()
            found = repository.obligations(today, status=None if status == "all" else status,
                                            due_before=today + timedelta(days=due_within_days) if status == "open" else None,
                                            in_force_only=status == "open")
            hide = hidden_contracts(reviewer, repository)
            items = [ObligationOut(obligation_id=o.obligation_id, contract_id=o.contract_id, contract=name, kind=o.kind,
                                   owner_side=o.owner_side, summary=o.summary,
                                   citation=CitedSpan(start=o.citation.start, end=o.citation.end, quote=o.citation.quote),
                                   due_date=o.due_date.isoformat() if o.due_date else None, recurrence=o.recurrence,
                                   status=o.status) for o, name in found if o.contract_id not in hide]
            return ObligationPage(**paged(page, per_page, items))
        return await run_in_threadpool(answer)

    @api.post("/obligations/{obligation_id}/mark", response_model=ObligationOut, responses=_errors(403, 404))
    async def mark(request: Request, obligation_id: str, body: MarkIn) -> ObligationOut:
        def answer():
            reviewer = portfolio_reader(request)
            repository = portfolio()
            if repository.obligation_contract(obligation_id) in hidden_contracts(reviewer, repository):
                raise ApiError(404, "not_found", f"no obligation {obligation_id!r}")
            try:
                due = date.fromisoformat(body.due) if body.due else None
                marked = repository.mark_obligation(obligation_id, body.status, reviewer.username,
                                                    (body.note or "").strip() or None, today=today, due=due)
            except KeyError:
                raise ApiError(404, "not_found", f"no obligation {obligation_id!r}") from None
            except ValueError as exc:
                raise ApiError(422, "invalid_request", str(exc)) from None
            contract = repository.contract(marked.contract_id, with_clauses=False)
            return ObligationOut(obligation_id=marked.obligation_id, contract_id=marked.contract_id,
                                 contract=contract.name if contract else "", kind=marked.kind, owner_side=marked.owner_side,
                                 summary=marked.summary, citation=CitedSpan(start=marked.citation.start,
                                 end=marked.citation.end, quote=marked.citation.quote),
                                 due_date=marked.due_date.isoformat() if marked.due_date else None,
                                 recurrence=marked.recurrence, status=marked.status)
        return await run_in_threadpool(answer)

    @api.get("/search", response_model=SearchOut, responses=_errors(403))
    async def search(request: Request, q: str = Query(min_length=1, max_length=300), meaning: bool = False,
                     page: int = Query(1, ge=1, le=100_000), per_page: int = Query(20, ge=1, le=MAX_PER_PAGE)) -> SearchOut:
        """The repository's search: filters (a type, 'renewing next quarter', 'governed by New York law', 'over $100k')
        and words found in the clauses, or by meaning where no clause has every word."""
        def answer():
            from portfolio.search import find_contracts, parse_query

            reviewer = portfolio_reader(request)
            query = parse_query(q, today)
            repository = portfolio()
            hits, by_meaning = find_contracts(repository, vectors(), query, today, meaning=meaning)
            hide = hidden_contracts(reviewer, repository)
            items = [ContractHitOut(contract_id=h.contract.contract_id, name=h.contract.name, thread_id=h.contract.thread_id,
                                    counterparty=h.contract.counterparty, contract_type=h.contract.contract_type,
                                    status=h.contract.status, category=h.category, snippet=h.snippet, similarity=h.similarity)
                     for h in hits if h.contract.contract_id not in hide]
            start = (page - 1) * per_page
            return SearchOut(query=q, by_meaning=by_meaning, total=len(items), items=items[start:start + per_page])
        return await run_in_threadpool(answer)

    opened: dict = {}

    def vectors():
        if "vectors" not in opened:
            from portfolio.clause_vectors import ClauseVectors

            opened["vectors"] = ClauseVectors(config.data_dir / "portfolio_chroma")
        return opened["vectors"]

    return api


def _has_output(status: ReviewStatus, kind: str, blobs) -> bool:
    """Whether the review has that download, here or in the shared database (listing it fetches nothing)."""
    if not status.outputs:
        return False
    if kind == "execution_pdf":
        return execution_pdf_path(status).is_file()
    return bool(status.outputs.get(kind)) and blobs.has_output(status.thread_id, Path(status.outputs[kind]))


def _output_path(status: ReviewStatus, kind: str, blobs) -> Path | None:
    """A finalised review's file of that kind, on this machine or fetched from the shared database (the execution PDF
    once `execute` made it, on this machine)."""
    if not status.outputs:
        return None
    if kind == "execution_pdf":
        path = execution_pdf_path(status)
        return path if path.is_file() else None
    if not status.outputs.get(kind):
        return None
    return blobs.output_file(status.thread_id, Path(status.outputs[kind]))
