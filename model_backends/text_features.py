"""Sparse text features for the clause model: TF-IDF over words and word pairs, and hashed string features.

Written here rather than taken from scikit-learn so that inference needs only numpy and scipy and the shipped
weights are plain arrays (no pickles): the vocabulary, the inverse document frequencies and nothing else.
Tokens are runs of two or more word characters, lower-cased; term frequency is dampened (1 + log tf) when
`sublinear`; every row is L2-normalised.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse

_TOKEN = re.compile(r"\b\w\w+\b")
HASH_DIMENSIONS = 2**18


def terms(text: str, bigrams: bool) -> list[str]:
    words = _TOKEN.findall(text.lower())
    if bigrams:
        return words + [f"{a} {b}" for a, b in zip(words, words[1:])]
    return words


@dataclass
class TfidfVocabulary:
    vocabulary: dict[str, int]
    idf: np.ndarray  # (terms,) float32
    bigrams: bool
    sublinear: bool

    @classmethod
    def fit(cls, texts: list[str], *, bigrams: bool, sublinear: bool, min_df: int = 2, max_terms: int = 200_000) -> TfidfVocabulary:
        """Terms seen in at least `min_df` texts, the `max_terms` most frequent overall; smoothed idf."""
        document_frequency: Counter[str] = Counter()
        total_frequency: Counter[str] = Counter()
        for text in texts:
            found = terms(text, bigrams)
            total_frequency.update(found)
            document_frequency.update(set(found))
        kept = [t for t, df in document_frequency.items() if df >= min_df]
        kept.sort(key=lambda t: (-total_frequency[t], t))
        kept = sorted(kept[:max_terms])
        rows = len(texts)
        idf = np.array([np.log((1 + rows) / (1 + document_frequency[t])) + 1 for t in kept], dtype=np.float32)
        return cls({t: i for i, t in enumerate(kept)}, idf, bigrams, sublinear)

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        data, indices, pointers = [], [], [0]
        for text in texts:
            counts = Counter(i for t in terms(text, self.bigrams) if (i := self.vocabulary.get(t)) is not None)
            columns = np.fromiter(counts.keys(), dtype=np.int32, count=len(counts))
            values = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            if self.sublinear:
                values = 1 + np.log(values)
            values *= self.idf[columns]
            norm = float(np.sqrt((values**2).sum()))
            if norm > 0:
                values /= norm
            indices.append(columns)
            data.append(values)
            pointers.append(pointers[-1] + len(columns))
        return sparse.csr_matrix(
            (np.concatenate(data) if data else np.zeros(0, np.float32),
             np.concatenate(indices) if indices else np.zeros(0, np.int32), np.array(pointers)),
            shape=(len(pointers) - 1, len(self.vocabulary)), dtype=np.float32,
        )

    def as_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        ordered = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        return {f"{prefix}_terms": np.array(ordered), f"{prefix}_idf": self.idf,
                f"{prefix}_flags": np.array([self.bigrams, self.sublinear])}

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> TfidfVocabulary:
        ordered = [str(t) for t in arrays[f"{prefix}_terms"]]
        bigrams, sublinear = (bool(x) for x in arrays[f"{prefix}_flags"])
        return cls({t: i for i, t in enumerate(ordered)}, arrays[f"{prefix}_idf"].astype(np.float32), bigrams, sublinear)


def hashed(rows: Iterable[list[str]], dimensions: int = HASH_DIMENSIONS) -> sparse.csr_matrix:
    """String features -> a sparse count matrix by CRC-32 (stable across processes, unlike Python's hash)."""
    data, indices, pointers = [], [], [0]
    for features in rows:
        counts = Counter(zlib.crc32(f.encode()) % dimensions for f in features)
        indices.extend(counts.keys())
        data.extend(counts.values())
        pointers.append(len(indices))
    return sparse.csr_matrix((np.array(data, np.float32), np.array(indices, np.int32), np.array(pointers)),
                             shape=(len(pointers) - 1, dimensions), dtype=np.float32)
