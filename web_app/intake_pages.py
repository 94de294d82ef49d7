"""Uploads on the reviewer page: an intake request with the counterparty's paper (/intake), and the other side's
reply to a finalised review as its next round (/reviews/{thread}/reply). Each upload is size-checked while it is
read, stored under a fresh folder with a tamed file name, and reviewed in the thread pool; a file that cannot be
read is answered with its one-line reason on the form, never a traceback."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import date
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from agents.schema import IntakeRequest
from clause_library.routing import currency_problem
from document_io.errors import DocumentError
from graphs.review_service import ReviewNotFound, ReviewService

UPLOAD_PATHS = re.compile(r"^/intake$|^/reviews/[^/]+/reply$|^/api/v1/intake$")


def intake_request(fields: dict[str, str], requester: str) -> IntakeRequest:
    """An intake request from a form's fields (the page's or the API's); ValueError with the reason."""
    amount = float(fields["amount"].replace(",", "")) if fields.get("amount", "").strip() else None
    deadline = date.fromisoformat(fields["deadline"]) if fields.get("deadline", "").strip() else None
    asked = IntakeRequest(requester=(fields.get("requester") or requester).strip(),
                          supplier=fields.get("supplier", "").strip() or None,
                          category=fields.get("category", "").strip() or None, amount=amount,
                          currency=(fields.get("currency") or "USD").strip().upper(),
                          purpose=fields.get("purpose", "").strip() or None,
                          personal_data=fields.get("personal_data") == "on",
                          security_relevant=fields.get("security_relevant") == "on", deadline=deadline)
    if asked.amount is not None and (problem := currency_problem(asked.currency)):
        raise ValueError(problem)
    return asked


class UploadTooLarge(ValueError):
    pass


async def store_upload(paper: UploadFile, data_dir: Path, max_bytes: int) -> Path:
    """The upload written under a fresh folder with a tamed name as it is read; refused (and removed) past the limit."""
    folder = data_dir / "uploads" / secrets.token_hex(8)
    folder.mkdir(parents=True)
    path = folder / safe_upload_name(paper.filename or "contract")
    written = 0
    with path.open("wb") as handle:
        while chunk := await paper.read(1024 * 1024):
            written += len(chunk)
            if written > max_bytes:
                handle.close()
                path.unlink()
                raise UploadTooLarge(f"{paper.filename}: over the {max_bytes / 1_048_576:.0f} MB limit for one contract")
            handle.write(chunk)
    return path


def safe_upload_name(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", Path(name or "contract").name).strip(" .") or "contract"
    return stem[:120]


def add_intake_routes(app: FastAPI, service: ReviewService, page, current, visible_status, back) -> None:
    """`visible_status(reviewer, thread)`: the review if the reviewer may see it, else 404."""
    config = service.config

    async def upload(request: Request):
        """(reviewer, fields, stored file path) from a multipart form, CSRF-checked; the file is written as it is read,
        and refused past the size limit."""
        reviewer = await run_in_threadpool(current, request)
        if reviewer is None:
            raise HTTPException(401, "log in first")
        form = await request.form(max_files=1, max_fields=20)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if not fields.get("csrf") or not hmac.compare_digest(fields["csrf"], reviewer.csrf):
            raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the page")
        paper = form.get("paper")
        if not isinstance(paper, UploadFile) or not paper.filename:
            return reviewer, fields, None
        try:
            return reviewer, fields, await store_upload(paper, config.data_dir, config.max_bytes)
        except UploadTooLarge as refused:
            raise HTTPException(413, str(refused)) from None

    @app.get("/intake")
    def intake_form(request: Request):
        reviewer = current(request)
        if reviewer is None:
            return RedirectResponse("/login", status_code=303)
        return page("intake.html", reviewer=reviewer, error=None, fields={})

    @app.post("/intake")
    async def intake(request: Request) -> Response:
        reviewer, fields, path = await upload(request)

        def answer(error: str, status_code: int = 400):
            return page("intake.html", status_code=status_code, reviewer=reviewer, error=error, fields=fields)

        if path is None:
            return answer("Attach the counterparty's paper (DOCX, PDF or text).")
        try:
            request_ = intake_request(fields, reviewer.username)
        except ValueError as exc:
            return answer(f"Not started: {' '.join(str(exc).split())[:300]}")
        try:
            status = await run_in_threadpool(service.start, path, config.data_dir / "out", request=request_)
        except DocumentError as exc:
            return answer(f"Not started: {exc.reason}", 422)
        return RedirectResponse(f"/reviews/{status.thread_id}", status_code=303)

    @app.post("/reviews/{thread_id}/reply")
    async def reply(request: Request, thread_id: str) -> Response:
        reviewer, _, path = await upload(request)
        await run_in_threadpool(visible_status, reviewer, thread_id)
        if path is None:
            return back(reviewer, thread_id, "Attach the other side's new version.")
        try:
            status = await run_in_threadpool(service.start, path, config.data_dir / "out", round_of=thread_id)
        except ReviewNotFound:
            raise HTTPException(404, f"no review with thread id {thread_id!r}")
        except (DocumentError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, DocumentError) else str(exc)
            return back(reviewer, thread_id, f"Not started: {reason[:300]}")
        return RedirectResponse(f"/reviews/{status.thread_id}", status_code=303)
