"""Train the risk-term model on CUAD's train split (`python app.py train --risk-terms`).

Every sentence of every train contract is labelled, per risk term with a CUAD category (clause_library/risk_terms.yaml),
1 when it overlaps a label of that category. One class-balanced logistic regression per term over the features of
model_backends/risk_term_model.py. The operating threshold per term is chosen out of fold: the train contracts are cut
in two halves, each half scored by a model fitted on the other, and the threshold with the best F1 over those held-out
scores is kept. The dev split is only scored, for the report, never used to choose. About a minute on two cores.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sparse
from pydantic import BaseModel
from sklearn.linear_model import LogisticRegression

from clause_library.risk_terms import RiskTermLibrary
from evals.clause_model_training import PreparedContract, prepare
from evals.datasets import LabelledContract
from model_backends.risk_term_model import MODEL_VERSION, RiskTermFeatures, RiskTermModel

C = 4.0  # inverse regularisation; 1, 4 and 16 were tried on the train halves, 4 read best
THRESHOLDS = np.round(np.arange(0.30, 0.995, 0.01), 2)


class TermScore(BaseModel):
    term: str
    threshold: float
    sentences_labelled: int
    precision: float  # of sentences over the threshold, the share that overlap a label
    recall: float  # of labelled sentences, the share over the threshold


class RiskTermTrainingReport(BaseModel):
    model_version: str
    trained_on: str
    train_out_of_fold: list[TermScore]
    dev: list[TermScore]


def sentence_targets(contract: PreparedContract, categories: list[str]) -> np.ndarray:
    """(sentences, categories): 1 where the sentence overlaps a label of the category."""
    starts = np.array([u.start for u in contract.units])
    ends = np.array([u.end for u in contract.units])
    targets = np.zeros((len(contract.units), len(categories)), dtype=np.float32)
    for column, category in enumerate(categories):
        for start, end in contract.spans.get(category, []):
            targets[(starts < end) & (start < ends), column] = 1
    return targets


def _design(contracts: list[PreparedContract], features: RiskTermFeatures, categories: list[str]) -> tuple[sparse.csr_matrix, np.ndarray]:
    rows = [features.transform(c.units) for c in contracts if c.units]
    targets = [sentence_targets(c, categories) for c in contracts if c.units]
    return sparse.vstack(rows).tocsr(), np.vstack(targets)


def _fit(x: sparse.csr_matrix, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    weights, bias = np.zeros((x.shape[1], y.shape[1]), np.float32), np.zeros(y.shape[1], np.float32)
    for column in range(y.shape[1]):
        if y[:, column].sum() < 2:
            bias[column] = -30.0  # too few labels to learn from: the term never fires from the model
            continue
        model = LogisticRegression(C=C, class_weight="balanced", max_iter=3000).fit(x, y[:, column])
        weights[:, column], bias[column] = model.coef_[0], model.intercept_[0]
    return weights, bias


def _scores(x: sparse.csr_matrix, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(x @ weights) + bias, -30, 30)))


def _score_at(scores: np.ndarray, targets: np.ndarray, threshold: float) -> tuple[float, float]:
    fired = scores >= threshold
    hits = float((fired & (targets > 0)).sum())
    return hits / max(fired.sum(), 1), hits / max((targets > 0).sum(), 1)


def _best_threshold(scores: np.ndarray, targets: np.ndarray) -> float:
    def f1(threshold: float) -> float:
        precision, recall = _score_at(scores, targets, threshold)
        return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return float(max(THRESHOLDS, key=f1))


def _report(terms: list[str], scores: np.ndarray, targets: np.ndarray, thresholds: np.ndarray) -> list[TermScore]:
    out = []
    for column, term in enumerate(terms):
        precision, recall = _score_at(scores[:, column], targets[:, column], float(thresholds[column]))
        out.append(TermScore(term=term, threshold=float(thresholds[column]), sentences_labelled=int(targets[:, column].sum()),
                             precision=round(precision, 4), recall=round(recall, 4)))
    return out


def train_risk_term_model(train: list[LabelledContract], dev: list[LabelledContract], library: RiskTermLibrary,
                          on_step: Callable[[str], None] = lambda step: None) -> tuple[RiskTermModel, RiskTermTrainingReport]:
    modelled = [t for t in library.terms if t.cuad_category]
    categories = [t.cuad_category for t in modelled]
    on_step(f"reading {len(train)} train contracts")
    prepared = [prepare(c) for c in sorted(train, key=lambda c: c.id)]
    features = RiskTermFeatures.fit([u for c in prepared for u in c.units], [t.signal for t in modelled])
    halves = [[c for i, c in enumerate(prepared) if i % 2 == fold] for fold in (0, 1)]
    designs = [_design(half, features, categories) for half in halves]
    held_out = []
    for fold in (0, 1):
        on_step(f"half {fold + 1} of 2: fitting on the other half, scoring this one")
        weights, bias = _fit(*designs[1 - fold])
        held_out.append(_scores(designs[fold][0], weights, bias))
    oof_scores, oof_targets = np.vstack(held_out), np.vstack([designs[0][1], designs[1][1]])
    thresholds = np.array([_best_threshold(oof_scores[:, k], oof_targets[:, k]) for k in range(len(categories))], np.float32)
    on_step("fitting on the whole train split")
    x, y = sparse.vstack([designs[0][0], designs[1][0]]).tocsr(), oof_targets
    weights, bias = _fit(x, y)
    trained_on = f"CUAD train split, {len(train)} contracts"
    model = RiskTermModel(terms=categories, features=features, weights=weights, bias=bias, thresholds=thresholds,
                          trained_on=trained_on, version=MODEL_VERSION)
    on_step(f"scoring {len(dev)} dev contracts for the report")
    dev_x, dev_y = _design([prepare(c) for c in dev], features, categories)
    report = RiskTermTrainingReport(
        model_version=MODEL_VERSION, trained_on=trained_on,
        train_out_of_fold=_report(categories, oof_scores, oof_targets, thresholds),
        dev=_report(categories, _scores(dev_x, weights, bias), dev_y, thresholds))
    return model, report
