"""`app.py import DIR`: executed contracts straight into the repository through the extraction agents (classifier,
clause extraction, renewal terms, metadata, obligations; no compliance or redlining), in parallel worker processes.

Resumable: a contract is filed in one commit keyed by its content hash, so a rerun after kill -9 skips every
contract already filed and the same bytes under two names are filed once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date
from multiprocessing import get_context
from pathlib import Path

from pydantic import BaseModel

from graphs.batch_review import die_with_the_coordinator, index_library_once, inbox_files, sha256_of
from document_io.normalise import visible_name
from document_io.pdf_signatures import signature_count
from portfolio.executed import describe_copy, file_signed_copy
from portfolio.records import Filing
from portfolio.repository import Repository


class ImportRow(BaseModel):
    file: str
    outcome: str  # filed | already filed | duplicate | failed
    contract_id: str | None = None
    detail: str = ""


_engine = None


def _start_worker(data_dir: str, threads: int) -> None:
    global _engine
    die_with_the_coordinator()  # a killed import leaves no worker behind; the rerun resumes
    os.environ["CLAUSEFLOW_ONNX_THREADS"] = str(threads)
    from model_backends.local_engine import LocalEngine

    _engine = LocalEngine(Path(data_dir))


def read_executed_contract(path: str, our_names: list[str], today: str, max_bytes: int) -> tuple[str, str]:
    """Runs in a worker: one file to a filing (JSON) and the text it was read from, through the extraction agents
    only."""
    from agents.classifier import ClassifierInput, classify
    from agents.clause_extraction import ExtractionInput, cuad_candidates, extract_clauses
    from agents.renewal_leverage import RenewalInput, analyse_renewal
    from agents.schema import ExtractionResult
    from document_io.loader import load_document
    from portfolio.filing import CUAD_CLAUSE_FLOOR, filing_for

    document = load_document(Path(path), max_bytes=max_bytes)
    profile = classify(ClassifierInput(document=document, our_names=our_names))
    extraction = extract_clauses(ExtractionInput(document=document), _engine)
    brief = analyse_renewal(RenewalInput(document=document, extraction=extraction, today=date.fromisoformat(today),
                                         our_side=profile.our_side))
    cuad = ExtractionResult(clauses=cuad_candidates(document, _engine, floor=CUAD_CLAUSE_FLOOR))
    filing = filing_for(document, profile, extraction, brief, date.fromisoformat(today), origin="import",
                        status="executed", cuad_clauses=cuad)
    return filing.model_dump_json(), document.text


class SignedPaper(BaseModel, arbitrary_types_allowed=True):
    """How signed PDFs are filed: the deployment's trust roots, and the reviews their agreed text is matched against."""

    trust_roots: list[bytes]
    service: object | None = None  # graphs.review_service.ReviewService


def import_folder(folder: Path, repository: Repository, *, data_dir: Path, our_names: list[str], today: date,
                  max_bytes: int, workers: int, signed: SignedPaper | None = None, only: Path | None = None,
                  engine=None,
                  on_result: Callable[[ImportRow, int, int], None] = lambda row, done, total: None) -> list[ImportRow]:
    """`only`: one file of `folder` instead of all of them; `engine`: read in this process with that local engine."""
    files = [only] if only is not None else inbox_files(folder)
    filed = repository.contract_ids()
    rows: list[ImportRow] = []
    todo: dict[str, Path] = {}
    for path in files:
        name = visible_name(path.relative_to(folder))
        if path.stat().st_size > max_bytes:
            rows.append(ImportRow(file=name, outcome="failed", detail=f"{path.name}: over the {max_bytes / 1_048_576:.0f} MB limit"))
        elif (digest := sha256_of(path)) in filed:
            rows.append(ImportRow(file=name, outcome="already filed", contract_id=digest))
        elif digest in todo:
            rows.append(ImportRow(file=name, outcome="duplicate", contract_id=digest, detail=f"same bytes as {todo[digest].name}"))
        else:
            todo[digest] = path
            continue
        on_result(rows[-1], len(rows), len(files))
    if not todo:
        return rows
    index_library_once(data_dir)

    def file_one(path: Path, digest: str, read) -> None:
        name = visible_name(path.relative_to(folder))
        try:
            filed, text = read()
            filing = Filing.model_validate_json(filed)
            if path.suffix.lower() == ".pdf" and signature_count(pdf := path.read_bytes()):
                copy = file_signed_copy(filing, pdf, text=text, repository=repository, trust_roots=
                                        signed.trust_roots if signed else [], service=signed.service if signed else None)
                rows.append(ImportRow(file=name, outcome="filed", contract_id=digest, detail=describe_copy(copy)))
            else:
                repository.file(filing)
                rows.append(ImportRow(file=name, outcome="filed", contract_id=digest))
        except Exception as exc:  # one bad file never stops the import
            rows.append(ImportRow(file=name, outcome="failed", detail=" ".join(str(exc).split()) or type(exc).__name__))
        on_result(rows[-1], len(rows), len(files))

    if engine is not None:  # one file with an engine already loaded (`execute` filing its PDF): no worker to start
        global _engine
        _engine = engine
        for digest, path in todo.items():
            file_one(path, digest, lambda path=path: read_executed_contract(str(path), our_names, today.isoformat(), max_bytes))
        return rows
    workers = max(1, min(workers, len(todo)))
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker,
                             initargs=(str(data_dir), max(1, (os.cpu_count() or 1) // workers))) as pool:
        futures = {pool.submit(read_executed_contract, str(path), our_names, today.isoformat(), max_bytes): (digest, path)
                   for digest, path in todo.items()}
        for future in as_completed(futures):
            digest, path = futures[future]
            file_one(path, digest, future.result)
    return rows
