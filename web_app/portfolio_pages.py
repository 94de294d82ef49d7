"""The repository's web pages: a portfolio dashboard, contract search, a page per counterparty (contracts, spend by
month against contract value, flags, service levels, obligations), obligations with done / missed, and the
notice-deadline calendar. For readers in legal, procurement or finance (or with the all-contracts role)."""

from __future__ import annotations

import hmac
import re
from datetime import date, timedelta
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from graphs.review_service import ReviewService
from portfolio.alerts import notice_calendar
from portfolio.repository import Repository
from portfolio.review_sync import SyncedRepository
from portfolio.spend import REPORTING_CURRENCY
from portfolio.clause_vectors import ClauseVectors
from portfolio.leverage import leverage_brief
from portfolio.search import find_contracts, parse_query
from portfolio.views import counterparty, dashboard
from web_app.plots import service_levels, spend_against_contract


def renewals_with_leverage(repository: Repository, today, within_days: int) -> list[tuple]:
    """(contract, days left, leverage brief) for every notice deadline in the window, soonest first."""
    return [(c, (c.notice_deadline - today).days, leverage_brief(repository, c, today))
            for c in repository.renewals(today, within_days)]


def add_portfolio_routes(app: FastAPI, service: ReviewService, repository: SyncedRepository, page, current,
                         fields_of) -> None:
    """`repository()`: the server's one repository, with the reviews that changed filed first."""
    config = service.config

    def reader(request: Request):
        reviewer = current(request)
        if reviewer is not None and not reviewer.sees_portfolio:
            raise HTTPException(403, "The contract repository is for legal, procurement and finance; ask for the "
                                "all-contracts role if you need it.")
        return reviewer

    def hidden(reviewer) -> set[str]:
        """One visibility rule with the review pages: a contract filed from a review is in the reader's repository
        only when the reader may see that review (routed to, or owned by, one of their functions)."""
        return service.index.hidden_from(reviewer.visible_functions)

    def hidden_contracts(reviewer, repo) -> set[str]:
        """The contracts filed from reviews the reader may not see."""
        return repo.filed_from(hidden(reviewer))  # the repository this request synced: one sync a request

    def shown(records, hide: set[str], thread=lambda r: r.thread_id) -> list:
        return [r for r in records if thread(r) is None or thread(r) not in hide]

    @app.get("/portfolio", response_class=HTMLResponse)
    def portfolio_page(request: Request):
        reviewer = reader(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        repo, hide = repository(), hidden(reviewer)
        board = dashboard(repo, config.today)
        if hide:  # lists name contracts: only the reader's; a counterparty only where one of its contracts is theirs
            board.deadlines = shown(board.deadlines, hide)
            board.top_counterparties = [t for t in board.top_counterparties
                                        if shown(repo.contracts_of(t[0]), hide) or not repo.contracts_of(t[0])]
        return page("portfolio.html", reviewer=reviewer, board=board, quote=quote)

    vectors = ClauseVectors(config.data_dir / "portfolio_chroma")  # one per server: reopened when others write

    @app.get("/contracts", response_class=HTMLResponse)
    def contracts_page(request: Request, q: str = "", meaning: str = ""):
        reviewer = reader(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        query = parse_query(q[:300], config.today) if q.strip() else None
        hits, by_meaning = find_contracts(repository(), vectors, query, config.today, meaning=bool(meaning)) if query else ([], False)
        hits = shown(hits, hidden(reviewer), thread=lambda h: h.contract.thread_id)
        read = query.read_as() if query else {}
        return page("contracts.html", reviewer=reviewer, q=q[:300], hits=hits, read=read, quote=quote,
                    by_meaning=by_meaning, meaning=bool(meaning))

    @app.get("/counterparties/{key}", response_class=HTMLResponse)
    def counterparty_page(request: Request, key: str, message: str = ""):
        reviewer = reader(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        view = counterparty(repository(), key[:200], config.today)
        hide = hidden(reviewer)
        if view is not None and hide:
            view.contracts = shown(view.contracts, hide)
            mine = {c.contract_id for c in view.contracts}
            view.flags = [f for f in view.flags if f.contract_id in mine]
            view.performance = [p for p in view.performance if p.get("contract_id") in mine]
            view.open_obligations = [o for o in view.open_obligations if o[0].contract_id in mine]
            view.missed_obligations = [o for o in view.missed_obligations if o[0].contract_id in mine]
        if view is None or not view.contracts:  # the same answer whether it exists or is another function's
            raise HTTPException(404, "No contract with that counterparty in the repository.")
        spend_plot = spend_against_contract([m.month for m in view.months], [m.year_to_date for m in view.months],
                                            [m.ceiling for m in view.months], REPORTING_CURRENCY) if view.months else None
        sla_plot = service_levels([p["period"] for p in view.performance], [p["sla_actual"] for p in view.performance],
                                  [p["sla_target"] for p in view.performance]) if view.performance else None
        return page("counterparty.html", reviewer=reviewer, view=view, spend_plot=spend_plot, sla_plot=sla_plot,
                    today=config.today, message=message[:200], quote=quote)

    @app.get("/obligations", response_class=HTMLResponse)
    def obligations_page(request: Request, due: int = 30, status: str = "open", message: str = ""):
        reviewer = reader(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        if status not in ("open", "done", "missed", "all"):
            raise HTTPException(400, "Show open, done, missed or all obligations.")
        due = min(max(due, 1), 3660)
        repo = repository()
        found = repo.obligations(config.today, status=None if status == "all" else status,
                                 due_before=config.today + timedelta(days=due) if status == "open" else None,
                                 in_force_only=status == "open")
        if hide := hidden_contracts(reviewer, repo):
            found = [o for o in found if o[0].contract_id not in hide]
        return page("obligations.html", reviewer=reviewer, found=found, due=due, status=status, today=config.today,
                    message=message[:200], quote=quote)

    @app.post("/obligations/{obligation_id}/mark")
    async def mark_obligation(request: Request, obligation_id: str):
        reviewer = await run_in_threadpool(reader, request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        fields = await fields_of(request)
        if not fields.get("csrf") or not hmac.compare_digest(fields["csrf"], reviewer.csrf):
            raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the page")
        status = fields.get("status", "")
        if status not in ("done", "missed", "open"):
            raise HTTPException(400, "An obligation is marked done, missed or open.")

        try:  # the occurrence the page showed: a page opened before another mark still marks the same one
            due = date.fromisoformat(fields["due"]) if fields.get("due") else None
        except ValueError:
            raise HTTPException(400, "The due date is not a date.")

        def mark() -> str:
            repo = repository()
            if repo.obligation_contract(obligation_id) in hidden_contracts(reviewer, repo):
                raise HTTPException(404, "No such obligation.")
            try:
                marked = repository.unsynced.mark_obligation(
                    obligation_id, status, reviewer.username, (fields.get("note") or "").strip()[:1000] or None,
                    today=config.today, due=due)
            except KeyError:
                raise HTTPException(404, "No such obligation.")
            return f"Saved: {marked.summary[:80]} marked {status} by {reviewer.username}."

        message = await run_in_threadpool(mark)
        back = fields.get("back", "/obligations")
        # a path on this site only: no scheme, no "//host", no backslash (browsers read "/\\host" as "//host")
        back = back if re.fullmatch(r"/(?![/\\])[A-Za-z0-9/_.%?=&-]*", back) else "/obligations"
        separator = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{separator}message={quote(message)}", status_code=303)

    @app.get("/calendar.ics")
    def calendar_feed(request: Request):
        reviewer = reader(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        return Response(notice_calendar(repository(), config.today, hidden_threads=hidden(reviewer)),
                        media_type="text/calendar; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="notice-deadlines.ics"'})
