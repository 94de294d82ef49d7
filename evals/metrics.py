"""CUAD's metrics, written from the paper's definitions, plus clause-presence F1.

A prediction is a text span with a confidence. For one (contract, category) question a labelled clause counts
as found (true positive) when some prediction overlaps it with word-set Jaccard >= 0.5 (for Parties, also when
the prediction contains the name); every prediction that
overlaps no labelled clause is a false positive; labelled clauses not found are false negatives. Sweeping the
confidence threshold over all questions at once gives the precision-recall curve; AUPR is the area under it
after making precision non-increasing in recall; "precision at 80% recall" is the best precision at any
threshold whose recall reaches 80% (None, "not reached", when it never does).

The strict score drops CUAD's containment rule for Parties: every category must overlap its label at Jaccard >= 0.5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

JACCARD_MATCH = 0.5
_DROPPED = re.compile(r"[.,;:]")


def jaccard(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' lower-cased word sets, ignoring . , ; :"""
    words_a = set(_DROPPED.sub("", a).lower().split())
    words_b = set(_DROPPED.sub("", b).lower().split())
    if not words_a and not words_b:
        return 1.0
    return len(words_a & words_b) / len(words_a | words_b)


class Prediction(BaseModel):
    category: str
    text: str
    score: float
    start: int | None = None
    end: int | None = None


@dataclass
class QuestionOutcome:
    """One (contract, category): the best confidence that found each labelled clause (-inf: never found), and
    the confidences of predictions that matched nothing."""

    category: str
    gold_found_at: list[float]
    unmatched_scores: list[float]


SUBSTRING_MATCH_CATEGORIES = {"Parties"}  # CUAD also accepts a prediction that contains the party's name


def matches(category: str, predicted: str, label: str, strict: bool = False) -> bool:
    if not strict and category in SUBSTRING_MATCH_CATEGORIES and label.lower() in predicted.lower():
        return True
    return jaccard(predicted, label) >= JACCARD_MATCH


def score_question(category: str, predictions: list[Prediction], gold: list[str], strict: bool = False) -> QuestionOutcome:
    found_at = []
    matched = [False] * len(predictions)
    for label in gold:
        best = float("-inf")
        for index, prediction in enumerate(predictions):
            if matches(category, prediction.text, label, strict):
                matched[index] = True
                best = max(best, prediction.score)
        found_at.append(best)
    unmatched = [p.score for p, m in zip(predictions, matched) if not m]
    return QuestionOutcome(category, found_at, unmatched)


class CurveSummary(BaseModel):
    labelled: int
    aupr: float
    precision_at_80_recall: float | None  # None: that recall is never reached (see max_recall)
    precision_at_90_recall: float | None
    max_recall: float
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0


def pr_curve(outcomes: list[QuestionOutcome]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, precision, recall), thresholds descending: one point per distinct confidence."""
    found = np.array([s for o in outcomes for s in o.gold_found_at], dtype=float)
    unmatched = np.array([s for o in outcomes for s in o.unmatched_scores], dtype=float)
    scores = np.concatenate([found[np.isfinite(found)], unmatched])
    thresholds = np.unique(scores)[::-1]
    if len(found) == 0 or len(thresholds) == 0:
        return thresholds, np.zeros(len(thresholds)), np.zeros(len(thresholds))
    found_sorted = np.sort(found[np.isfinite(found)])
    unmatched_sorted = np.sort(unmatched)
    true_positives = len(found_sorted) - np.searchsorted(found_sorted, thresholds, side="left")
    false_positives = len(unmatched_sorted) - np.searchsorted(unmatched_sorted, thresholds, side="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(true_positives + false_positives > 0, true_positives / (true_positives + false_positives), 1.0)
    recall = true_positives / len(found)
    return thresholds, precision, recall


def summarise(outcomes: list[QuestionOutcome], operating_threshold: float | dict[str, float] | None = None) -> CurveSummary:
    labelled = sum(len(o.gold_found_at) for o in outcomes)
    thresholds, precision, recall = pr_curve(outcomes)
    if labelled == 0 or len(thresholds) == 0:
        return CurveSummary(labelled=labelled, aupr=0.0, precision_at_80_recall=None, precision_at_90_recall=None, max_recall=0.0)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]  # best precision at this recall or beyond
    recall_points = np.concatenate([[0.0], recall])
    precision_points = np.concatenate([[envelope[0]], envelope])
    aupr = float(np.sum(np.diff(recall_points) * (precision_points[1:] + precision_points[:-1]) / 2))
    summary = CurveSummary(
        labelled=labelled, aupr=round(aupr, 4),
        precision_at_80_recall=_precision_at(recall, precision, 0.8),
        precision_at_90_recall=_precision_at(recall, precision, 0.9),
        max_recall=round(float(recall.max()), 4),
    )
    if operating_threshold is not None:
        tp = fp = 0
        for outcome in outcomes:
            cut = operating_threshold if isinstance(operating_threshold, float) else operating_threshold.get(outcome.category, 0.5)
            tp += sum(1 for s in outcome.gold_found_at if s >= cut)
            fp += sum(1 for s in outcome.unmatched_scores if s >= cut)
        summary.precision = round(tp / (tp + fp), 4) if tp + fp else 0.0
        summary.recall = round(tp / labelled, 4)
        p, r = summary.precision, summary.recall
        summary.f1 = round(2 * p * r / (p + r), 4) if p + r else 0.0
    return summary


def _precision_at(recall: np.ndarray, precision: np.ndarray, level: float) -> float | None:
    reached = recall >= level
    return round(float(precision[reached].max()), 4) if reached.any() else None


class PresenceCounts(BaseModel):
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0

    def add(self, predicted: bool, labelled: bool, located: bool | None = None) -> None:
        """`located`: some confident prediction matches a label. Without it, saying "present" is right for the
        wrong reason, so it counts as a false positive and the clause as missed."""
        if predicted and labelled and located is not False:
            self.true_positive += 1
        elif predicted and labelled:
            self.false_positive += 1
            self.false_negative += 1
        elif predicted:
            self.false_positive += 1
        elif labelled:
            self.false_negative += 1
        else:
            self.true_negative += 1

    @property
    def f1(self) -> float:
        denominator = 2 * self.true_positive + self.false_positive + self.false_negative
        return round(2 * self.true_positive / denominator, 4) if denominator else 0.0
