"""Redlining agent: one suggestion per finding, with the smallest edit that reaches the playbook position.

- a numeric or jurisdiction deviation → replace just that number or name ("one hundred eighty (180)" →
  "sixty (60)"), diffed word by word so Word shows only the changed words;
- a forbidden term with a fix in the playbook → the playbook's substitution, diffed the same way;
- a missing required clause → the approved clause from the Chroma library, inserted as a new paragraph;
- a walk-away deviation keeps its edit but is marked for escalation to the function that owns it;
- anything without a safe automatic fix is a flag for the reviewer, never an invented clause.

LLM backend: the same, and for each flag (no rule can write the wording) the model sees only the cited clause,
the playbook ladder and the approved library clause, and proposes a revision; it becomes a word-level edit
inside the citation. Calls run in parallel; a model failure leaves the flag as it was and is reported.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from pydantic import BaseModel

from agents.legal_text import minimal_edits
from agents.schema import ComplianceReport, Finding, GroundingError, RedlineSet, Suggestion
from clause_library.rule_engine import evaluate
from document_io.docx_redline import ParagraphInsertion, TextEdit
from document_io.models import SourceDocument
from model_backends.llm_client import LLMClient, LLMError
from model_backends.local_engine import LocalEngine
from model_backends.prompt_templates import load_prompt


class RedliningInput(BaseModel):
    document: SourceDocument
    compliance: ComplianceReport


def propose_redlines(data: RedliningInput, engine: LocalEngine) -> RedlineSet:
    suggestions = []
    for number, finding in enumerate(data.compliance.findings, start=1):
        suggestion = _suggest(data.document, finding, engine)
        suggestion.id = f"S{number:02d}"
        check_suggestion(data.document, suggestion)
        suggestions.append(suggestion)
    return RedlineSet(suggestions=suggestions)


def check_suggestion(document: SourceDocument, suggestion: Suggestion) -> None:
    """The grounding contract: the citation is verbatim, and every edit stays inside it."""
    suggestion.citation.verify(document)
    for edit in suggestion.edits:
        if not (suggestion.citation.start <= edit.start <= edit.end <= suggestion.citation.end):
            raise GroundingError(f"{suggestion.id}: edit {edit.start}-{edit.end} is outside its citation")


def _suggest(document: SourceDocument, finding: Finding, engine: LocalEngine) -> Suggestion:
    base = dict(
        id="",
        finding_id=finding.id,
        category=finding.category,
        severity=finding.severity,
        title=finding.title,
        citation=finding.citation,
        escalate_to=finding.escalate_to,
    )
    if finding.category == "prompt_injection":
        return Suggestion(
            **base,
            kind="edit",
            proposed_text="",
            edits=[TextEdit(start=finding.citation.start, end=finding.citation.end, new_text="")],
            rationale=f"{finding.explanation} Proposed: delete it.",
            playbook_position="contract text addressed to the parties only",
        )
    category = engine.library.get(finding.category)
    playbook = category.playbook
    if finding.position == "missing":
        clause = engine.store.approved_clause(category.id) or category.approved_clause
        paragraph = document.paragraph_at(finding.citation.start)
        return Suggestion(
            **base,
            kind="insert",
            proposed_text=clause,
            insertion=ParagraphInsertion(after_paragraph=paragraph.index, text=clause),
            rationale=f"{finding.explanation}",
            playbook_position=f"preferred: {playbook.preferred}",
            library_clause_id=f"{category.id}:clause",
        )
    rule = next(r for r in category.playbook.rules if r.id == finding.rule_id)
    quote = finding.citation.quote
    hits = [h for h in evaluate(rule, quote, finding.citation.start) if h.measured == finding.measured and h.replacement]
    escalation = f" Walk-away position: escalate to {playbook.escalate_to}." if finding.position == "walk_away" else ""
    if not hits:
        return Suggestion(
            **base,
            kind="flag",
            proposed_text=None,
            rationale=f"{finding.explanation} No safe automatic wording exists for this; negotiate toward: "
            f"{playbook.preferred}{escalation}",
            playbook_position=f"preferred: {playbook.preferred}",
            library_clause_id=f"{category.id}:clause",
        )
    hit = hits[0]
    local_start = hit.start - finding.citation.start
    revised = quote[:local_start] + hit.replacement + quote[hit.end - finding.citation.start :]
    edits = minimal_edits(quote, revised, finding.citation.start)
    return Suggestion(
        **base,
        kind="edit",
        proposed_text=revised,
        edits=edits,
        rationale=f"{finding.explanation}{escalation} Fallback if refused: {playbook.fallback}",
        playbook_position=f"preferred: {playbook.preferred}",
        library_clause_id=f"{category.id}:clause",
    )


# --- LLM backend ------------------------------------------------------------------------------------


class RedlineAnswer(BaseModel):
    revised_clause: str
    position: Literal["preferred", "fallback"]
    rationale: str
    escalate: bool = False


def propose_redlines_with_llm(data: RedliningInput, engine: LocalEngine, llm: LLMClient) -> RedlineSet:
    redlines = propose_redlines(data, engine)
    flags = [s for s in redlines.suggestions if s.kind == "flag" and s.category in engine.library.categories]
    findings = {f.id: f for f in data.compliance.findings}
    with ThreadPoolExecutor(max_workers=llm.settings.max_parallel) as pool:
        answers = list(pool.map(lambda s: _ask_for_wording(s, findings[s.finding_id], engine, llm), flags))
    for suggestion, answer in zip(flags, answers):
        if answer is None:
            continue
        quote = suggestion.citation.quote
        revised = answer.revised_clause.strip()
        if not revised or revised == quote:
            continue
        playbook = engine.library.get(suggestion.category).playbook
        suggestion.kind = "edit"
        suggestion.proposed_text = revised
        suggestion.edits = minimal_edits(quote, revised, suggestion.citation.start)
        escalation = f" Escalate to {playbook.escalate_to}." if answer.escalate or findings[suggestion.finding_id].position == "walk_away" else ""
        suggestion.rationale = f"{answer.rationale}{escalation} (wording proposed by the model; check it)"
        suggestion.playbook_position = f"{answer.position}: {getattr(playbook, answer.position)}"
        check_suggestion(data.document, suggestion)
    return redlines


def _ask_for_wording(suggestion: Suggestion, finding: Finding, engine: LocalEngine, llm: LLMClient) -> RedlineAnswer | None:
    category = engine.library.get(suggestion.category)
    playbook = category.playbook
    try:
        return llm.structured("redlining", load_prompt("redlining"), {
            "category": category.label, "preferred": playbook.preferred, "fallback": playbook.fallback,
            "walk_away": playbook.walk_away, "escalate_to": playbook.escalate_to,
            "approved_clause": engine.store.approved_clause(category.id) or category.approved_clause,
            "finding": f"{finding.title}. {finding.explanation}", "clause_text": suggestion.citation.quote,
        }, RedlineAnswer)
    except LLMError as error:
        suggestion.rationale += f" (the model could not propose wording: {error})"
        return None
