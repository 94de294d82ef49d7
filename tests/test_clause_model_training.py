"""Training on the train split: the phrase scorer's regularisation per category, and the cross-fitted estimate."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sparse

from evals.clause_model_training import TrainingSettings, phrase_regularisation
from evals.datasets import SHARED_CUAD, CuadDataset


def _phrases(seed: int, signal_columns: int = 30, rows: int = 400, single_signal: bool = False):
    """Sparse phrase features as hashed context words are: `signal_columns` words that are more frequent near a
    positive (30% against 10%) and 3,000 rare random words. Phrases belong to contracts of ten phrases each.
    `single_signal`: one word that is always and only there for a positive instead."""
    rng = np.random.default_rng(seed)
    target = rng.random(rows) < 0.15
    if single_signal:
        signal = target[:, None].astype(float)
    else:
        signal = (rng.random((rows, signal_columns)) < np.where(target[:, None], 0.3, 0.1)).astype(float)
    noise = sparse.random(rows, 3000, density=0.01, random_state=seed, data_rvs=lambda n: np.ones(n))
    return sparse.hstack([sparse.csr_matrix(signal), noise]).tocsr(), target, np.arange(rows) // 10


def test_where_the_folds_cannot_tell_the_default_is_kept():
    features, target, owners = _phrases(seed=7, single_signal=True)  # every C ranks it perfectly
    assert phrase_regularisation(features, target, owners, TrainingSettings()) == 1.0


def test_a_value_that_clearly_wins_the_cross_validation_replaces_the_default():
    features, target, owners = _phrases(seed=8)  # many weak words: less regularisation ranks better here
    assert phrase_regularisation(features, target, owners, TrainingSettings()) == 3.0
    # a margin no value can clear keeps the default, and so does a grid of only weaker values
    assert phrase_regularisation(features, target, owners, TrainingSettings(phrase_c_margin=1.0)) == 1.0
    assert phrase_regularisation(features, target, owners, TrainingSettings(phrase_c_grid=(0.1, 0.3))) == 1.0


def test_a_fold_without_positives_is_skipped_not_an_error():
    features, target, owners = _phrases(seed=7, rows=200, single_signal=True)
    target = target & (owners % 2 == 0)  # every positive in one fold
    assert phrase_regularisation(features, target, owners, TrainingSettings()) == 1.0


@pytest.mark.skipif(not SHARED_CUAD.is_dir(), reason="../shared/datasets/cuad is not here")
def test_cross_fit_scores_every_contract_with_a_model_that_never_saw_it(monkeypatch):
    import evals.cross_fit as cross_fit_module

    dataset = CuadDataset()
    contracts = list(dataset.contracts("train"))[:8]
    trained_on: list[set[str]] = []
    scored: list[str] = []
    real_train, real_document = cross_fit_module.train_clause_model, cross_fit_module.document_from_text

    def spying_train(fold_contracts, *args, **kwargs):
        trained_on.append({c.id for c in fold_contracts})
        return real_train(fold_contracts, *args, **kwargs)

    def spying_document(name, text):
        scored.append(name)
        return real_document(name=name, text=text)

    monkeypatch.setattr(cross_fit_module, "train_clause_model", spying_train)
    monkeypatch.setattr(cross_fit_module, "document_from_text", spying_document)
    report = cross_fit_module.cross_fit(contracts, dataset.categories, dataset="cuad train split")
    assert sorted(scored) == sorted(c.id for c in contracts)  # every contract scored once
    assert len(trained_on) == 2 and not trained_on[0] & trained_on[1]
    assert trained_on[0] | trained_on[1] == {c.id for c in contracts}
    first_half = scored[: len(scored) // 2]
    assert not set(first_half) & trained_on[0] and not set(scored[len(scored) // 2 :]) & trained_on[1]
    labelled = {k: sum(len(c.labels.get(k, [])) for c in contracts) for k in dataset.categories}
    assert report.contracts == 8 and report.labels == {k: n for k, n in labelled.items() if n}
    assert all(0.0 <= v <= 1.0 for v in report.categories.values()) and set(report.categories) == set(report.labels)
