"""The reviewer web page: a queue, a contract page with highlighted findings and a decision form per suggestion,
a confirmation page for finalising, and downloads. Server-rendered (FastAPI + Jinja2) over the same durable state
as the CLI: decisions go through ReviewService into the decision log (one commit each, with the version the
reviewer saw), and blocking work (scrypt, SQLite, writing the DOCX) runs in the thread pool, off the event loop.
"""

from __future__ import annotations

import hmac
import html
import os
import sqlite3
import re
import secrets
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import quote as urllib_quote

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from agents.schema import Decision, Suggestion
from graphs.audit_log import AlreadySignedOff, DatabaseBusy, StaleDecision
from graphs.database import DatabaseUnreachable
from graphs.configuration import ReviewConfig
from graphs.finalization import OpenEscalations, UndecidedSuggestions
from graphs.locks import ReviewBusy
from graphs.review_index import SORTS, QueueQuery
from graphs.review_service import ReviewNotFound, ReviewService, ReviewStatus, SignOffStepRefused
from portfolio.review_sync import SyncedRepository
from web_app.api import api_app, api_error_response
from web_app.accounts import FUNCTIONS, THROTTLE_WINDOW, Accounts, Reviewer, owner_function, owners_of
from web_app.intake_pages import UPLOAD_PATHS, add_intake_routes
from web_app.messages import MessageSigner
from web_app.portfolio_pages import add_portfolio_routes, renewals_with_leverage
from web_app.preview import PreviewUnavailable, redline_preview

SESSION_COOKIE = "clauseflow_session"
LOGIN_CSRF_COOKIE = "clauseflow_login"
MAX_FORM_BYTES = 256 * 1024  # the largest form is a decision with the reviewer's own clause text
_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape())
_DOWNLOADS = {"redlined_docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "report_md": "text/markdown; charset=utf-8", "report_json": "application/json"}


def app_from_environment() -> FastAPI:
    """The app as one of several worker processes builds it (`app.py serve --workers N`): configured from the
    environment the parent set, since uvicorn starts workers by importing this factory."""
    config = ReviewConfig.from_env()
    return create_app(config, secure_cookies=os.environ.get("CLAUSEFLOW_SECURE_COOKIES") == "1")


def create_app(config: ReviewConfig, service: ReviewService | None = None, *, secure_cookies: bool = False) -> FastAPI:
    service = service or ReviewService(config)
    accounts = Accounts(config.audit_store)
    messages = MessageSigner(config.data_dir)
    app = FastAPI(title="Clauseflow", docs_url=None, redoc_url=None, openapi_url=None)

    def page(name: str, status_code: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(_templates.get_template(name).render(**context), status_code=status_code)

    portfolio = SyncedRepository(service)
    app.mount("/api/v1", api_app(service, accounts, portfolio, config.today))  # JSON, personal API tokens (web_app/api.py)

    def portfolio_renewals(reviewer: Reviewer, within: int) -> HTMLResponse:
        hide = service.index.hidden_from(reviewer.visible_functions)  # the repository pages' rule (portfolio_pages)
        rows = [row for row in renewals_with_leverage(portfolio(), config.today, within) if row[0].thread_id not in hide]
        return page("renewals_portfolio.html", reviewer=reviewer, rows=rows, within=within, today=config.today,
                    quote=lambda text, safe="": urllib_quote(text, safe=safe))

    def current(request: Request) -> Reviewer | None:
        return accounts.reviewer_for(request.cookies.get(SESSION_COOKIE))

    def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, httponly=True, samesite="strict", max_age=max_age, secure=secure_cookies)

    async def fields_of(request: Request) -> dict[str, str]:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise HTTPException(413, "the form is too large")
        return {k: v[0] for k, v in parse_qs(bytes(body).decode("utf-8", "replace"), keep_blank_values=True).items()}

    async def form_of(request: Request, reviewer: Reviewer) -> dict[str, str]:
        fields = await fields_of(request)
        if not fields.get("csrf") or not hmac.compare_digest(fields["csrf"], reviewer.csrf):
            raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the page")
        return fields

    async def posted(request: Request, thread_id: str, handler) -> Response:
        """A form posted on a review: logged in, CSRF-checked, then handled in the thread pool (SQLite, DOCX)."""
        reviewer = await run_in_threadpool(current, request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        try:
            fields = await form_of(request, reviewer)
        except HTTPException as refused:
            if refused.status_code != 403:
                raise
            # a page from an earlier session (logged in again, perhaps in another tab): back to the page, fresh
            return await run_in_threadpool(contract_page, reviewer, thread_id, "Not saved: this page was opened in an "
                                           "earlier session (you logged in again since, perhaps in another tab). The page "
                                           "below is current; repeat what you meant to do.", 403)
        return await run_in_threadpool(handler, reviewer, thread_id, fields)

    def visible_status(reviewer: Reviewer, thread_id: str) -> ReviewStatus:
        """The review, or 404 - also when it exists but is not routed to the reviewer (no hint that it exists)."""
        status = _status_or_404(service, thread_id)
        if not reviewer.sees(status.profile.review_functions, owners_of(status)):
            raise HTTPException(404, f"no review with thread id {thread_id!r}")
        return status

    @app.middleware("http")
    async def limits_and_headers(request: Request, call_next):
        length = request.headers.get("content-length")
        limit = config.max_bytes + MAX_FORM_BYTES if UPLOAD_PATHS.match(request.url.path) else MAX_FORM_BYTES
        if length and (not length.isdigit() or int(length) > limit):
            if request.url.path.startswith("/api/"):
                return api_error_response(413, "too_large", f"the request body is over {limit:,} bytes")
            return Response("request body too large", status_code=413, media_type="text/plain")
        response = await call_next(request)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        """Errors as a readable page (a CSRF failure after logging in again in another tab is not raw JSON); under
        /api/ (a path the API's mount cannot take, such as one with a line break) the API's JSON error."""
        if request.url.path.startswith("/api/"):
            return api_error_response(exc.status_code, "not_found" if exc.status_code == 404 else "invalid_request",
                                      "no such resource" if exc.status_code == 404 else str(exc.detail))
        reviewer = await run_in_threadpool(current, request)
        return page("error.html", status_code=exc.status_code, reviewer=reviewer, message=exc.detail, code=exc.status_code)

    @app.exception_handler(DatabaseUnreachable)
    async def unreachable(request: Request, exc: Exception):
        """The database is down or restarting: a 503 that says nothing was saved, on every route."""
        if request.url.path.startswith("/api/"):
            return api_error_response(503, "unavailable", str(exc), {"Retry-After": "5"})
        response = page("error.html", status_code=503, reviewer=None, code=503,
                        message=f"The database cannot be reached; nothing was saved. Try again in a moment. ({exc})")
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(DatabaseBusy)
    @app.exception_handler(ReviewBusy)
    async def busy(request: Request, exc: Exception):
        """A locked database on any route (login, logout, assign, a page): a 503 page that says to try again; nothing
        was written. Who is logged in is not looked up: that would wait on the same lock."""
        response = page("error.html", status_code=503, reviewer=None, code=503,
                        message=f"The database is busy; nothing was saved. Try again in a moment. ({exc})")
        response.headers["Retry-After"] = "2"
        return response

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request):
        token = secrets.token_urlsafe(32)
        response = page("login.html", error=None, login_csrf=token)
        set_cookie(response, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response

    @app.post("/login")
    async def login(request: Request):
        fields = await fields_of(request)
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        if not cookie or not hmac.compare_digest(fields.get("csrf", ""), cookie):
            raise HTTPException(403, "the login form expired; reload the page and log in again")
        client = request.client.host if request.client else "unknown"
        result = await run_in_threadpool(accounts.log_in, fields.get("username", "")[:200], fields.get("password", ""),
                                         client=client)
        if result.token is None:
            token = secrets.token_urlsafe(32)
            message = ("Too many failed attempts. Logging in is blocked for this user name or address for "
                       f"{THROTTLE_WINDOW.seconds // 60} minutes.") if result.locked else "Wrong user name or password."
            response = page("login.html", status_code=429 if result.locked else 401, error=message, login_csrf=token)
            set_cookie(response, LOGIN_CSRF_COOKIE, token, max_age=3600)
            return response
        response = RedirectResponse("/", status_code=303)
        set_cookie(response, SESSION_COOKIE, result.token, max_age=12 * 3600)
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout")
    async def logout(request: Request):
        reviewer = await run_in_threadpool(current, request)
        if reviewer:
            await form_of(request, reviewer)
            await run_in_threadpool(accounts.log_out, request.cookies[SESSION_COOKIE])
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/", response_class=HTMLResponse)
    def queue(request: Request, status: str = "open", function: str | None = None, risk: str | None = None,
              type: str | None = None, q: str | None = None, mine: str | None = None, sort: str = "risk",
              page_number: int = Query(default=1, alias="page")):
        """One page of the review index (never the checkpoints), filtered and sorted in SQL."""
        reviewer = current(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        service.catch_up_index()  # rows a killed or kept-waiting process left missing or behind the decision log
        try:
            query = QueueQuery(status=status, function=function or None, risk=risk or None, contract_type=type or None,
                               search=(q or "").strip() or None, assigned_to=reviewer.username if mine else None,
                               sort=sort if sort in SORTS else "risk", page=max(page_number, 1))
        except ValueError:
            raise HTTPException(400, "That filter is not one the queue knows; clear the filters and try again.")
        result = service.index.page(query, visible_functions=reviewer.visible_functions)
        return page("queue.html", reviewer=reviewer, result=result, functions=FUNCTIONS, sorts=list(SORTS),
                    waiting=service.index.waiting_for(reviewer.username), filters=request.query_params)

    @app.get("/search", response_class=HTMLResponse)
    def search(request: Request, q: str = "", type: str | None = None, risk: str | None = None):
        """Full-text search over the extracted clauses of the contracts the reader can see."""
        reviewer = current(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        try:
            query = QueueQuery(status="all", contract_type=type or None, risk=risk or None)
        except ValueError:
            raise HTTPException(400, "That filter is not one the search knows; clear it and try again.")
        hits = service.index.search(q[:200], query, visible_functions=reviewer.visible_functions) if q.strip() else []
        return page("search.html", reviewer=reviewer, hits=hits, q=q[:200], query=query)

    @app.get("/renewals", response_class=HTMLResponse)
    def renewals(request: Request, within: int = 90):
        """Notice deadlines across the contracts the reader can see, soonest first (missed ones in the last 30 days too)."""
        reviewer = current(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        within = min(max(within, 1), 3660)
        if reviewer.sees_portfolio:  # the whole repository (imported executed contracts too), with leverage briefs
            return portfolio_renewals(reviewer, within)
        service.catch_up_index()
        rows = service.index.renewals(today=service.config.today, within_days=within,
                                      visible_functions=reviewer.visible_functions)
        dated = [(row, (date.fromisoformat(row.notice_deadline) - service.config.today).days) for row in rows]
        return page("renewals.html", reviewer=reviewer, rows=dated, within=within, today=service.config.today)

    @app.post("/reviews/{thread_id}/assign")
    async def assign(request: Request, thread_id: str):
        return await posted(request, thread_id, assign_review)

    def assign_review(reviewer: Reviewer, thread_id: str, fields: dict[str, str]) -> Response:
        status = visible_status(reviewer, thread_id)
        assignee = (fields.get("assignee") or "").strip() or None
        target = accounts.user(assignee) if assignee else None
        if assignee and (target is None or not target.sees(status.profile.review_functions, owners_of(status))):
            return back(reviewer, thread_id, f"Not assigned: {assignee} is not a reviewer who can see this contract.")
        service.index.assign(thread_id, assignee)
        service.audit.record_event("assigned", reviewer.username, thread_id=thread_id,
                                   detail=f"to {assignee}" if assignee else "unassigned")
        return RedirectResponse(f"/reviews/{thread_id}", status_code=303)

    def next_for(reviewer: Reviewer, thread_id: str) -> str | None:
        """The next contract in the reader's queue with something pending (risk first, as the queue sorts)."""
        rows = service.index.page(QueueQuery(status="awaiting review", per_page=20), visible_functions=reviewer.visible_functions).rows
        return next((r.thread_id for r in rows if r.thread_id != thread_id and r.pending), None)

    def contract_page(reviewer: Reviewer, thread_id: str, error: str | None, status_code: int = 200,
                      notice: str | None = None) -> HTMLResponse:
        status = visible_status(reviewer, thread_id)
        items = [{"s": s, "owner": owner_function(s, status.decisions.get(s.id)), "diff": Markup(render_diff(status, s)),
                  "library": service.engine.library.get(s.category).approved_clause if s.category in service.engine.library.categories else None,
                  "decision": status.decisions.get(s.id)} for s in status.redlines.suggestions]
        rounds = service.rounds(thread_id) if status.round_of else None
        mine = [i["s"].id for i in items if not i["decision"] and reviewer.may_decide(i["owner"])]
        return page("contract.html", status_code=status_code, reviewer=reviewer, status=status, items=items, error=error,
                    notice=notice, mine_pending=mine, next_contract=next_for(reviewer, thread_id),
                    rounds=rounds, visible_ids={i["s"].id for i in items},
                    text=Markup(highlighted_text(status)), functions=FUNCTIONS, bulk=len(bulk_approvable(status, reviewer)),
                    assigned_to=service.index.assigned_to(thread_id),
                    reviewers=[r.username for r in accounts.users() if r.sees(status.profile.review_functions, owners_of(status))])

    def back(reviewer: Reviewer, thread_id: str, error: str) -> RedirectResponse:
        """To the contract page with a refusal the page shows (signed: see web_app/messages.py)."""
        return RedirectResponse(messages.url(f"/reviews/{thread_id}", reviewer.username, error=error), status_code=303)

    @app.get("/reviews/{thread_id}", response_class=HTMLResponse)
    def contract(request: Request, thread_id: str, error: str | None = None, notice: str | None = None,
                 sig: str | None = None):
        reviewer = current(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        path = f"/reviews/{thread_id}"  # only the server's own messages, written for this reviewer, are shown
        return contract_page(reviewer, thread_id, messages.verified(path, reviewer.username, "error", error, sig),
                             notice=messages.verified(path, reviewer.username, "notice", notice, sig))

    @app.post("/reviews/{thread_id}/decide")
    async def decide(request: Request, thread_id: str):
        return await posted(request, thread_id, record_decision)

    def record_decision(reviewer: Reviewer, thread_id: str, fields: dict[str, str]) -> Response:
        status = visible_status(reviewer, thread_id)
        suggestion = next((s for s in status.redlines.suggestions if s.id == fields.get("suggestion_id")), None)
        if suggestion is None:
            raise HTTPException(404, "no such suggestion")
        owner = owner_function(suggestion, status.decisions.get(suggestion.id))
        if not reviewer.may_decide(owner):
            raise HTTPException(403, f"{suggestion.id} is for {owner}; you review for {', '.join(reviewer.functions)}")
        action = fields.get("action")
        if action == "fallback":
            try:
                fallback = service.fallback_decision(status, suggestion.id, reviewer.username,
                                                     (fields.get("comment") or "").strip() or None)
            except ValueError as refused:
                return back(reviewer, thread_id, str(refused))
            return save_decision(reviewer, thread_id, suggestion.id, fallback, fields.get("version", ""))
        if action not in {"approve", "modify", "reject", "escalate"}:
            return back(reviewer, thread_id, "Choose Approve, Modify, Reject or Escalate; nothing was recorded.")
        text = (fields.get("modified_text") or "").strip() or None
        if action == "approve" and suggestion.kind != "flag" and text and text != (suggestion.proposed_text or "").strip():
            action = "modify"  # the reviewer edited the text and pressed Approve: their text is what they approved
        if action == "modify" and not text:
            return back(reviewer, thread_id, "Modify needs the new text.")
        escalate_to = fields.get("escalate_to") if fields.get("escalate_to") in FUNCTIONS else None  # else the playbook's
        decision = Decision(suggestion_id=suggestion.id, action=action, reviewer=reviewer.username,
                            decided_at=datetime.now(timezone.utc), modified_text=text if action == "modify" else None,
                            comment=(fields.get("comment") or "").strip() or None,
                            escalate_to=escalate_to if action == "escalate" else None)
        return save_decision(reviewer, thread_id, suggestion.id, decision, fields.get("version", ""))

    def save_decision(reviewer: Reviewer, thread_id: str, suggestion_id: str | None, decision: Decision | list[Decision],
                      version: str) -> Response:
        """Log the decision(s) in one commit and go back to the page (at the suggestion, when there is one)."""
        decisions = [d.model_copy(update={"authenticated_by": "web session"})
                     for d in (decision if isinstance(decision, list) else [decision])]
        try:
            service.decide(thread_id, decisions, expected_version=int(version) if version.isdigit() else None)
        except StaleDecision as stale:
            return contract_page(reviewer, thread_id, f"Not saved: {stale}", status_code=409)
        except (DatabaseBusy, ReviewBusy) as busy:
            return contract_page(reviewer, thread_id, f"Not saved: {busy}", status_code=503)
        except ValueError as refused:
            return back(reviewer, thread_id, str(refused))
        return RedirectResponse(f"/reviews/{thread_id}" + (f"#{suggestion_id}" if suggestion_id else ""), status_code=303)

    @app.post("/reviews/{thread_id}/our-party")
    async def our_party(request: Request, thread_id: str):
        return await posted(request, thread_id, answer_our_party)

    def answer_our_party(reviewer: Reviewer, thread_id: str, fields: dict[str, str]) -> Response:
        """The answer to "Which party are we?", from a reviewer who may decide the side question (Legal's flag)."""
        status = visible_status(reviewer, thread_id)
        if not reviewer.may_decide("legal"):
            raise HTTPException(403, f"which party we are is Legal's question; you review for {', '.join(reviewer.functions)}")
        side = fields.get("side") if fields.get("side") in ("customer", "supplier") else None
        try:
            answer = service.set_our_party(status.thread_id, fields.get("party") or "", reviewer.username, side=side)
        except (DatabaseBusy, ReviewBusy) as busy:
            return contract_page(reviewer, thread_id, f"Not saved: {busy}", status_code=503)
        except ValueError as refused:
            return back(reviewer, thread_id, f"Not saved: {refused}")
        note = f"Saved: we are {answer.party}, our side {answer.side}; the side-dependent checks ran again."
        if answer.superseded:
            note += f" No longer apply (their suggestions changed): {', '.join(answer.superseded)}."
        return RedirectResponse(messages.url(f"/reviews/{thread_id}", reviewer.username, notice=note), status_code=303)

    @app.post("/reviews/{thread_id}/comment")
    async def comment(request: Request, thread_id: str):
        return await posted(request, thread_id, add_comment)

    def add_comment(reviewer: Reviewer, thread_id: str, fields: dict[str, str]) -> Response:
        visible_status(reviewer, thread_id)
        suggestion_id = fields.get("suggestion_id", "")
        try:
            service.comment(thread_id, suggestion_id, reviewer.username, fields.get("text") or "")
        except (ValueError, AlreadySignedOff) as refused:
            return back(reviewer, thread_id, f"Comment not saved: {refused}")
        except (DatabaseBusy, ReviewBusy) as busy:
            return contract_page(reviewer, thread_id, f"Comment not saved: {busy}", status_code=503)
        return RedirectResponse(f"/reviews/{thread_id}#{suggestion_id}", status_code=303)

    @app.get("/reviews/{thread_id}/finalise", response_class=HTMLResponse)
    def confirm_finalise(request: Request, thread_id: str):
        """What finalising will write, decision by decision, with a confirm button."""
        reviewer = current(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        status = visible_status(reviewer, thread_id)
        problems = []
        if not reviewer.may_sign_off:
            problems.append("You do not hold the sign-off role; a reviewer with it must finalise.")
        elif status.next_sign_off_step and status.next_sign_off_step not in reviewer.functions:
            problems.append(f"The next sign-off is {status.next_sign_off_step}'s; you sign for {', '.join(reviewer.functions)}.")
        if status.pending:
            problems.append(f"Undecided: {', '.join(status.pending)}.")
        if status.escalated:
            problems.append(f"Escalated and not yet decided by the function it went to: {', '.join(status.escalated)}.")
        items = [{"s": s, "decision": status.decisions.get(s.id), "diff": Markup(render_diff(status, s))}
                 for s in status.redlines.suggestions]
        return page("finalise.html", reviewer=reviewer, status=status, items=items, problems=problems)

    @app.post("/reviews/{thread_id}/finalise")
    async def finalise(request: Request, thread_id: str):
        return await posted(request, thread_id, sign_off)

    def sign_off(reviewer: Reviewer, thread_id: str, fields: dict[str, str]) -> Response:
        status = visible_status(reviewer, thread_id)
        if not reviewer.may_sign_off:
            raise HTTPException(403, "finalising needs the sign-off role (python app.py user add NAME --roles sign-off)")
        if status.pending:
            return back(reviewer, thread_id, f"Decide every suggestion first ({', '.join(status.pending)} pending).")
        version = fields.get("version", "")
        try:
            signed = service.finalise(thread_id, reviewer.username, signer_functions=reviewer.functions, authenticated_by="web session",
                                      expected_version=int(version) if version.isdigit() else status.version)
        except SignOffStepRefused as refused:
            return contract_page(reviewer, thread_id, f"Not signed: {refused}", status_code=403)
        except StaleDecision as stale:
            return contract_page(reviewer, thread_id, f"Not finalised: {stale}", status_code=409)
        except (DatabaseBusy, ReviewBusy) as busy:
            return contract_page(reviewer, thread_id, f"Not finalised: {busy}", status_code=503)
        except sqlite3.OperationalError as locked:  # the checkpoint database, held by a batch or another server
            return contract_page(reviewer, thread_id, "Signed off; writing the redline waits on a busy database and "
                                 f"will complete on the next page load ({locked}).", status_code=503)
        except (ValueError, UndecidedSuggestions, OpenEscalations) as refused:
            return back(reviewer, thread_id, _readable_conflict(str(refused), status))
        if not signed.finalised:  # a step of a sequential sign-off: the next function signs
            return back(reviewer, thread_id, f"Signed for {signed.signed_steps[-1].function}; {signed.next_sign_off_step} signs next.")
        return RedirectResponse(f"/reviews/{thread_id}", status_code=303)

    @app.get("/reviews/{thread_id}/download/{kind}")
    def download(request: Request, thread_id: str, kind: str):
        reviewer = current(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        status = visible_status(reviewer, thread_id)
        if kind not in _DOWNLOADS or not status.outputs:
            raise HTTPException(404, "not finalised yet" if kind in _DOWNLOADS else "no such download")
        path = service.blobs.output_file(thread_id, Path(status.outputs[kind]))  # from the database on any machine
        if path is None:
            raise HTTPException(404, "the file is on neither this machine nor the shared database")
        return FileResponse(path, media_type=_DOWNLOADS[kind], filename=path.name)

    @app.get("/reviews/{thread_id}/preview", response_class=HTMLResponse)
    def preview(request: Request, thread_id: str):
        """The redlined document as it will be written, before finalising; and the changed paragraphs side by side."""
        reviewer = current(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        status = visible_status(reviewer, thread_id)
        try:
            shown, problem = redline_preview(status), None
        except PreviewUnavailable as why:
            shown, problem = None, _readable_conflict(str(why), status)
        return page("preview.html", reviewer=reviewer, status=status, preview=shown, problem=problem,
                    tracked=Markup(shown.tracked_html) if shown else None)

    @app.get("/static/review.js")
    def script() -> Response:
        return FileResponse(Path(__file__).parent / "static" / "review.js", media_type="text/javascript")

    @app.get("/reviews/{thread_id}/approve-low", response_class=HTMLResponse)
    def confirm_bulk(request: Request, thread_id: str):
        """The one confirmation before approving every low-severity suggestion that passed all checks."""
        reviewer = current(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        status = visible_status(reviewer, thread_id)
        items = [{"s": s, "diff": Markup(render_diff(status, s))} for s in bulk_approvable(status, reviewer)]
        return page("approve_low.html", reviewer=reviewer, status=status, items=items)

    @app.post("/reviews/{thread_id}/approve-low")
    async def bulk_approve(request: Request, thread_id: str):
        return await posted(request, thread_id, approve_low)

    def approve_low(reviewer: Reviewer, thread_id: str, fields: dict[str, str]) -> Response:
        status = visible_status(reviewer, thread_id)
        chosen = set((fields.get("ids") or "").split(","))
        eligible = [s for s in bulk_approvable(status, reviewer) if s.id in chosen]  # what the reviewer confirmed, still eligible
        if not eligible:
            return back(reviewer, thread_id, "Nothing was approved: no low-severity suggestion you confirmed is still pending.")
        now = datetime.now(timezone.utc)
        decisions = [Decision(suggestion_id=s.id, action="approve", reviewer=reviewer.username, decided_at=now,
                              comment="approved in bulk (low severity, every check passed)") for s in eligible]
        return save_decision(reviewer, thread_id, None, decisions, fields.get("version", ""))

    @app.get("/health")
    def health() -> Response:
        """Liveness: the process answers (the pid tells the workers apart). Whether it can serve is /ready."""
        return Response(f"ok {os.getpid()}", media_type="text/plain")

    @app.get("/ready")
    def ready() -> Response:
        """Readiness: the database answers a read, the clause store is indexed with this library, the library loads.
        503 with the reason of each that does not, for a load balancer to route around this worker."""
        import json

        def clause_store() -> None:
            if not service.engine.store.is_current(service.engine.library):
                raise RuntimeError("not indexed with this library; run app.py library index")

        checks = {}
        for name, probe in (("database", lambda: service.audit.review("__ready__")), ("clause_store", clause_store),
                            ("clause_library", lambda: service.engine.library.categories)):
            try:
                probe()
                checks[name] = "ok"
            except Exception as exc:  # each check's own reason, one line
                checks[name] = " ".join(str(exc).split())[:200] or type(exc).__name__
        ok = all(v == "ok" for v in checks.values())
        return Response(json.dumps({"ready": ok, **checks}), status_code=200 if ok else 503, media_type="application/json")

    add_portfolio_routes(app, service, portfolio, page, current, fields_of)
    add_intake_routes(app, service, page, current, visible_status, back)
    return app


def bulk_approvable(status: ReviewStatus, reviewer: Reviewer) -> list[Suggestion]:
    """Pending, low or info severity, an edit or insertion in the playbook's own wording, re-checked (none withheld),
    not in text the other side changed, not escalated, and the reviewer's to decide."""
    if status.finalised or status.sign_off:
        return []
    withheld = {d.suggestion_id for d in status.redlines.dropped_edits}
    return [s for s in status.redlines.suggestions
            if s.id in status.pending and s.severity in ("low", "info") and s.kind in ("edit", "insert")
            and s.wording_by == "playbook" and not s.counterparty_change and s.id not in withheld
            and reviewer.may_decide(owner_function(s))]


def _readable_conflict(message: str, status: ReviewStatus) -> str:
    """A redline conflict names character offsets; say which suggestions touch them instead."""
    match = re.search(r"characters (\d+)-(\d+)", message)
    if not match:
        return message
    start, end = int(match.group(1)), int(match.group(2))
    touching = [s.id for s in status.redlines.suggestions
                if status.decisions.get(s.id) and status.decisions[s.id].action in ("approve", "modify")
                and s.citation.start <= end and start <= s.citation.end]
    return f"Approved changes {', '.join(touching) or '(unknown)'} touch the same words; reject or modify one of them."


def _status_or_404(service: ReviewService, thread_id: str) -> ReviewStatus:
    try:
        return service.status(thread_id)
    except ReviewNotFound as missing:
        raise HTTPException(404, str(missing)) from missing


def highlighted_text(status: ReviewStatus) -> str:
    """The contract text, escaped, with each suggestion's cited span in a <mark> linked to its card, and a label
    before each paragraph that is not body text ("[footnote 1]", "[comment 0 by …]") so it is not read as a clause."""
    text = status.document.text
    labels = {p.start: p.part for p in status.document.paragraphs if p.part != "body"}
    severity = {s.id: s.severity for s in status.redlines.suggestions}
    decided = {sid: f" decided decided-{d.action}" for sid, d in status.decisions.items()}  # marked in the pane too
    spans = sorted({(s.citation.start, s.citation.end, s.id) for s in status.redlines.suggestions})
    out, position = [], 0

    def plain(start: int, end: int) -> str:
        cuts = sorted({start, end, *(o for o in labels if start <= o < end)})
        return "".join((f'<span class="part">[{html.escape(labels[a])}]</span> ' if a in labels else "") + html.escape(text[a:b])
                       for a, b in zip(cuts, cuts[1:]))

    for start, end, sid in spans:
        if start < position:  # overlapping citations: the first keeps the highlight, the others get a marker after it
            out.append(f'<a class="cite-extra sev-{severity[sid]}" id="cite-{sid}" href="#{sid}" title="{sid} (overlaps)">'
                       f'{html.escape(sid)}</a>')
            continue
        out.append(plain(position, start))
        prefix = f'<span class="part">[{html.escape(labels[start])}]</span> ' if start in labels else ""
        how = f" · {status.decisions[sid].action} by {status.decisions[sid].reviewer}" if sid in status.decisions else " · undecided"
        out.append(f'{prefix}<mark id="cite-{sid}" class="sev-{severity[sid]}{decided.get(sid, "")}" title="{sid}{html.escape(how)}">'
                   f'<a href="#{sid}">{html.escape(text[start:end])}</a></mark>')
        position = end
    out.append(plain(position, len(text)))
    return "".join(out)


def render_diff(status: ReviewStatus, suggestion: Suggestion) -> str:
    """The proposed redline inside its citation: deletions struck through, insertions underlined."""
    if suggestion.kind == "insert":
        return f"<ins>{html.escape(suggestion.proposed_text or '')}</ins>"
    if suggestion.kind == "flag":
        return '<span class="flag">No automatic wording: negotiate.</span>'
    quote, base = suggestion.citation.quote, suggestion.citation.start
    out, position = [], 0
    for edit in sorted(suggestion.edits, key=lambda e: e.start):
        out.append(html.escape(quote[position : edit.start - base]))
        if edit.end > edit.start:
            out.append(f"<del>{html.escape(quote[edit.start - base : edit.end - base])}</del>")
        if edit.new_text:
            out.append(f"<ins>{html.escape(edit.new_text)}</ins>")
        position = edit.end - base
    out.append(html.escape(quote[position:]))
    return "".join(out)
