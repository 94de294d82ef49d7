"""The reviewer web page: a queue, a contract page with highlighted findings and a decision form per suggestion,
finalisation and downloads. Server-rendered (FastAPI + Jinja2) over the same durable state as the CLI:
decisions go through ReviewService, which resumes the LangGraph thread and appends to the audit log.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from agents.schema import Decision, Suggestion
from graphs.configuration import ReviewConfig
from graphs.review_service import ReviewNotFound, ReviewService, ReviewStatus
from web_app.accounts import FUNCTIONS, Accounts, Reviewer

SESSION_COOKIE = "clauseflow_session"
_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape())
_DOWNLOADS = {"redlined_docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "report_md": "text/markdown; charset=utf-8", "report_json": "application/json"}


def owner_function(suggestion: Suggestion) -> str:
    """The function that must decide a suggestion: the one the playbook escalates it to, else Legal."""
    return suggestion.escalate_to or "legal"


def create_app(config: ReviewConfig, service: ReviewService | None = None) -> FastAPI:
    service = service or ReviewService(config)
    accounts = Accounts(config.audit_path)
    app = FastAPI(title="Clauseflow", docs_url=None, redoc_url=None, openapi_url=None)

    def page(name: str, status_code: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(_templates.get_template(name).render(**context), status_code=status_code)

    def current(request: Request) -> Reviewer | None:
        return accounts.reviewer_for(request.cookies.get(SESSION_COOKIE))

    async def form_of(request: Request, reviewer: Reviewer) -> dict[str, str]:
        fields = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True).items()}
        if not fields.get("csrf") or fields["csrf"] != reviewer.csrf:
            raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the page")
        return fields

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request):
        return page("login.html", error=None)

    @app.post("/login")
    async def login(request: Request):
        fields = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8")).items()}
        token = accounts.log_in(fields.get("username", ""), fields.get("password", ""))
        if token is None:
            return page("login.html", status_code=401, error="Wrong user name or password.")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", max_age=12 * 3600)
        return response

    @app.post("/logout")
    async def logout(request: Request):
        reviewer = current(request)
        if reviewer:
            await form_of(request, reviewer)
            accounts.log_out(request.cookies[SESSION_COOKIE])
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/", response_class=HTMLResponse)
    def queue(request: Request, function: str | None = None):
        reviewer = current(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        rows = []
        now = datetime.now(timezone.utc)
        for review in service.audit.reviews():
            try:
                status = service.status(review["thread_id"])
            except ReviewNotFound:
                continue
            if function and function not in status.profile.review_functions:
                continue
            age = now - datetime.fromisoformat(review["created_at"])
            rows.append({"status": status, "created": review["created_at"], "age_days": age.days,
                         "findings": len(status.compliance.findings)})
        rows.sort(key=lambda r: (r["status"].finalised, ["critical", "high", "medium", "low"].index(r["status"].overall_risk)))
        return page("queue.html", reviewer=reviewer, rows=rows, functions=FUNCTIONS, selected=function)

    @app.get("/reviews/{thread_id}", response_class=HTMLResponse)
    def contract(request: Request, thread_id: str, error: str | None = None):
        reviewer = current(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        status = _status_or_404(service, thread_id)
        items = [{"s": s, "owner": owner_function(s), "diff": Markup(render_diff(status, s)),
                  "library": service.engine.store.approved_clause(s.category) if s.category in service.engine.library.categories else None,
                  "decision": status.decisions.get(s.id)} for s in status.redlines.suggestions]
        return page("contract.html", reviewer=reviewer, status=status, items=items, error=error,
                    text=Markup(highlighted_text(status)))

    @app.post("/reviews/{thread_id}/decide")
    async def decide(request: Request, thread_id: str):
        reviewer = current(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        fields = await form_of(request, reviewer)
        status = _status_or_404(service, thread_id)
        suggestion = next((s for s in status.redlines.suggestions if s.id == fields.get("suggestion_id")), None)
        if suggestion is None:
            raise HTTPException(404, "no such suggestion")
        if not reviewer.may_decide(owner_function(suggestion)):
            raise HTTPException(403, f"{suggestion.id} is for {owner_function(suggestion)}; you review for {', '.join(reviewer.functions)}")
        action = fields.get("action")
        text = (fields.get("modified_text") or "").strip() or None
        if action not in {"approve", "modify", "reject", "escalate"} or (action == "modify" and not text):
            return _back(thread_id, "Modify needs the new text." if action == "modify" else "Unknown action.")
        decision = Decision(suggestion_id=suggestion.id, action=action, reviewer=reviewer.username,
                            decided_at=datetime.now(timezone.utc), modified_text=text if action == "modify" else None,
                            comment=(fields.get("comment") or "").strip() or None)
        try:
            service.decide(thread_id, [decision])
        except ValueError as refused:
            return _back(thread_id, str(refused))
        return RedirectResponse(f"/reviews/{thread_id}#{suggestion.id}", status_code=303)

    @app.post("/reviews/{thread_id}/finalise")
    async def finalise(request: Request, thread_id: str):
        reviewer = current(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        await form_of(request, reviewer)
        status = _status_or_404(service, thread_id)
        if status.pending:
            return _back(thread_id, f"Decide every suggestion first ({', '.join(status.pending)} pending).")
        try:
            service.decide(thread_id, [], sign_off_by=reviewer.username)
        except ValueError as refused:
            return _back(thread_id, str(refused))
        return RedirectResponse(f"/reviews/{thread_id}", status_code=303)

    @app.get("/reviews/{thread_id}/download/{kind}")
    def download(request: Request, thread_id: str, kind: str):
        if current(request) is None:
            return RedirectResponse("/login", status_code=303)
        status = _status_or_404(service, thread_id)
        if kind not in _DOWNLOADS or not status.outputs:
            raise HTTPException(404, "not finalised yet" if kind in _DOWNLOADS else "no such download")
        path = Path(status.outputs[kind])
        return FileResponse(path, media_type=_DOWNLOADS[kind], filename=path.name)

    @app.get("/health")
    def health() -> Response:
        return Response("ok", media_type="text/plain")

    return app


def _status_or_404(service: ReviewService, thread_id: str) -> ReviewStatus:
    try:
        return service.status(thread_id)
    except ReviewNotFound as missing:
        raise HTTPException(404, str(missing)) from missing


def _back(thread_id: str, error: str) -> RedirectResponse:
    from urllib.parse import quote

    return RedirectResponse(f"/reviews/{thread_id}?error={quote(error)}", status_code=303)


def highlighted_text(status: ReviewStatus) -> str:
    """The contract text, escaped, with each suggestion's cited span in a <mark> linked to its card."""
    text = status.document.text
    spans = sorted({(s.citation.start, s.citation.end, s.id) for s in status.redlines.suggestions})
    out, position = [], 0
    for start, end, sid in spans:
        if start < position:  # overlapping citations: the first one keeps the highlight
            continue
        out.append(html.escape(text[position:start]))
        out.append(f'<mark id="cite-{sid}" title="{sid}"><a href="#{sid}">{html.escape(text[start:end])}</a></mark>')
        position = end
    out.append(html.escape(text[position:]))
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
