"""Clause extraction agent: which sentences belong to which clause category, as exact character spans.

Local engine, per sentence and category, three kinds of evidence:
  - signals: the category's regexes (from the library YAML) found in the sentence;
  - heading: the paragraph's section heading names the category;
  - similarity: cosine between the sentence and the category's texts in the Chroma store.
A sentence is accepted with a signal backed by a heading or a fair similarity, or on high similarity
alone. Adjacent accepted sentences of one category in one paragraph merge into one clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from agents.injection_guard import find_injections
from agents.legal_text import sentence_spans
from agents.schema import ExtractedClause, ExtractionResult, Span
from document_io.models import SourceDocument
from model_backends.local_engine import LocalEngine

_HEADING = re.compile(
    r"^\s*(?:(?:section|article|clause)\s+)?(?:\d+(?:\.\d+)*\.?|[A-Z]\.|\([a-z0-9]+\))?\s*(?P<heading>[A-Z][A-Za-z ,&/'-]{2,60}?)\s*[.:—–-]\s",
    re.IGNORECASE,
)
SIMILARITY_WITH_SIGNAL = 0.35
SIMILARITY_ALONE = 0.70


class ExtractionInput(BaseModel):
    document: SourceDocument


@dataclass
class _Unit:
    paragraph_start: int
    start: int
    end: int
    text: str
    heading: str | None


def extract_clauses(data: ExtractionInput, engine: LocalEngine) -> ExtractionResult:
    document = data.document
    units = _units(document)
    clauses: list[ExtractedClause] = []
    if units:
        similarity = _similarity(engine, [u.text for u in units])
        categories = list(engine.library.categories.values())
        accepted: dict[tuple[int, str], list[tuple[_Unit, float, str]]] = {}
        for row, unit in enumerate(units):
            for category in categories:
                score, method = _score(unit, category, similarity[row].get(category.id, 0.0))
                if score > 0:
                    accepted.setdefault((unit.paragraph_start, category.id), []).append((unit, score, method))
        for (_, category_id), hits in accepted.items():
            clauses.extend(_merge(document, category_id, hits))
    clauses.sort(key=lambda c: (c.span.start, c.category))
    return ExtractionResult(clauses=clauses, injection_flags=find_injections(document))


def _units(document: SourceDocument) -> list[_Unit]:
    units = []
    for paragraph in document.paragraphs:
        text = paragraph.text
        if len(text.strip()) < 15:
            continue
        match = _HEADING.match(text)
        heading = match.group("heading").strip() if match else None
        for start, end in sentence_spans(text):
            if end - start >= 15:
                units.append(_Unit(paragraph.start, paragraph.start + start, paragraph.start + end, text[start:end], heading))
    return units


def _similarity(engine: LocalEngine, texts: list[str]) -> list[dict[str, float]]:
    """Per sentence, the best cosine against each category's indexed texts."""
    prototypes = engine.prototypes
    vectors = engine.embedder.embed(texts)
    scores = vectors @ prototypes.vectors.T
    ids = np.array(prototypes.category_ids)
    per_category = {c: scores[:, ids == c].max(axis=1) for c in set(prototypes.category_ids)}
    return [{c: float(column[row]) for c, column in per_category.items()} for row in range(len(texts))]


def _score(unit: _Unit, category, similarity: float) -> tuple[float, str]:
    signals = sum(1 for regex in category.signals if re.search(regex, unit.text, re.IGNORECASE))
    heading = bool(unit.heading and re.search(category.heading, unit.heading, re.IGNORECASE))
    if signals and (heading or similarity >= SIMILARITY_WITH_SIGNAL):
        score = min(1.0, 0.55 + 0.1 * signals + (0.15 if heading else 0) + max(0.0, similarity - 0.35))
        return round(score, 3), "rules+embedding"
    if heading and similarity >= SIMILARITY_WITH_SIGNAL:
        return round(min(1.0, 0.5 + similarity - 0.35), 3), "rules+embedding"
    if similarity >= SIMILARITY_ALONE:
        return round(similarity, 3), "embedding"
    return 0.0, ""


def _merge(document: SourceDocument, category_id: str, hits: list[tuple[_Unit, float, str]]) -> list[ExtractedClause]:
    """Join consecutive accepted sentences of one paragraph into one clause span."""
    hits.sort(key=lambda h: h[0].start)
    merged: list[ExtractedClause] = []
    group = [hits[0]]
    for hit in hits[1:]:
        between = document.text[group[-1][0].end : hit[0].start]
        if between.strip() == "":
            group.append(hit)
        else:
            merged.append(_clause(document, category_id, group))
            group = [hit]
    merged.append(_clause(document, category_id, group))
    return merged


def _clause(document: SourceDocument, category_id: str, group: list[tuple[_Unit, float, str]]) -> ExtractedClause:
    start, end = group[0][0].start, group[-1][0].end
    methods = {m for _, _, m in group}
    return ExtractedClause(
        category=category_id,
        span=Span.of(document, start, end),
        score=max(s for _, s, _ in group),
        method="rules+embedding" if "rules+embedding" in methods else "embedding",
    )
