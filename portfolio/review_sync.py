"""Reviews into the repository: every review is filed ("in review", then "finalised") from its own durable state,
re-filed when its status or decisions change. Derived data, so it is caught up on each repository request rather
than written inside the review's own transactions: a crash between the two loses nothing."""

from __future__ import annotations

from pathlib import Path

from graphs.review_service import ReviewService
from portfolio.filing import CUAD_CLAUSE_FLOOR, filing_for
from portfolio.repository import Repository


def file_reviews(service: ReviewService, repository: Repository) -> int:
    """File every review whose state changed since it was last filed; returns how many were filed."""
    from agents.clause_extraction import cuad_candidates
    from agents.schema import ExtractionResult

    service.catch_up_index()
    filed = repository.filed_versions()
    changed = [(t, v) for t, v in service.index.versions().items() if filed.get(t) != v]
    filings = []
    for thread_id, version in changed:
        status = service.status(thread_id)
        cuad = ExtractionResult(clauses=cuad_candidates(status.document, service.engine, floor=CUAD_CLAUSE_FLOOR))
        filings.append(filing_for(status.document, status.profile, status.extraction, status.brief, service.config.today,
                                  origin="review", status="finalised" if status.finalised else "in review",
                                  thread_id=thread_id, risk=status.overall_risk, cuad_clauses=cuad,
                                  review_version=version, request=status.request,
                                  previous_version=service.status(status.round_of).document.sha256 if status.round_of else None))
    if filings:
        repository.file_many(filings)
    return len(filings)


def repository_store(config) -> Path | str:
    """The shared database when one is configured, else the data folder's SQLite file."""
    return config.database_url or config.data_dir / "portfolio.sqlite"


def open_repository(config, service: ReviewService | None = None, *, sync: bool = True) -> Repository:
    """The data folder's repository, with every review that changed since the last call filed first (for a command
    that runs once; a server keeps one SyncedRepository)."""
    repository = Repository(repository_store(config))
    if sync and (service is not None or config.database_url or config.audit_path.exists()):
        file_reviews(service or ReviewService(config), repository)
    return repository


class SyncedRepository:
    """The repository of a long-running process (the web server): opened once (its schema and migrations run once,
    not per request), with the reviews that changed filed before each use."""

    def __init__(self, service: ReviewService) -> None:
        self._service = service
        self._repository = Repository(repository_store(service.config))

    def __call__(self) -> Repository:
        file_reviews(self._service, self._repository)
        return self._repository

    @property
    def unsynced(self) -> Repository:
        """For writes that do not read reviews (marking an obligation)."""
        return self._repository
