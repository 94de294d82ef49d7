"""The clause model: CUAD categories as exact spans, from sentence pieces to whole paragraphs, on a CPU.

Three trained parts, all linear, all plain arrays in model_backends/weights/clause_model.npz:
  1. a text scorer: TF-IDF over words and word pairs of the span, plus its section heading, with one logistic
     output per category (class-balanced, so it ranks well but its probabilities are not calibrated);
  2. per category, a calibrator over each candidate passage (sentence, piece, 2-3 sentences, paragraph — see
     document_io/span_candidates.py): its text score, its sentences' scores, its length against the category's
     typical label length, its rank in the contract. It answers "does this span match a label?" (CUAD's rule:
     word-set Jaccard >= 0.5), so scores are comparable across categories and one threshold sweep means something;
  3. a phrase scorer for the short answers (Parties, Document Name, Agreement/Effective/Expiration Date): hashed
     features of dates, sentences that start the term, titles, company names and defined terms, one logistic
     output per category (so an Effective Date label that is a date and one that is a sentence compete on one scale).
Trained on CUAD's train split only by `python app.py train` (evals/clause_model_training.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sparse

from document_io.legal_text import SentenceUnit
from document_io.span_candidates import PASSAGE_KINDS, Passage, indexed_phrases, passages, phrase_features
from model_backends.text_features import TfidfVocabulary, hashed

WEIGHTS_PATH = Path(__file__).parent / "weights" / "clause_model.npz"
MODEL_VERSION = "clause-model-4"
PASSAGE_FLOOR = 0.05  # a passage is calibrated when its text score, or twice that for its best sentence, reaches this
PHRASE_FLOOR = 0.01


@dataclass(frozen=True)
class SpanScore:
    category: str
    start: int
    end: int
    score: float  # estimated probability that the span matches a labelled clause of the category
    kind: str  # passage kind (S, C, S2, S3, P) or phrase kind (date, start, title, name, term, caps, line)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


CALIBRATION_FEATURES = 12 + 3 * len(PASSAGE_KINDS)


def calibration_features(candidates: list[Passage], word_counts: np.ndarray, text_scores: np.ndarray,
                         sentence_scores: np.ndarray, typical_words: float, sentence_rows: list[np.ndarray],
                         floor: float = PASSAGE_FLOOR) -> tuple[np.ndarray, np.ndarray]:
    """For one category: (the candidates worth calibrating, their feature rows). `text_scores` holds each
    candidate's text score, `sentence_scores` each sentence's, `sentence_rows` each candidate's sentences."""
    best_sentence = np.array([sentence_scores[rows].max() for rows in sentence_rows]) if candidates else np.zeros(0)
    kept = np.nonzero((text_scores >= floor) | (best_sentence >= 2 * floor))[0]
    if len(kept) == 0:
        return kept, np.zeros((0, CALIBRATION_FEATURES), np.float32)
    top = np.sort(sentence_scores)[::-1]
    contract_best = float(_logit(top[:1])[0])
    runner_up = float(_logit(top[1:2])[0]) if len(top) > 1 else -14.0
    kinds = np.array([PASSAGE_KINDS.index(candidates[i].kind) for i in kept])
    rank = np.zeros(len(kept))
    for kind in range(len(PASSAGE_KINDS)):
        same = np.nonzero(kinds == kind)[0]
        order = same[np.argsort(-text_scores[kept[same]], kind="stable")]
        rank[order] = np.arange(len(order))
    own = _logit(text_scores[kept])
    sentence_logits = [_logit(sentence_scores[sentence_rows[i]]) for i in kept]
    words = np.maximum(word_counts[kept], 1)
    length_gap = np.log(words) - np.log(typical_words)
    one_hot = np.eye(len(PASSAGE_KINDS))[kinds]
    features = np.column_stack([
        own, [s.max() for s in sentence_logits], [s.mean() for s in sentence_logits], [s.min() for s in sentence_logits],
        np.log(words), length_gap, length_gap**2, 1 / (1 + rank), own - contract_best,
        np.full(len(kept), contract_best), np.full(len(kept), contract_best - runner_up),
        [np.sqrt(len(candidates[i].rows)) for i in kept],
        one_hot, one_hot * own[:, None], one_hot * length_gap[:, None],
    ]).astype(np.float32)
    return kept, features


@dataclass
class ScoredPassages:
    """A contract's candidate passages with their text scores and what calibrating them needs, computed once for
    every category (inference and training both start here)."""

    candidates: list[Passage]
    scores: np.ndarray  # (candidates, categories) text scores
    sentence_scores: np.ndarray  # (sentences, categories): each sentence's own candidate's scores
    word_counts: np.ndarray  # (candidates,)
    rows: list[np.ndarray]  # each candidate's sentences

    def calibration_features(self, column: int, typical_words: float) -> tuple[np.ndarray, np.ndarray]:
        return calibration_features(self.candidates, self.word_counts, self.scores[:, column],
                                    self.sentence_scores[:, column], typical_words, self.rows)


@dataclass
class ClauseModel:
    categories: list[str]
    text_vocabulary: TfidfVocabulary
    heading_vocabulary: TfidfVocabulary
    text_weights: np.ndarray  # (text terms + heading terms, categories)
    text_bias: np.ndarray  # (categories,)
    typical_words: np.ndarray  # (categories,) median words of a training label
    calibration_mean: np.ndarray  # (categories, features)
    calibration_scale: np.ndarray
    calibration_weights: np.ndarray
    calibration_bias: np.ndarray  # (categories,); NaN where a category had too few labels to calibrate
    thresholds: np.ndarray  # (categories,) operating point on calibrated sentence scores (best F1 on train)
    phrase_categories: list[str]
    phrase_weights: np.ndarray  # (hash dimensions, phrase categories)
    phrase_bias: np.ndarray
    trained_on: str
    version: str = MODEL_VERSION

    # --- scoring -------------------------------------------------------------------------------------

    def text_scores(self, texts: list[str], headings: list[str]) -> np.ndarray:
        """(texts, categories) uncalibrated scores of the text scorer."""
        if not texts:
            return np.zeros((0, len(self.categories)), np.float32)
        features = sparse.hstack([self.text_vocabulary.transform(texts), self.heading_vocabulary.transform(headings)]).tocsr()
        return _sigmoid(np.asarray(features @ self.text_weights) + self.text_bias).astype(np.float32)

    def calibrate(self, column: int, features: np.ndarray) -> np.ndarray:
        if np.isnan(self.calibration_bias[column]) or len(features) == 0:
            return np.zeros(len(features), np.float32)
        scaled = (features - self.calibration_mean[column]) / self.calibration_scale[column]
        return _sigmoid(scaled @ self.calibration_weights[column] + self.calibration_bias[column]).astype(np.float32)

    def scored_passages(self, text: str, units: list[SentenceUnit]) -> ScoredPassages:
        """The candidate passages of a contract and their text scores (before calibration)."""
        candidates = passages(text, units)
        headings = [units[p.rows[0]].heading or "" for p in candidates]
        scores = self.text_scores([text[p.start : p.end] for p in candidates], headings)
        sentence_of = {p.rows[0]: i for i, p in enumerate(candidates) if p.kind == "S"}
        sentence_scores = scores[[sentence_of[row] for row in range(len(units))]] if units else scores[:0]
        word_counts = np.array([len(text[p.start : p.end].split()) for p in candidates], dtype=np.float32)
        return ScoredPassages(candidates, scores, sentence_scores, word_counts, [np.array(p.rows) for p in candidates])

    def passage_scores(self, text: str, units: list[SentenceUnit]) -> tuple[list[Passage], np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]:
        """Candidates, their text scores and, per category, (kept candidate indexes, calibrated scores)."""
        scored = self.scored_passages(text, units)
        calibrated = {}
        for column in range(len(self.categories)):
            kept, features = scored.calibration_features(column, float(self.typical_words[column]))
            calibrated[column] = (kept, self.calibrate(column, features))
        return scored.candidates, scored.scores, calibrated

    def phrase_scores(self, text: str) -> tuple[list, np.ndarray]:
        found = indexed_phrases(text)
        if not found:
            return [], np.zeros((0, len(self.phrase_categories)), np.float32)
        features = hashed(phrase_features(text, phrase, index) for phrase, index in found)
        return [p for p, _ in found], _sigmoid(np.asarray(features @ self.phrase_weights) + self.phrase_bias)

    def predict(self, text: str, units: list[SentenceUnit], floor: float = 0.0) -> list[SpanScore]:
        """Every candidate span with its calibrated score >= floor, one per (category, start, end)."""
        best: dict[tuple[str, int, int], SpanScore] = {}

        def keep(span: SpanScore) -> None:
            key = (span.category, span.start, span.end)
            if span.score >= floor and (key not in best or best[key].score < span.score):
                best[key] = span

        candidates, _, calibrated = self.passage_scores(text, units)
        for column, (kept, scores) in calibrated.items():
            for index, score in zip(kept, scores):
                candidate = candidates[index]
                keep(SpanScore(self.categories[column], candidate.start, candidate.end, round(float(score), 4), candidate.kind))
        found, scores = self.phrase_scores(text)
        for phrase, row in zip(found, scores):
            for column, category in enumerate(self.phrase_categories):
                if row[column] >= PHRASE_FLOOR:
                    keep(SpanScore(category, phrase.start, phrase.end, round(float(row[column]), 4), phrase.kind))
        return sorted(best.values(), key=lambda s: (s.start, s.end, s.category))

    def sentence_scores(self, text: str, units: list[SentenceUnit]) -> np.ndarray:
        """(sentences, categories): each sentence's calibrated score; 0 where it was not worth calibrating."""
        scores = np.zeros((len(units), len(self.categories)), np.float32)
        if not units:
            return scores
        candidates, _, calibrated = self.passage_scores(text, units)
        for column, (kept, calibrated_scores) in calibrated.items():
            for index, score in zip(kept, calibrated_scores):
                if candidates[index].kind == "S":
                    scores[candidates[index].rows[0], column] = score
        return scores

    def sentence_votes(self, text: str, units: list[SentenceUnit]) -> np.ndarray:
        """Each sentence's calibrated score over its category's operating threshold (>= 1: the model says yes)."""
        return self.sentence_scores(text, units) / self.thresholds

    # --- persistence ---------------------------------------------------------------------------------

    def save(self, path: Path = WEIGHTS_PATH) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path, categories=np.array(self.categories), text_weights=self.text_weights.astype(np.float16),
            text_bias=self.text_bias.astype(np.float32), typical_words=self.typical_words.astype(np.float32),
            calibration_mean=self.calibration_mean, calibration_scale=self.calibration_scale,
            calibration_weights=self.calibration_weights, calibration_bias=self.calibration_bias,
            thresholds=self.thresholds, phrase_categories=np.array(self.phrase_categories),
            phrase_weights=self.phrase_weights.astype(np.float16), phrase_bias=self.phrase_bias,
            trained_on=np.array(self.trained_on), version=np.array(self.version),
            **self.text_vocabulary.as_arrays("text"), **self.heading_vocabulary.as_arrays("heading"),
        )

    @classmethod
    def load(cls, path: Path = WEIGHTS_PATH) -> ClauseModel:
        if not path.is_file():
            raise FileNotFoundError(f"clause model weights missing at {path}; run `python app.py train`")
        with np.load(path, allow_pickle=False) as data:
            return cls(
                categories=[str(c) for c in data["categories"]],
                text_vocabulary=TfidfVocabulary.from_arrays(data, "text"),
                heading_vocabulary=TfidfVocabulary.from_arrays(data, "heading"),
                text_weights=data["text_weights"].astype(np.float32), text_bias=data["text_bias"],
                typical_words=data["typical_words"], calibration_mean=data["calibration_mean"],
                calibration_scale=data["calibration_scale"], calibration_weights=data["calibration_weights"],
                calibration_bias=data["calibration_bias"], thresholds=data["thresholds"],
                phrase_categories=[str(c) for c in data["phrase_categories"]],
                phrase_weights=data["phrase_weights"].astype(np.float32), phrase_bias=data["phrase_bias"],
                trained_on=str(data["trained_on"]), version=str(data["version"]),
            )


@lru_cache(maxsize=1)
def shipped_model() -> ClauseModel:
    return ClauseModel.load()
