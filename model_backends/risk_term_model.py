"""The risk-term model: for each sentence of a contract, the chance that it states one of the one-sided terms a lawyer
flags first (exclusivity, non-compete, change of control, audit rights ...), in CUAD's categories.

One linear layer, plain arrays in model_backends/weights/risk_terms.npz, trained on CUAD's train split by
`python app.py train --risk-terms` (evals/risk_term_training.py). Its features per sentence:
  - TF-IDF over the sentence's words and word pairs;
  - TF-IDF over its section heading's words (x HEADING_WEIGHT);
  - TF-IDF over the words of the sentences just before and after it (x CONTEXT_WEIGHT): "Licensee shall not ...
    during the Term" reads as a non-compete mostly from what surrounds it;
  - per term, whether the term's signal regex (clause_library/risk_terms.yaml, copied into the weights when trained)
    is in the sentence.
A sentence is labelled for a term when it overlaps a CUAD label of that category - the review cites whole
sentences, so that is what it learns, unlike the clause model's "span matches a label" target. The operating threshold
per term is chosen out of fold on the train split and stored with the weights.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sparse

from document_io.legal_text import SentenceUnit
from model_backends.text_features import TfidfVocabulary

WEIGHTS_PATH = Path(__file__).parent / "weights" / "risk_terms.npz"
MODEL_VERSION = "risk-terms-1"
HEADING_WEIGHT = 0.5
CONTEXT_WEIGHT = 0.3


def context_texts(units: list[SentenceUnit]) -> list[str]:
    """Per sentence, the sentence before it and the one after it, joined."""
    texts = [u.text for u in units]
    return [f"{texts[i - 1] if i else ''} {texts[i + 1] if i + 1 < len(texts) else ''}" for i in range(len(texts))]


@dataclass
class RiskTermFeatures:
    words: TfidfVocabulary
    headings: TfidfVocabulary
    context: TfidfVocabulary
    signals: list[str]  # one regex per term, in the order of the terms

    def transform(self, units: list[SentenceUnit]) -> sparse.csr_matrix:
        texts = [u.text for u in units]
        compiled = [re.compile(s, re.IGNORECASE) for s in self.signals]
        signal_hits = np.array([[bool(rx.search(t)) for rx in compiled] for t in texts], dtype=np.float32).reshape(len(texts), len(compiled))
        return sparse.hstack([
            self.words.transform(texts),
            HEADING_WEIGHT * self.headings.transform([u.heading or "" for u in units]),
            CONTEXT_WEIGHT * self.context.transform(context_texts(units)),
            sparse.csr_matrix(signal_hits),
        ]).tocsr()

    @classmethod
    def fit(cls, units: list[SentenceUnit], signals: list[str]) -> RiskTermFeatures:
        return cls(
            words=TfidfVocabulary.fit([u.text for u in units], bigrams=True, sublinear=True, min_df=2, max_terms=150_000),
            headings=TfidfVocabulary.fit([u.heading or "" for u in units], bigrams=False, sublinear=True, min_df=2),
            context=TfidfVocabulary.fit(context_texts(units), bigrams=False, sublinear=True, min_df=2, max_terms=40_000),
            signals=signals,
        )


@dataclass
class RiskTermModel:
    terms: list[str]  # CUAD category names
    features: RiskTermFeatures
    weights: np.ndarray  # (features, terms)
    bias: np.ndarray  # (terms,)
    thresholds: np.ndarray  # (terms,) the operating point on the sentence score, chosen out of fold on train
    trained_on: str
    version: str = MODEL_VERSION

    def sentence_scores(self, units: list[SentenceUnit]) -> np.ndarray:
        """(sentences, terms): each sentence's score; compare with `thresholds`."""
        if not units:
            return np.zeros((0, len(self.terms)), np.float32)
        logits = np.asarray(self.features.transform(units) @ self.weights) + self.bias
        return (1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))).astype(np.float32)

    def save(self, path: Path = WEIGHTS_PATH) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path, terms=np.array(self.terms), signals=np.array(self.features.signals),
            weights=self.weights.astype(np.float16), bias=self.bias.astype(np.float32),
            thresholds=self.thresholds.astype(np.float32), trained_on=np.array(self.trained_on), version=np.array(self.version),
            **self.features.words.as_arrays("words"), **self.features.headings.as_arrays("headings"),
            **self.features.context.as_arrays("context"),
        )

    @classmethod
    def load(cls, path: Path = WEIGHTS_PATH) -> RiskTermModel:
        if not path.is_file():
            raise FileNotFoundError(f"risk-term model weights missing at {path}; run `python app.py train --risk-terms`")
        with np.load(path, allow_pickle=False) as data:
            features = RiskTermFeatures(
                words=TfidfVocabulary.from_arrays(data, "words"), headings=TfidfVocabulary.from_arrays(data, "headings"),
                context=TfidfVocabulary.from_arrays(data, "context"), signals=[str(s) for s in data["signals"]])
            return cls(terms=[str(t) for t in data["terms"]], features=features, weights=data["weights"].astype(np.float32),
                       bias=data["bias"], thresholds=data["thresholds"], trained_on=str(data["trained_on"]),
                       version=str(data["version"]))


@lru_cache(maxsize=1)
def shipped_risk_model() -> RiskTermModel:
    return RiskTermModel.load()
