"""Solvers: what turns one contract into scored predictions, per backend.

The local solver runs the same agent code the review graph runs (clause extraction on the trained head or on
the library's rules, and the classifier); an LLM solver (model_backends/llm) plugs in with the same output.
"""

from __future__ import annotations

import time
from typing import Protocol

from pydantic import BaseModel

from agents.classifier import ClassifierInput, classify
from agents.clause_extraction import ExtractionInput, cuad_candidates, extract_clauses
from agents.schema import ExtractedClause, GroundingError
from document_io.models import SourceDocument
from evals.datasets import Taxonomy
from evals.metrics import Prediction
from model_backends.local_engine import LocalEngine

EVAL_FLOOR = 0.01  # the lowest confidence kept, so the precision-recall sweep sees the whole curve


def prediction_of(clause: ExtractedClause) -> Prediction:
    return Prediction(category=clause.category, text=clause.span.quote, score=clause.score,
                      start=clause.span.start, end=clause.span.end)


class SolverOutput(BaseModel):
    predictions: list[Prediction]
    contract_type: str | None = None
    quotes_returned: int = 0
    quotes_verified: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None  # None: no price known for the model (the local engine costs nothing: 0)
    seconds: float = 0.0
    model_answered: bool | None = None  # hybrid: whether the model gave a usable answer (None: no model asked)
    model_error: str | None = None  # hybrid: why it did not, one line


class Solver(Protocol):
    name: str

    def operating_thresholds(self, taxonomy: Taxonomy) -> dict[str, float]: ...

    def solve(self, document: SourceDocument, taxonomy: Taxonomy, categories: list[str]) -> SolverOutput: ...


class LocalSolver:
    name = "local"

    def __init__(self, engine: LocalEngine, our_names: list[str]) -> None:
        self.engine = engine
        self.our_names = our_names

    @property
    def version(self) -> str:
        model = self.engine.clause_model
        return f"local engine; {model.version} ({model.trained_on})"

    def operating_thresholds(self, taxonomy: Taxonomy) -> dict[str, float]:
        if taxonomy == "cuad":
            model = self.engine.clause_model
            return {c: float(t) for c, t in zip(model.categories, model.thresholds)}
        return {}

    def solve(self, document: SourceDocument, taxonomy: Taxonomy, categories: list[str]) -> SolverOutput:
        started = time.perf_counter()
        if taxonomy == "cuad":
            clauses = cuad_candidates(document, self.engine, floor=EVAL_FLOOR)
        else:
            clauses = extract_clauses(ExtractionInput(document=document), self.engine).clauses
        wanted = set(categories)
        returned = verified = 0
        predictions = []
        for clause in clauses:
            if clause.category not in wanted:
                continue
            returned += 1
            try:
                clause.span.verify(document)
            except GroundingError:
                continue
            verified += 1
            predictions.append(prediction_of(clause))
        profile = classify(ClassifierInput(document=document, our_names=self.our_names))
        return SolverOutput(
            predictions=predictions, contract_type=profile.contract_type, quotes_returned=returned,
            quotes_verified=verified, cost_usd=0.0, seconds=round(time.perf_counter() - started, 3),
        )
