"""A second held-out estimate, on the train split: cut it in halves, train on one, score the other, both ways.

Dev has 86 contracts and, for a short answer such as Effective Date, under 70 labels, so one figure on it is loose.
Cross-fitting scores all 317 train contracts with models that never saw them (each trained on half the data, so
the figures are a little below what the full model reaches). `python app.py train --cross-fit` writes
evals/reports/cuad-train-crossfit.json.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from document_io.legal_text import sentence_units
from document_io.models import document_from_text
from evals.clause_model_training import TrainingSettings, train_clause_model
from evals.datasets import LabelledContract
from evals.metrics import Prediction, QuestionOutcome, score_question, summarise
from evals.solvers import EVAL_FLOOR
from model_backends.clause_model import MODEL_VERSION


class CrossFitReport(BaseModel):
    dataset: str
    contracts: int
    folds: int
    model_version: str
    pooled_aupr: float
    pooled_aupr_strict: float
    mean_category_aupr: float
    categories: dict[str, float]  # AUPR per category with labels, CUAD's rule
    labels: dict[str, int]


def cross_fit(contracts: list[LabelledContract], categories: list[str], dataset: str, folds: int = 2,
              settings: TrainingSettings = TrainingSettings(),
              on_step: Callable[[str], None] = lambda step: None) -> CrossFitReport:
    ordered = sorted(contracts, key=lambda c: c.id)
    outcomes: dict[str, list[QuestionOutcome]] = {c: [] for c in categories}
    strict: dict[str, list[QuestionOutcome]] = {c: [] for c in categories}
    for fold in range(folds):
        on_step(f"fold {fold + 1} of {folds}: training on the other contracts")
        model = train_clause_model([c for i, c in enumerate(ordered) if i % folds != fold], categories,
                                   trained_on=f"cross-fit fold {fold + 1}", settings=settings)
        on_step(f"fold {fold + 1} of {folds}: scoring its contracts")
        for contract in (c for i, c in enumerate(ordered) if i % folds == fold):
            document = document_from_text(name=contract.id, text=contract.text)
            spans = model.predict(document.text, sentence_units(document), floor=EVAL_FLOOR)  # as the dev eval
            for category in categories:
                predictions = [Prediction(category=category, text=document.text[s.start : s.end], score=s.score)
                               for s in spans if s.category == category]
                gold = contract.labels.get(category, [])
                outcomes[category].append(score_question(category, predictions, gold))
                strict[category].append(score_question(category, predictions, gold, strict=True))
    labels = {c: sum(len(o.gold_found_at) for o in outcomes[c]) for c in categories}
    per_category = {c: summarise(outcomes[c]).aupr for c in categories if labels[c]}
    return CrossFitReport(
        dataset=dataset, contracts=len(ordered), folds=folds, model_version=MODEL_VERSION,
        pooled_aupr=summarise([o for c in categories for o in outcomes[c]]).aupr,
        pooled_aupr_strict=summarise([o for c in categories for o in strict[c]]).aupr,
        mean_category_aupr=round(sum(per_category.values()) / max(len(per_category), 1), 4),
        categories=per_category, labels={c: n for c, n in labels.items() if n},
    )
