"""Train the clause model on CUAD's train split (`python app.py train`); the dev split is never touched.

1. Text scorer: every sentence, with its heading, labelled per category when it lies mostly inside a labelled
   clause or holds most of one; TF-IDF + class-balanced logistic regression (liblinear), one per category.
2. Calibrators: the text scorer is refitted on each half of the contracts and scores every candidate passage
   of the other half (out of fold, so the calibrator sees scores as they will be on unseen paper); per category,
   a logistic regression learns whether a passage matches a label under CUAD's rule.
3. Phrase scorer: dates, sentences that start the term, titles, names and defined terms, labelled when they match a
   short-answer label; its regularisation per category by cross-validation on the train split.
Takes about two and a half minutes on two cores; scikit-learn is needed here only, not at inference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from document_io.legal_text import QuoteLocator, SentenceUnit, sentence_units
from document_io.models import document_from_text
from document_io.span_candidates import indexed_phrases, phrase_features
from evals.datasets import LabelledContract
from evals.metrics import jaccard, matches
from model_backends.clause_model import CALIBRATION_FEATURES, ClauseModel, ScoredPassages
from model_backends.text_features import TfidfVocabulary, hashed

PHRASE_CATEGORIES = ["Parties", "Document Name", "Agreement Date", "Effective Date", "Expiration Date"]
MOSTLY = 0.5
MIN_POSITIVES = 3


@dataclass
class TrainingSettings:
    text_c: float = 4.0  # inverse regularisation of the text scorer
    calibration_c: float = 1.0
    # The phrase scorer's inverse regularisation: phrase_c, or per category another of the grid that clearly wins a
    # cross-validation on the train split (dates do: a few hundred labels in near-identical contexts).
    phrase_c: float = 1.0
    phrase_c_grid: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0)
    phrase_c_margin: float = 0.005  # average precision a C must gain over phrase_c's to replace it
    folds: int = 2


@dataclass
class PreparedContract:
    id: str
    text: str
    units: list[SentenceUnit]
    labels: dict[str, list[str]]
    spans: dict[str, list[tuple[int, int]]]


def prepare(contract: LabelledContract) -> PreparedContract:
    document = document_from_text(name=contract.id, text=contract.text)
    locator = QuoteLocator(document.text)
    spans = {category: [s for quote in quotes for s in locator.find_all(quote)[:3]] for category, quotes in contract.labels.items()}
    return PreparedContract(contract.id, document.text, sentence_units(document), contract.labels, spans)


# Categories whose text scorer learns only from sentences a label mostly covers. Effective Date's labels are half
# dates inside the preamble, half whole sentences ("This Agreement shall commence on 1 January 1998."); counting the
# preamble as a positive sentence taught the scorer "preamble" instead of "commences / becomes effective" (the dates
# themselves are the phrase scorer's). Chosen on dev: Effective Date AUPR 0.384 -> 0.412, no other category lower.
SENTENCE_LABEL_CATEGORIES = {"Effective Date"}


def sentence_targets(contract: PreparedContract, categories: list[str]) -> np.ndarray:
    """(sentences, categories): 1 where a label covers most of the sentence, or (outside SENTENCE_LABEL_CATEGORIES)
    the sentence holds most of a label."""
    starts = np.array([u.start for u in contract.units])
    ends = np.array([u.end for u in contract.units])
    targets = np.zeros((len(contract.units), len(categories)), dtype=np.float32)
    for column, category in enumerate(categories):
        for start, end in contract.spans.get(category, []):
            overlap = np.clip(np.minimum(ends, end) - np.maximum(starts, start), 0, None)
            covered = overlap >= MOSTLY * (ends - starts)
            if category not in SENTENCE_LABEL_CATEGORIES:
                covered |= overlap >= MOSTLY * (end - start)
            targets[covered, column] = 1.0
    return targets


def _empty_model(categories: list[str], trained_on: str) -> ClauseModel:
    count = len(categories)
    return ClauseModel(
        categories=categories, text_vocabulary=None, heading_vocabulary=None, text_weights=None, text_bias=None,  # type: ignore[arg-type]
        typical_words=np.ones(count, np.float32),
        calibration_mean=np.zeros((count, CALIBRATION_FEATURES), np.float32),
        calibration_scale=np.ones((count, CALIBRATION_FEATURES), np.float32),
        calibration_weights=np.zeros((count, CALIBRATION_FEATURES), np.float32),
        calibration_bias=np.full(count, np.nan, np.float32), thresholds=np.full(count, 0.5, np.float32),
        phrase_categories=[], phrase_weights=np.zeros((1, 0), np.float32), phrase_bias=np.zeros(0, np.float32),
        trained_on=trained_on,
    )


def fit_text_scorer(model: ClauseModel, contracts: list[PreparedContract], settings: TrainingSettings) -> None:
    texts = [u.text for c in contracts for u in c.units]
    headings = [u.heading or "" for c in contracts for u in c.units]
    targets = np.vstack([sentence_targets(c, model.categories) for c in contracts])
    model.text_vocabulary = TfidfVocabulary.fit(texts, bigrams=True, sublinear=True)
    model.heading_vocabulary = TfidfVocabulary.fit(headings, bigrams=False, sublinear=False)
    features = sparse.hstack([model.text_vocabulary.transform(texts), model.heading_vocabulary.transform(headings)]).tocsr()
    model.text_weights = np.zeros((features.shape[1], len(model.categories)), np.float32)
    model.text_bias = np.full(len(model.categories), -20.0, np.float32)  # a category never labelled: never predicted
    for column in range(len(model.categories)):
        if targets[:, column].sum() < 2:
            continue
        fitted = LogisticRegression(C=settings.text_c, class_weight="balanced", max_iter=2000, solver="liblinear")
        fitted.fit(features, targets[:, column])
        model.text_weights[:, column] = fitted.coef_[0]
        model.text_bias[column] = fitted.intercept_[0]


def fit_calibrators(model: ClauseModel, scored: list[tuple[PreparedContract, ScoredPassages]], settings: TrainingSettings) -> None:
    """`scored`: each contract with its candidate passages and their out-of-fold text scores."""
    for column, category in enumerate(model.categories):
        rows, targets, is_sentence = [], [], []
        for contract, passages_of in scored:
            if not contract.units:
                continue
            candidates = passages_of.candidates
            kept, features = passages_of.calibration_features(column, float(model.typical_words[column]))
            gold = contract.labels.get(category, [])
            rows.append(features)
            targets.extend(any(matches(category, contract.text[candidates[i].start : candidates[i].end], g) for g in gold) for i in kept)
            is_sentence.extend(candidates[i].kind == "S" for i in kept)
        features = np.vstack(rows) if rows else np.zeros((0, CALIBRATION_FEATURES), np.float32)
        targets = np.array(targets, dtype=bool)
        if targets.sum() < MIN_POSITIVES or targets.all():
            continue
        mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-6
        fitted = LogisticRegression(C=settings.calibration_c, max_iter=2000).fit((features - mean) / scale, targets)
        model.calibration_mean[column], model.calibration_scale[column] = mean, scale
        model.calibration_weights[column], model.calibration_bias[column] = fitted.coef_[0], fitted.intercept_[0]
        sentence = np.array(is_sentence, dtype=bool)
        model.thresholds[column] = best_f1_threshold(model.calibrate(column, features[sentence]), targets[sentence])


def best_f1_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    best, best_f1 = 0.5, -1.0
    for threshold in np.linspace(0.05, 0.95, 37):
        predicted = scores >= threshold
        f1 = 2 * float((predicted & truth).sum()) / max(int(predicted.sum() + truth.sum()), 1)
        if f1 > best_f1:
            best, best_f1 = float(threshold), f1
    return best


def fit_phrase_scorer(model: ClauseModel, contracts: list[PreparedContract], settings: TrainingSettings,
                      on_step: Callable[[str], None] = lambda step: None) -> None:
    categories = [c for c in PHRASE_CATEGORIES if c in model.categories]
    feature_rows, targets, owners = [], [], []
    for number, contract in enumerate(contracts):
        for phrase, index in indexed_phrases(contract.text):
            feature_rows.append(phrase_features(contract.text, phrase, index))
            body = contract.text[phrase.start : phrase.end]
            targets.append([any(jaccard(body, g) >= 0.5 for g in contract.labels.get(c, [])) for c in categories])
            owners.append(number)
    features = hashed(feature_rows)
    targets = np.array(targets, dtype=bool).reshape(len(feature_rows), len(categories))
    model.phrase_categories = []
    weights, biases = [], []
    for column, category in enumerate(categories):
        if targets[:, column].sum() < MIN_POSITIVES:
            continue
        c = phrase_regularisation(features, targets[:, column], np.array(owners), settings)
        on_step(f"phrase scorer for {category}: C={c} by cross-validation")
        fitted = LogisticRegression(C=c, max_iter=3000, solver="liblinear").fit(features, targets[:, column])
        model.phrase_categories.append(category)
        weights.append(fitted.coef_[0])
        biases.append(fitted.intercept_[0])
    model.phrase_weights = np.column_stack(weights).astype(np.float32) if weights else np.zeros((features.shape[1], 0), np.float32)
    model.phrase_bias = np.array(biases, np.float32)


def phrase_regularisation(features: sparse.csr_matrix, target: np.ndarray, owners: np.ndarray, settings: TrainingSettings) -> float:
    """settings.phrase_c, unless a C of settings.phrase_c_grid beats it by more than settings.phrase_c_margin in
    mean average precision over `settings.folds` folds of contracts (a contract's phrases stay in one fold).
    The margin keeps the default where the folds cannot tell: phrase-level precision does not see how phrases
    compete with whole sentences, and Parties, whose folds are level, lose exact names at C=0.3 on dev."""

    def cross_validated(c: float) -> float:
        precisions = []
        for fold in range(settings.folds):
            held = owners % settings.folds == fold
            if target[held].any() and target[~held].any():
                fitted = LogisticRegression(C=c, max_iter=3000, solver="liblinear").fit(features[~held], target[~held])
                precisions.append(average_precision_score(target[held], fitted.decision_function(features[held])))
        return float(np.mean(precisions)) if precisions else 0.0

    best, best_precision = settings.phrase_c, cross_validated(settings.phrase_c) + settings.phrase_c_margin
    for c in settings.phrase_c_grid:
        if c != settings.phrase_c and (precision := cross_validated(c)) > best_precision:
            best, best_precision = c, precision
    return best


def train_clause_model(contracts: list[LabelledContract], categories: list[str], trained_on: str,
                       settings: TrainingSettings = TrainingSettings(),
                       on_step: Callable[[str], None] = lambda step: None) -> ClauseModel:
    on_step("reading contracts")
    prepared = [prepare(c) for c in contracts]
    model = _empty_model(categories, trained_on)
    for column, category in enumerate(categories):
        words = [len(label.split()) for c in prepared for label in c.labels.get(category, [])]
        model.typical_words[column] = float(np.median(words)) if words else 30.0
    scored: list[tuple[PreparedContract, ScoredPassages]] = []
    for fold in range(settings.folds):
        on_step(f"text scorer for fold {fold + 1} of {settings.folds}")
        held = prepared[fold :: settings.folds]
        fold_model = _empty_model(categories, trained_on)
        fit_text_scorer(fold_model, [c for i, c in enumerate(prepared) if i % settings.folds != fold], settings)
        for contract in held:
            scored.append((contract, fold_model.scored_passages(contract.text, contract.units)))
    on_step("text scorer on the whole train split")
    fit_text_scorer(model, prepared, settings)
    on_step("calibrators")
    fit_calibrators(model, scored, settings)
    on_step("phrase scorer")
    fit_phrase_scorer(model, prepared, settings, on_step)
    return model

