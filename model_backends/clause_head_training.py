"""Train the clause head on CUAD's train split (`python app.py train`).

Each labelled clause text is located in the contract (whitespace-normalised); a sentence is a positive for a
category when it lies mostly inside a labelled clause or holds most of one. The head is a weighted logistic
regression (numpy, Adam, full batch): a few MB of features per contract, about a minute of fitting on two
cores once the sentence vectors are cached. Per category the operating threshold maximises sentence-level F1
on the training data. Only the train split is touched; evaluation uses the dev split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from document_io.legal_text import QuoteLocator, SentenceUnit, sentence_units
from document_io.models import SourceDocument, document_from_text
from evals.datasets import LabelledContract
from model_backends.clause_head import ClauseHead, head_features
from model_backends.embeddings import MiniLMEmbedder

MOSTLY = 0.5


@dataclass
class TrainingSettings:
    steps: int = 300
    learning_rate: float = 0.01
    l2: float = 1e-4
    max_positive_weight: float = 8.0


def unit_vectors(document: SourceDocument, units: list[SentenceUnit], embedder: MiniLMEmbedder, cache: Path | None) -> np.ndarray:
    """Sentence vectors for a document, cached by its content hash (training reruns skip the embedding)."""
    path = cache / f"{document.sha256}.npy" if cache else None
    if path and path.is_file():
        vectors = np.load(path)
        if len(vectors) == len(units):
            return vectors
    vectors = embedder.embed([u.text for u in units])
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def sentence_targets(document: SourceDocument, units: list[SentenceUnit], labels: dict[str, list[str]], categories: list[str]) -> np.ndarray:
    targets = np.zeros((len(units), len(categories)), dtype=np.float32)
    locator = QuoteLocator(document.text)
    starts = np.array([u.start for u in units])
    ends = np.array([u.end for u in units])
    for column, category in enumerate(categories):
        for quote in labels.get(category, []):
            for start, end in locator.find_all(quote)[:3]:
                overlap = np.clip(np.minimum(ends, end) - np.maximum(starts, start), 0, None)
                mostly_inside = overlap >= MOSTLY * (ends - starts)
                holds_most = overlap >= MOSTLY * (end - start)
                targets[mostly_inside | holds_most, column] = 1.0
    return targets


def contract_matrices(
    contracts: Iterable[LabelledContract], categories: list[str], embedder: MiniLMEmbedder, cache: Path | None,
    on_contract: Callable[[LabelledContract], None] = lambda c: None,
) -> tuple[np.ndarray, np.ndarray]:
    features, targets = [], []
    for contract in contracts:
        document = document_from_text(name=contract.id, text=contract.text)
        units = sentence_units(document)
        if units:
            vectors = unit_vectors(document, units, embedder, cache)
            features.append(head_features(units, vectors))
            targets.append(sentence_targets(document, units, contract.labels, categories))
        on_contract(contract)
    return np.vstack(features), np.vstack(targets)


def fit_head(features: np.ndarray, targets: np.ndarray, categories: list[str], trained_on: str,
             settings: TrainingSettings = TrainingSettings()) -> ClauseHead:
    rows, dims = features.shape
    positives = targets.sum(axis=0)
    positive_weight = np.clip(np.sqrt((rows - positives) / np.maximum(positives, 1)), 1.0, settings.max_positive_weight)
    sample_weight = np.where(targets > 0, positive_weight, 1.0).astype(np.float32)
    weights = np.zeros((dims, len(categories)), dtype=np.float32)
    weights[-1] = np.log(np.maximum(positives, 1) / rows)  # start at the base rate
    moment, velocity = np.zeros_like(weights), np.zeros_like(weights)
    beta1, beta2 = 0.9, 0.999
    for step in range(1, settings.steps + 1):
        probabilities = 1.0 / (1.0 + np.exp(-np.clip(features @ weights, -30, 30)))
        gradient = features.T @ ((probabilities - targets) * sample_weight) / rows + settings.l2 * weights
        moment = beta1 * moment + (1 - beta1) * gradient
        velocity = beta2 * velocity + (1 - beta2) * gradient**2
        step_size = settings.learning_rate * np.sqrt(1 - beta2**step) / (1 - beta1**step)
        weights -= step_size * moment / (np.sqrt(velocity) + 1e-8)
    head = ClauseHead(categories=categories, weights=weights, thresholds=np.full(len(categories), 0.5, np.float32), trained_on=trained_on)
    head.thresholds = best_f1_thresholds(head.probabilities(features), targets)
    return head


def best_f1_thresholds(probabilities: np.ndarray, targets: np.ndarray) -> np.ndarray:
    thresholds = np.full(probabilities.shape[1], 0.5, dtype=np.float32)
    candidates = np.linspace(0.2, 0.95, 31)
    for column in range(probabilities.shape[1]):
        truth = targets[:, column] > 0
        if not truth.any():
            continue
        f1 = []
        for t in candidates:
            predicted = probabilities[:, column] >= t
            tp = float((predicted & truth).sum())
            f1.append(2 * tp / max(predicted.sum() + truth.sum(), 1))
        thresholds[column] = candidates[int(np.argmax(f1))]
    return thresholds
