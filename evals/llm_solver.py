"""Evaluation solvers for the model: `llm`, the model alone (the clause-extraction call on the dataset's taxonomy,
and the LLM classifier for contract type; models give no confidences, so every kept prediction scores 0.9 and the
precision-recall curve is a single point), and `hybrid`, what a review on the LLM backend does: the local engine's
predictions, and the model's grounded additions ranked after all of them, so the model can add recall but never
reorder or remove what the local engine found."""

from __future__ import annotations

import csv
import time

import numpy as np

from agents.classifier import ClassifierInput, classify_with_llm
from agents.clause_extraction import preselect_for_llm, numbered_clauses_from_llm
from document_io.legal_text import sentence_units
from document_io.models import SourceDocument
from evals.datasets import SHARED_CUAD
from evals.solvers import EVAL_FLOOR, LocalSolver, SolverOutput, prediction_of
from model_backends.llm_client import LLMClient, LLMError, LLMSettings, UsageLedger
from model_backends.local_engine import LocalEngine
from model_backends.prompt_templates import load_prompt

CUAD_PRESELECT = 0.05  # calibrated sentence score for any category: the CUAD sentences worth the model's tokens


class SolverFailed(RuntimeError):
    """A contract the model could not answer; carries what the attempts cost, so the report counts it."""

    def __init__(self, message: str, spent: SolverOutput) -> None:
        super().__init__(message)
        self.partial_output = spent


class LLMSolver:
    def __init__(self, llm: LLMClient, engine: LocalEngine, our_names: list[str]) -> None:
        self.llm, self.engine, self.our_names = llm, engine, our_names
        self.name = f"llm:{llm.settings.model_for('clause_extraction')}"

    @property
    def version(self) -> str:
        settings = self.llm.settings
        models = sorted({settings.model_for(a) for a in ("classifier", "clause_extraction")})
        modes = self.llm.output_modes()
        return (f"{', '.join(models)} at {settings.base_url or 'OpenAI'}; output mode "
                f"{'; '.join(f'{m}: {modes[m]}' for m in models if m in modes) or 'not probed yet'}; prompts "
                f"{load_prompt('clause_extraction').version}, {load_prompt('classifier').version}")

    @classmethod
    def from_env(cls, config) -> LLMSolver:
        return cls(LLMClient(LLMSettings.from_env()), LocalEngine(config.data_dir), config.our_names)

    def operating_thresholds(self, taxonomy: str) -> dict[str, float]:
        return {}

    def solve(self, document: SourceDocument, taxonomy: str, categories: list[str]) -> SolverOutput:
        started = time.perf_counter()
        ledger = UsageLedger()
        llm = self.llm.with_ledger(ledger)
        units = sentence_units(document)
        if taxonomy == "cuad":
            probabilities = self.engine.clause_model.sentence_scores(document.text, units) if units else np.zeros((0, 1))
            candidates = [u for row, u in enumerate(units) if probabilities[row].max() >= CUAD_PRESELECT]
            descriptions = _cuad_descriptions()
            wanted = {c: descriptions.get(c, c) for c in categories}
        else:
            candidates = preselect_for_llm(units, self.engine)
            wanted = {c: self.engine.library.get(c).description for c in categories}
        try:
            clauses = numbered_clauses_from_llm(document, candidates, wanted, llm) if candidates else []
            profile = classify_with_llm(ClassifierInput(document=document, our_names=self.our_names), llm)
        except LLMError as error:
            totals = ledger.totals()
            raise SolverFailed(str(error), SolverOutput(
                predictions=[], prompt_tokens=totals.prompt_tokens, completion_tokens=totals.completion_tokens,
                cost_usd=ledger.cost_usd(self.llm.settings), seconds=round(time.perf_counter() - started, 3))) from error
        totals = ledger.totals()
        return SolverOutput(
            predictions=[prediction_of(c) for c in clauses],
            contract_type=profile.contract_type, quotes_returned=totals.quotes_returned,
            quotes_verified=totals.quotes_returned - totals.quotes_dropped, prompt_tokens=totals.prompt_tokens,
            completion_tokens=totals.completion_tokens, cost_usd=ledger.cost_usd(self.llm.settings),
            seconds=round(time.perf_counter() - started, 3),
        )


def _cuad_descriptions() -> dict[str, str]:
    path = SHARED_CUAD / "category_descriptions.csv"
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    strip = lambda cell, label: cell.strip().removeprefix(label).strip()  # noqa: E731  cells read "Category: X"
    return {strip(row[0], "Category:"): strip(row[1], "Description:") for row in rows[1:] if len(row) >= 2}


class HybridSolver:
    def __init__(self, llm: LLMClient, engine: LocalEngine, our_names: list[str]) -> None:
        self.local, self.model = LocalSolver(engine, our_names), LLMSolver(llm, engine, our_names)
        self.name = f"hybrid:{llm.settings.model_for('clause_extraction')}"

    @classmethod
    def from_env(cls, config) -> HybridSolver:
        return cls(LLMClient(LLMSettings.from_env()), LocalEngine(config.data_dir), config.our_names)

    def operating_thresholds(self, taxonomy: str) -> dict[str, float]:
        return self.local.operating_thresholds(taxonomy)

    @property
    def version(self) -> str:
        return f"{self.local.version}; with {self.model.version}"

    def solve(self, document: SourceDocument, taxonomy: str, categories: list[str]) -> SolverOutput:
        local = self.local.solve(document, taxonomy, categories)
        try:
            model = self.model.solve(document, taxonomy, categories)
        except SolverFailed as failed:  # no usable answer: the local result stands, and what the attempts cost counts
            spent = failed.partial_output
            return local.model_copy(update={"prompt_tokens": spent.prompt_tokens, "completion_tokens": spent.completion_tokens,
                                            "cost_usd": spent.cost_usd, "seconds": local.seconds + spent.seconds,
                                            "model_answered": False,
                                            "model_error": " ".join(str(failed).split())[:300] or "no usable answer"})
        taken = [(p.category, p.start, p.end) for p in local.predictions]
        added = [p.model_copy(update={"score": EVAL_FLOOR / 2}) for p in model.predictions  # below every local one
                 if not any(c == p.category and s < p.end and p.start < e for c, s, e in taken)]
        return local.model_copy(update={
            "predictions": local.predictions + added,
            "contract_type": local.contract_type,  # as in the review: the model may not overrule a confident local type
            "quotes_returned": local.quotes_returned + model.quotes_returned,
            "quotes_verified": local.quotes_verified + model.quotes_verified,
            "prompt_tokens": model.prompt_tokens, "completion_tokens": model.completion_tokens, "cost_usd": model.cost_usd,
            "seconds": local.seconds + model.seconds, "model_answered": True,
        })
