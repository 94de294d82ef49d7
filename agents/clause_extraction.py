"""Clause extraction agent: which sentences belong to which clause category, as exact character spans.

Local engine, per sentence and category, four kinds of evidence:
  - signals: the category's regexes (from the library YAML) found in the sentence;
  - heading: the paragraph's section heading names the category;
  - similarity: cosine between the sentence and the category's texts in the Chroma store;
  - the clause model (model_backends/clause_model.py), trained on CUAD's train split, for the categories that
    have a CUAD counterpart.
A sentence is accepted with a signal backed by a heading or a fair similarity, on the clause model's yes backed
by any library cue, or on high similarity alone. Adjacent accepted sentences of one category in one paragraph merge into one clause.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pydantic import BaseModel, Field

from agents.injection_guard import find_injections
from document_io.legal_text import SentenceUnit, sentence_units
from agents.schema import ExtractedClause, ExtractionResult, Span
from document_io.models import SourceDocument
from model_backends.embeddings import DIMENSIONS
from model_backends.llm_client import AnswerTruncated, LLMClient, LLMError
from model_backends.local_engine import LocalEngine
from model_backends.prompt_templates import load_prompt
from model_backends.token_budget import pack_into_chunks

SIMILARITY_WITH_SIGNAL = 0.35
SIMILARITY_ALONE = 0.70


class ExtractionInput(BaseModel):
    document: SourceDocument


EMBED_VOTE = 0.3  # a sentence the clause model scores this close to a category's yes is embedded


def extract_clauses(data: ExtractionInput, engine: LocalEngine) -> ExtractionResult:
    units = sentence_units(data.document)
    votes = _model_votes(engine, data.document, units)
    return _extract(data.document, engine, units, _embedded(units, engine, _in_play(engine, units, votes)), votes)


def _in_play(engine: LocalEngine, units: list[SentenceUnit], votes: dict[str, np.ndarray]) -> np.ndarray:
    """The sentences worth embedding: a category's signal or heading, or the clause model near a yes. Only these
    can be accepted with a similarity anyway, except by "similarity alone"; on CUAD they are ~15% of sentences,
    and the embedder was ~90% of a review's CPU time."""
    categories = list(engine.library.categories.values())
    signals = _any_signal(engine)
    headings = re.compile("|".join(f"(?:{c.heading})" for c in categories if c.heading) or r"(?!x)x", re.IGNORECASE)
    near = np.column_stack(list(votes.values())).max(axis=1) >= EMBED_VOTE if votes else np.zeros(len(units), bool)
    return np.array([bool(near[row]) or bool(signals.search(u.text)) or bool(u.heading and headings.search(u.heading))
                     for row, u in enumerate(units)], dtype=bool)


def _any_signal(engine: LocalEngine) -> re.Pattern:
    """Any library category's signal, as one pattern (re caches the compiled form across calls)."""
    signals = [rx for c in engine.library.categories.values() for rx in c.signals]
    return re.compile("|".join(f"(?:{rx})" for rx in signals) or r"(?!x)x", re.IGNORECASE)


def _embedded(units: list[SentenceUnit], engine: LocalEngine, rows: np.ndarray | None = None) -> np.ndarray:
    """Sentence vectors (the costly step: the embedder is most of a review's time), for `rows` only when given;
    the others stay zero, which is similarity 0 to every category."""
    if rows is None:
        return engine.embedder.embed([u.text for u in units])
    vectors = np.zeros((len(units), DIMENSIONS), np.float32)
    chosen = np.nonzero(rows)[0]
    if len(chosen):
        vectors[chosen] = engine.embedder.embed([units[r].text for r in chosen])
    return vectors


def _extract(document: SourceDocument, engine: LocalEngine, units: list[SentenceUnit], vectors: np.ndarray,
             head_votes: dict[str, np.ndarray] | None = None) -> ExtractionResult:
    clauses: list[ExtractedClause] = []
    if units:
        similarity = _similarity(engine, vectors)
        if head_votes is None:
            head_votes = _model_votes(engine, document, units)
        categories = list(engine.library.categories.values())
        accepted: dict[tuple[int, str], list[tuple[SentenceUnit, float, str]]] = {}
        for row, unit in enumerate(units):
            for category in categories:
                head = head_votes.get(category.id)
                score, method = _score(unit, category, similarity[row].get(category.id, 0.0), None if head is None else float(head[row]))
                if score > 0:
                    accepted.setdefault((unit.paragraph_start, category.id), []).append((unit, score, method))
        for (_, category_id), hits in accepted.items():
            clauses.extend(_merge(document, category_id, hits))
    clauses.sort(key=lambda c: (c.span.start, c.category))
    return ExtractionResult(clauses=clauses, injection_flags=find_injections(document))


def cuad_candidates(document: SourceDocument, engine: LocalEngine, floor: float = 0.05) -> list[ExtractedClause]:
    """The clause model's spans in CUAD's taxonomy (sentences, pieces, passages, paragraphs, and phrases for
    dates, names and the document's title), each with its estimated chance of matching a label, down to
    `floor` (evaluation sweeps the threshold)."""
    units = sentence_units(document)
    return [
        ExtractedClause(category=s.category, span=Span.of(document, s.start, s.end), score=s.score, method="clause_model")
        for s in engine.clause_model.predict(document.text, units, floor)
    ]


def _model_votes(engine: LocalEngine, document: SourceDocument, units: list[SentenceUnit]) -> dict[str, np.ndarray]:
    """Per library category with a CUAD counterpart: the clause model's calibrated sentence score over that CUAD
    category's operating threshold (>= 1 means the model says yes)."""
    model = engine.clause_model
    by_name = {name.lower(): column for column, name in enumerate(model.categories)}
    votes = model.sentence_votes(document.text, units)
    out = {}
    for category in engine.library.categories.values():
        column = by_name.get((category.cuad_category or "").lower())
        if column is not None:
            out[category.id] = votes[:, column]
    return out


def _similarity(engine: LocalEngine, vectors: np.ndarray) -> list[dict[str, float]]:
    """Per sentence, the best cosine against each category's indexed texts."""
    prototypes = engine.prototypes
    scores = vectors @ prototypes.vectors.T
    ids = np.array(prototypes.category_ids)
    per_category = {c: scores[:, ids == c].max(axis=1) for c in set(prototypes.category_ids)}
    return [{c: float(column[row]) for c, column in per_category.items()} for row in range(len(vectors))]


def _score(unit: SentenceUnit, category, similarity: float, head_vote: float | None = None) -> tuple[float, str]:
    signals = sum(1 for regex in category.signals if re.search(regex, unit.text, re.IGNORECASE))
    heading = bool(unit.heading and re.search(category.heading, unit.heading, re.IGNORECASE))
    if head_vote is not None and head_vote >= 1.0 and (signals or heading or similarity >= SIMILARITY_WITH_SIGNAL):
        # the CUAD-trained model agrees with at least one library cue: phrasing the YAML signals do not cover
        return round(min(1.0, 0.6 + 0.1 * min(head_vote, 3.0)), 3), "clause_model"
    if signals and (heading or similarity >= SIMILARITY_WITH_SIGNAL):
        score = min(1.0, 0.55 + 0.1 * signals + (0.15 if heading else 0) + max(0.0, similarity - 0.35))
        return round(score, 3), "rules+embedding"
    if heading and similarity >= SIMILARITY_WITH_SIGNAL:
        return round(min(1.0, 0.5 + similarity - 0.35), 3), "rules+embedding"
    if similarity >= SIMILARITY_ALONE:
        return round(similarity, 3), "embedding"
    return 0.0, ""


def _merge(document: SourceDocument, category_id: str, hits: list[tuple[SentenceUnit, float, str]]) -> list[ExtractedClause]:
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


def _clause(document: SourceDocument, category_id: str, group: list[tuple[SentenceUnit, float, str]]) -> ExtractedClause:
    start, end = group[0][0].start, group[-1][0].end
    methods = {m for _, _, m in group}
    method = "rules+embedding" if "rules+embedding" in methods else methods.pop() if len(methods) == 1 else "embedding"
    return ExtractedClause(
        category=category_id,
        span=Span.of(document, start, end),
        score=round(max(s for _, s, _ in group), 4),
        method=method,
    )


# --- LLM backend ------------------------------------------------------------------------------------

PRESELECT_SIMILARITY = 0.30
CHUNK_TOKENS = 3_000


class NumberedClause(BaseModel):
    category: str
    sentence: int  # the candidate's number in the chunk, from 1
    start: int | None = None  # the clause's character offsets within the sentence, when it is only part of it
    end: int | None = None


class ExtractionAnswer(BaseModel):
    """Parsed leniently: an item with an unknown category or number is dropped and counted, not the whole answer."""

    clauses: list[NumberedClause] = Field(default_factory=list)


def extraction_wire_schema(categories: list[str], sentences: int) -> dict:
    """What the server is asked to hold to (constrained decoding where it can): known categories only, numbers in
    range, a bounded list."""
    item = {"type": "object", "additionalProperties": False, "required": ["category", "sentence"], "properties": {
        "category": {"type": "string", "enum": categories},
        "sentence": {"type": "integer", "minimum": 1, "maximum": sentences},
        "start": {"type": "integer", "minimum": 0}, "end": {"type": "integer", "minimum": 1}}}
    return {"title": "ExtractionAnswer", "type": "object", "additionalProperties": False, "required": ["clauses"],
            "properties": {"clauses": {"type": "array", "items": item, "maxItems": min(3 * sentences, 200)}}}


def extract_clauses_with_llm(data: ExtractionInput, engine: LocalEngine, llm: LLMClient) -> ExtractionResult:
    document = data.document
    categories = {c.id: c.description for c in engine.library.categories.values()}
    candidates = preselect_for_llm(sentence_units(document), engine)
    clauses = numbered_clauses_from_llm(document, candidates, categories, llm)
    return ExtractionResult(clauses=clauses, injection_flags=find_injections(document))


def numbered_clauses_from_llm(document: SourceDocument, candidates: list[SentenceUnit], categories: dict[str, str],
                              llm: LLMClient, *, skip_unanswered: bool = False) -> list[ExtractedClause]:
    """Ask the model which candidate sentences belong to which category (id -> description). The code numbers the
    sentences and the model answers numbers (and offsets within a sentence), so every span is exact by construction
    and the answer is short. Token-budgeted chunks go in parallel; a chunk whose answer is cut at the token limit
    is asked again as two halves. With `skip_unanswered`, a chunk with no valid answer is counted as unusable
    instead of ending the call."""
    listing = "\n".join(f"{category}: {description}" for category, description in categories.items())
    prompt = load_prompt("clause_extraction")
    chunks = pack_into_chunks([u.text for u in candidates], CHUNK_TOKENS)

    def ask(indexes: list[int], may_split: bool = True) -> list[tuple[list[int], ExtractionAnswer | None]]:
        text = "\n".join(f"[{number}] {candidates[i].text}" for number, i in enumerate(indexes, start=1))
        try:
            answer = llm.structured("clause_extraction", prompt, {"categories": listing, "contract_text": text},
                                    ExtractionAnswer, wire_schema=extraction_wire_schema(list(categories), len(indexes)))
            return [(indexes, answer)]
        except AnswerTruncated:
            if may_split and len(indexes) > 1:
                middle = len(indexes) // 2
                return ask(indexes[:middle], False) + ask(indexes[middle:], False)
            if not skip_unanswered:
                raise
            return [(indexes, None)]
        except LLMError:
            if not skip_unanswered:
                raise
            return [(indexes, None)]

    with ThreadPoolExecutor(max_workers=llm.settings.max_parallel) as pool:
        answers = [pair for pairs in pool.map(ask, chunks) for pair in pairs]
    return _grounded(document, candidates, answers, categories, llm)


def _grounded(document: SourceDocument, candidates: list[SentenceUnit], answers: list[tuple[list[int], ExtractionAnswer | None]],
              categories: dict[str, str], llm: LLMClient) -> list[ExtractedClause]:
    """The answered sentences (or the parts of them) under categories we have; a number outside the chunk, offsets
    outside the sentence or an unknown category is dropped and counted."""
    found: dict[tuple[str, int, int], ExtractedClause] = {}
    returned = dropped = unusable = 0
    answered = [{(item.category, item.sentence) for item in a.clauses} for _, a in answers if a is not None]
    # the same numbers in every chunk: an answer that did not read its chunk (sentence 3 exists in each one)
    by_rote = len(answered) >= 2 and answered[0] and all(cited == answered[0] for cited in answered)
    for indexes, answer in answers:
        if answer is None or by_rote:  # no valid answer for this chunk after the retries, or not read
            unusable += 1
            continue
        kept = 0
        for item in answer.clauses:
            returned += 1
            if item.category not in categories or not 1 <= item.sentence <= len(indexes):
                dropped += 1  # never shown: a category we do not have, or a sentence that was not sent
                continue
            unit = candidates[indexes[item.sentence - 1]]
            start, end = unit.start, unit.end
            if item.start is not None or item.end is not None:
                first, last = item.start or 0, item.end if item.end is not None else len(unit.text)
                if not 0 <= first < last <= len(unit.text):
                    dropped += 1
                    continue
                start, end = unit.start + first, unit.start + last
            kept += 1
            found[(item.category, start, end)] = ExtractedClause(
                category=item.category, span=Span.of(document, start, end), score=0.9, method="llm", source="model")
        unusable += bool(answer.clauses) and not kept
    llm.usage.book("clause_extraction", quotes_returned=returned, quotes_dropped=dropped, answers=len(answers),
                   unusable=unusable)
    return sorted(found.values(), key=lambda c: (c.span.start, c.category))


def extract_clauses_hybrid(data: ExtractionInput, engine: LocalEngine, llm: LLMClient) -> tuple[ExtractionResult, list[str]]:
    """The LLM backend never falls below the local engine: the local clauses are kept, a model clause that overlaps
    one of the same category confirms it (source "both"), a grounded one the local engine missed is added (source
    "model"). A chunk the model could not answer is counted, never invented."""
    document = data.document
    units = sentence_units(document)
    vectors = _embedded(units, engine)  # shared by the local extraction and the model's preselection
    local = _extract(document, engine, units, vectors)
    categories = {c.id: c.description for c in engine.library.categories.values()}
    candidates = preselect_for_llm(units, engine, vectors)
    from_model = numbered_clauses_from_llm(document, candidates, categories, llm, skip_unanswered=True)
    clauses = list(local.clauses)
    added = confirmed = 0
    for clause in from_model:
        same = [i for i, c in enumerate(clauses) if c.category == clause.category and c.span.start < clause.span.end
                and clause.span.start < c.span.end]
        for i in same:
            if clauses[i].source == "local":
                clauses[i] = clauses[i].model_copy(update={"source": "both"})
                confirmed += 1
        if not same:
            clauses.append(clause)
            added += 1
    clauses.sort(key=lambda c: (c.span.start, c.category))
    notes = [f"clause extraction: the model confirmed {confirmed} of the local engine's {len(local.clauses)} clause(s) "
             f"and added {added} grounded one(s)"]
    return local.model_copy(update={"clauses": clauses}), notes


def preselect_for_llm(units: list[SentenceUnit], engine: LocalEngine, vectors: np.ndarray | None = None) -> list[SentenceUnit]:
    """The sentences worth a model's tokens: close to some category's library texts, or carrying a signal."""
    if not units:
        return []
    similarity = _similarity(engine, _embedded(units, engine) if vectors is None else vectors)
    signals = _any_signal(engine)
    return [u for row, u in enumerate(units)
            if max(similarity[row].values(), default=0.0) >= PRESELECT_SIMILARITY or signals.search(u.text)]
