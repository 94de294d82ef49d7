"""The trained clause head: a multi-label logistic layer over sentence embeddings, one output per CUAD category.

Features per sentence: its own MiniLM vector, the vector of its paragraph's first sentence (where the section
heading usually is) and a bias. Weights are trained on CUAD's train split by `python app.py train`
(model_backends/clause_head_training.py) and shipped in model_backends/weights/clause_head.npz (~130 kB).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from document_io.legal_text import SentenceUnit

WEIGHTS_PATH = Path(__file__).parent / "weights" / "clause_head.npz"


def head_features(units: list[SentenceUnit], vectors: np.ndarray) -> np.ndarray:
    """[sentence vector | paragraph-lead vector | 1] per unit."""
    lead_of: dict[int, int] = {}
    for row, unit in enumerate(units):
        lead_of.setdefault(unit.paragraph_start, row)
    leads = vectors[[lead_of[u.paragraph_start] for u in units]] if units else vectors
    bias = np.ones((len(units), 1), dtype=np.float32)
    return np.hstack([vectors, leads, bias]).astype(np.float32)


@dataclass
class ClauseHead:
    categories: list[str]
    weights: np.ndarray  # (features, categories)
    thresholds: np.ndarray  # per category: the operating point chosen on training data
    trained_on: str

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        logits = np.clip(features @ self.weights, -30, 30)
        return 1.0 / (1.0 + np.exp(-logits))

    def score_units(self, units: list[SentenceUnit], vectors: np.ndarray) -> np.ndarray:
        """(sentences, categories) probabilities for sentences and their MiniLM vectors."""
        return self.probabilities(head_features(units, vectors))

    def threshold(self, category: str) -> float:
        return float(self.thresholds[self.categories.index(category)])

    def save(self, path: Path = WEIGHTS_PATH) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path, categories=np.array(self.categories), weights=self.weights.astype(np.float32),
            thresholds=self.thresholds.astype(np.float32), trained_on=np.array(self.trained_on),
        )

    @classmethod
    def load(cls, path: Path = WEIGHTS_PATH) -> ClauseHead:
        if not path.is_file():
            raise FileNotFoundError(f"clause head weights missing at {path}; run `python app.py train`")
        with np.load(path, allow_pickle=False) as data:
            return cls(
                categories=[str(c) for c in data["categories"]], weights=data["weights"],
                thresholds=data["thresholds"], trained_on=str(data["trained_on"]),
            )


@lru_cache(maxsize=1)
def shipped_head() -> ClauseHead:
    return ClauseHead.load()
