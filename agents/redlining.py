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

import dataclasses
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from pydantic import BaseModel, Field

from agents.injection_guard import CONCEALED_RULE
from agents.risk_terms import is_risk_finding
from agents.schema import ComplianceReport, ContractProfile, DroppedEdit, Finding, GroundingError, RedlineSet, Suggestion
from clause_library.playbook import applies_to_us
from clause_library.rule_engine import evaluate, fallback_replacement, improves
from document_io.clause_frames import limits_liability
from document_io.docx_redline import ParagraphInsertion, TextEdit
from document_io.legal_text import minimal_edits
from document_io.models import SourceDocument
from model_backends.llm_client import LLMClient, LLMError
from model_backends.local_engine import LocalEngine
from model_backends.prompt_templates import load_prompt


class RedliningInput(BaseModel):
    document: SourceDocument
    compliance: ComplianceReport
    profile: ContractProfile | None = None  # our side and the contract's defined party terms
    id_prefix: str = Field(default="S", description="suggestion ids are the prefix and a number; a review redone after the "
                           "reviewer settled our side numbers its suggestions afresh ('S2-01'), so no decision on an "
                           "earlier suggestion can land on a new one")


def propose_redlines(data: RedliningInput, engine: LocalEngine) -> RedlineSet:
    suggestions, dropped = [], []
    # a note (a term in our favour) is in the report but asks nothing of the reviewer
    for number, finding in enumerate((f for f in data.compliance.findings if f.severity != "info"), start=1):
        suggestion = _suggest(data.document, finding, engine, data.profile)
        suggestion.id = f"{data.id_prefix}{number:02d}"
        if reason := _withheld(suggestion, finding, engine, data.document, data.profile):
            dropped.append(DroppedEdit(suggestion_id=suggestion.id, rule_id=finding.rule_id or "", reason=reason))
            _as_flag(suggestion, f"An automatic edit was withheld: {reason}.")
        elif suggestion.kind == "edit" and (part := data.document.paragraph_at(suggestion.citation.start).part) != "body":
            # Word's tracked changes are written in the body only; elsewhere the reviewer changes it by hand
            _as_flag(suggestion, f"It sits in the {part}, where no tracked change is written: change it there by hand "
                                 f"(proposed: {suggestion.proposed_text!r}).")
        check_suggestion(data.document, suggestion)
        suggestions.append(suggestion)
    _one_edit_per_words(suggestions)
    _number_in_sequence([s for s in suggestions if s.kind == "insert"])
    return RedlineSet(suggestions=suggestions, dropped_edits=dropped)


def _one_edit_per_words(suggestions: list[Suggestion]) -> None:
    """Two rules that both want to change the same words ('180 days' as a renewal notice and as a termination
    notice) would offer the reviewer two contradictory edits that cannot both be approved: the more severe one keeps
    its edit, the other becomes a flag that points to it."""
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    kept: list[tuple[int, int, str]] = []
    for suggestion in sorted((s for s in suggestions if s.kind == "edit"), key=lambda s: order.get(s.severity, 5)):
        clash = next((sid for start, end, sid in kept for e in suggestion.edits if e.start < end and start < e.end
                      or e.start == e.end == start), None)
        if clash is None:
            kept += [(e.start, max(e.end, e.start + 1), suggestion.id) for e in suggestion.edits]
            continue
        _as_flag(suggestion, f"{clash} changes the same words; decide it there (proposed here: "
                             f"{suggestion.proposed_text!r}).")


def _number_in_sequence(inserts: list[Suggestion]) -> None:
    """Several clauses inserted after the same section continue its numbering: 9., 10., 11. — not 9., 9., 9."""
    numbering = InsertNumbering(inserts)
    for suggestion in inserts:
        text = numbering.renumbered(suggestion, suggestion.insertion.text)
        if text != suggestion.insertion.text:
            suggestion.insertion = suggestion.insertion.model_copy(update={"text": text})
            suggestion.proposed_text = text


class InsertNumbering:
    """Numbers inserted clauses run by run: each anchor's run starts at the lowest number proposed there and counts
    up over the clauses given to `renumbered`, in order. Used when proposing (all of them) and again when the document
    is written (the approved ones only: with "8. Assignment" rejected and "9. Indemnification" approved, the other side
    reads 7 -> 8, not 7 -> 9). A clause keeps the reviewer's own number when they wrote a different one."""

    _LEADING = re.compile(r"(\d+)\.\s")

    def __init__(self, inserts: list[Suggestion]) -> None:
        self._next: dict[int, int] = {}
        for suggestion in inserts:
            if match := self._LEADING.match(suggestion.insertion.text):
                anchor = suggestion.insertion.after_paragraph
                self._next[anchor] = min(self._next.get(anchor, 10**6), int(match.group(1)))

    def renumbered(self, suggestion: Suggestion, text: str) -> str:
        anchor = suggestion.insertion.after_paragraph
        proposed, written = self._LEADING.match(suggestion.insertion.text), self._LEADING.match(text)
        if anchor not in self._next or not proposed or not written or written.group(1) != proposed.group(1):
            return text
        number = self._next[anchor]
        self._next[anchor] = number + 1
        return f"{number}. " + text[written.end():]


_FORUM = re.compile(r"\b(?:courts?|tribunals?|venue|forum|(?<!subject\s)jurisdiction|arbitration(?:\s+(?:shall\s+be\s+)?(?:held|seated|"
                    r"conducted|take\s+place))?(?!,))\b[^.;]{0,80}?\b(?:of|in|at|located\s+in|sitting\s+in|situated\s+in|seated\s+in)\s+"
                    r"(?:the\s+)?(?:(?:state|commonwealth|province|county|city|borough)\s+of\s+)?"
                    r"(?P<place>(?!(?:Justice|Chancery|Arbitration|American|International|London\s+Court)\b)[A-Z][A-Za-z'’]+"
                    r"(?:\s+(?!(?:Arbitration|Association|Rules|Chamber|Court|Centre|Center)\b)[A-Z][A-Za-z'’]+){0,2})")


def _forum_conflict(document: SourceDocument, suggestion: Suggestion, finding: Finding) -> str | None:
    """A governing-law edit changes the law only: where the contract sends disputes to the courts of another place, or
    ties performance to the old one in the same sentence, law and forum have to change together - by hand."""
    from document_io.legal_text import find_jurisdiction

    new_law = find_jurisdiction(suggestion.proposed_text or "")
    old_law = finding.measured or ""
    if new_law is None:
        return None
    target = new_law.normalised
    for match in _FORUM.finditer(document.text):
        place = match.group("place")
        if place.lower() not in ("the", "this", "any", "such") and target not in place.lower() and place.lower() not in target:
            return (f"disputes go to {match.group(0)[:80]!r}: Delaware law with another place's courts splits law and forum, "
                    "so change both together")
    old_place = re.sub(r"^(?i:the\s+)?(?:(?i:state|commonwealth|province)\s+(?i:of)\s+)?", "", old_law)
    if old_place and len(re.findall(re.escape(old_place), finding.citation.quote)) > 1:
        return f"the clause ties more than the law to {old_place}; change law and forum together"
    return None


def _withheld(suggestion: Suggestion, finding: Finding, engine: LocalEngine, document: SourceDocument | None = None,
              profile: ContractProfile | None = None) -> str | None:
    """Re-check an automatic edit before anyone sees it: apply it to the cited clause and run the same rule on the
    result. It must land on the preferred or fallback rung and be no worse for us; it must leave the clause binding
    the same party, directed to the same party, with the same force (its frame); a governing-law edit must not split
    law from forum; otherwise the reason."""
    if suggestion.kind != "edit" or finding.rule_id is None or finding.category not in engine.library.categories:
        return None
    if profile is not None and (moved := _frame_moved(finding.citation.quote, suggestion.proposed_text or "", profile)):
        return moved
    if profile is not None and (clash := two_rules_for_one_right(suggestion.proposed_text or "", profile)):
        return clash
    if finding.category == "governing_law" and document is not None and (conflict := _forum_conflict(document, suggestion, finding)):
        return conflict
    rule = next((r for r in engine.library.get(finding.category).playbook.rules if r.id == finding.rule_id), None)
    if rule is None:
        return None
    quote, base = finding.citation.quote, finding.citation.start
    before = next((h for h in evaluate(rule, quote, base) if h.measured == finding.measured), None)
    if before is None:
        return "the measured term could not be found again in the cited clause"
    ok, reason = improves(rule, before, suggestion.proposed_text or "", base)
    if not ok and rule.one_sided_only and profile is not None and _now_ours_too(suggestion.proposed_text or "", profile):
        return None  # "Either party may terminate ...": the wording stays, but the right is no longer theirs alone
    return None if ok else reason


# a party's right in a clause: "Either party may terminate", "Buyer may terminate it", "Supplier shall have the right to assign"
_GRANT = re.compile(r"\b(?P<who>(?i:(?:either|each|any)\s+party|both\s+parties|the\s+parties)|(?:the\s+)?[A-Z][\w-]+)\s+(?:may|shall\s+have\s+"
                    r"the\s+right\s+to|is\s+entitled\s+to|reserves\s+the\s+right\s+to)\s+(?:at\s+any\s+time\s+)?(?P<verb>[a-z]+)\b")
_EVERYONE = re.compile(r"(?:either|each|any)\s+party|both\s+parties|the\s+parties", re.IGNORECASE)


def two_rules_for_one_right(text: str, profile: ContractProfile) -> str | None:
    """An edit whose result gives one right twice on different terms contradicts itself: "Either party may terminate
    ... on thirty (30) days' notice, and Buyer may terminate it ... on one hundred and eighty (180) days' notice" - which
    notice binds the Buyer? The reason, or None."""
    everyone, named = set(), {}
    for grant in _GRANT.finditer(text):
        who, verb = grant.group("who"), grant.group("verb").lower()
        if _EVERYONE.fullmatch(who):
            everyone.add(verb)
        elif any(re.search(rf"\b{re.escape(n)}\b", who, re.IGNORECASE) for p in profile.parties
                 for n in (p.name, p.role, *p.defined_terms) if n):
            named.setdefault(verb, who)
    clash = next((verb for verb in everyone if verb in named), None)
    if clash is None:
        return None
    return (f"the result would give every party the right to {clash} and {named[clash]} the same right on other terms: "
            "two rules for one right; the clause needs rewriting as a whole")


def _now_ours_too(text: str, profile: ContractProfile) -> bool:
    from document_io.clause_frames import MUTUAL, frame_of

    parties = profile.cast()
    bound = frame_of(text, parties).bound
    return bound == MUTUAL or any(p.is_us and p.name == bound for p in profile.parties)


def _as_flag(suggestion: Suggestion, note: str) -> None:
    suggestion.kind = "flag"
    suggestion.edits = []
    suggestion.proposed_text = None
    suggestion.fallback_text = None
    suggestion.rationale = f"{suggestion.rationale} {note}"


def check_suggestion(document: SourceDocument, suggestion: Suggestion) -> None:
    """The grounding contract: the citation is verbatim, and every edit stays inside it."""
    suggestion.citation.verify(document)
    for edit in suggestion.edits:
        if not (suggestion.citation.start <= edit.start <= edit.end <= suggestion.citation.end):
            raise GroundingError(f"{suggestion.id}: edit {edit.start}-{edit.end} is outside its citation")


def _suggest(document: SourceDocument, finding: Finding, engine: LocalEngine, profile: ContractProfile | None) -> Suggestion:
    base = dict(
        id="",
        finding_id=finding.id,
        category=finding.category,
        severity=finding.severity,
        title=finding.title,
        citation=finding.citation,
        escalate_to=finding.escalate_to,
        counterparty_change=finding.counterparty_change,
        found_by=finding.found_by,
    )
    if finding.category == "prompt_injection" and finding.rule_id == CONCEALED_RULE:
        # only the concealed stretch is deleted: the visible clause around it stays as the other side wrote it
        return Suggestion(
            **base,
            kind="edit",
            proposed_text="",
            edits=[TextEdit(start=finding.citation.start, end=finding.citation.end, new_text="")],
            rationale=f"{finding.explanation} Proposed: delete the hidden text.",
            playbook_position="every term visible to both sides",
        )
    if finding.category == "prompt_injection":  # text that reads like an instruction: flagged, never cut
        return Suggestion(**base, kind="flag", proposed_text=None,
                          rationale=f"{finding.explanation} Not proposed for deletion: it may be a legitimate clause "
                                    "that happens to read like an instruction; decide whether it stays.",
                          playbook_position="contract text addressed to the parties only")
    if finding.rule_id == "their_deletion":  # their tracked deletion of a duty or protection: reject it in the redline
        return Suggestion(**base, kind="flag", proposed_text=None, rationale=finding.explanation,
                          playbook_position="reject their deletion; the words stay as they were")
    if is_risk_finding(finding):  # a one-sided term: a question for the reviewer with what to ask for, never an edit
        return Suggestion(**base, kind="flag", proposed_text=None, rationale=finding.explanation,
                          playbook_position=f"ask for: {finding.expected}" if finding.expected else "check whom it binds")
    if finding.category not in engine.library.categories:  # e.g. "which side are we?": a question, not a wording
        return Suggestion(**base, kind="flag", proposed_text=None, rationale=finding.explanation,
                          playbook_position="answer the question, then re-run the review")
    category = engine.library.get(finding.category)
    playbook = category.playbook
    if finding.position == "missing" and (limits := limits_liability(category.approved_clause)) and profile is not None \
            and profile.our_side == "customer":
        # a cap or an exclusion limits what the supplier owes us as much as what we owe it: a proposal to weigh, never an
        # automatic insertion on the customer side
        return Suggestion(
            **base, kind="flag", proposed_text=None, playbook_position=f"preferred: {playbook.preferred}",
            rationale=f"The contract has no {category.label.lower()} clause, so the supplier's {limits} to us is not limited "
            "either. Inserting our approved wording would cap what we can recover; propose it only as part of a package "
            f"(e.g. a mutual cap with carve-outs for data, confidentiality and indemnities). Playbook: {playbook.preferred}",
            library_clause_id=f"{category.id}:clause")
    if finding.position == "missing":
        approved = category.approved_clause  # from the library files, never from the vector store (retrieval only)
        clause = numbered_like_neighbours(document, finding.citation.start, category.label,
                                          with_party_terms(approved, profile, document.text))
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
    rule = next((r for r in category.playbook.rules if r.id == finding.rule_id), None)
    positions = rule.ladder if rule is not None and rule.ladder else playbook  # a rule for one side argues its own ladder
    quote = finding.citation.quote
    # a finding from a check outside the playbook's rules (the intake request's amount) has no wording to offer
    escalation = f" Walk-away position: escalate to {playbook.escalate_to}." if finding.position == "walk_away" else ""
    if rule is not None and rule.asks_only(finding.measured):
        return Suggestion(
            **base, kind="flag", proposed_text=None, playbook_position=f"preferred: {positions.preferred}",
            rationale=f"{finding.explanation}{escalation} A question, not a redline: on the other side's paper this is "
            f"usually accepted; ask for {positions.preferred.rstrip('.')} only if it matters for this deal.",
            library_clause_id=f"{category.id}:clause")
    hits = [h for h in evaluate(rule, quote, finding.citation.start) if h.measured == finding.measured and h.replacement] if rule else []
    if not hits:
        return Suggestion(
            **base,
            kind="flag",
            proposed_text=None,
            rationale=f"{finding.explanation} No safe automatic wording exists for this; negotiate toward: "
            f"{positions.preferred}{escalation}",
            playbook_position=f"preferred: {positions.preferred}",
            library_clause_id=f"{category.id}:clause",
        )
    hit = hits[0]
    revised = _replaced(quote, finding.citation.start, hit, hit.replacement)
    edits = minimal_edits(quote, revised, finding.citation.start)
    fallback = _fallback_wording(rule, hit, quote, finding.citation.start)
    fallback = fallback if fallback != revised else None  # a ladder whose fallback is its preferred value
    offer = " The fallback wording can be chosen instead." if fallback else ""
    return Suggestion(
        **base,
        kind="edit",
        proposed_text=revised,
        edits=edits,
        fallback_text=fallback,
        rationale=f"{finding.explanation}{escalation} Fallback if refused: {positions.fallback}{offer}",
        playbook_position=f"preferred: {positions.preferred}",
        library_clause_id=f"{category.id}:clause",
    )


def _frame_moved(before: str, after: str, profile: ContractProfile) -> str | None:
    """What an edit changes in who the clause binds, whom it is directed to, or its force, if anything."""
    from document_io.clause_frames import frame_of

    parties = profile.cast()
    old, new = frame_of(before, parties), frame_of(after, parties)
    # a beneficiary read in one reading and not the other is the reader's window moving with the words (a shorter
    # number brings "to Provider" into view); only a different beneficiary is a change of direction
    same_beneficiary = old.beneficiary == new.beneficiary or None in (old.beneficiary, new.beneficiary)
    if (old.bound, old.modality) == (new.bound, new.modality) and same_beneficiary:
        return None
    us = {p.name for p in profile.parties if p.is_us}

    def side(party: str | None) -> str:
        return "nobody" if party is None else "mutual" if party == "mutual" else "us" if party in us else "them"

    was, now = (side(old.bound), old.modality), (side(new.bound), new.modality)
    for_us = {  # moves that only ever help us: their right taken away or shared, our duty shared or lifted
        (("them", "right"), ("them", "prohibition")), (("them", "right"), ("mutual", "right")),
        (("us", "obligation"), ("mutual", "obligation")), (("us", "prohibition"), ("mutual", "prohibition")),
        (("us", "obligation"), ("us", "right")), (("us", "prohibition"), ("us", "right")),
    }
    beneficiary_ok = same_beneficiary or side(new.beneficiary) in ("us", "mutual")
    if (was, now) in for_us and beneficiary_ok:
        return None
    return (f"the edit would change the clause itself (binding {old.bound or 'no party'} → {new.bound or 'no party'}, "
            f"{old.modality} → {new.modality}) in a way that is not plainly ours, not just its term")


def _replaced(quote: str, base: int, hit, replacement: str) -> str:
    return quote[: hit.start - base] + replacement + quote[hit.end - base :]


def _fallback_wording(rule, hit, quote: str, base: int) -> str | None:
    """The second rung of the ladder, for a term beyond it: the cited clause at the fallback value, offered only if it
    passes the same re-check as the preferred edit (lands on the fallback rung, no worse for us than the original)."""
    replacement = fallback_replacement(rule, hit)
    if not replacement:
        return None
    revised = _replaced(quote, base, hit, replacement)
    ok, _ = improves(rule, dataclasses.replace(hit, replacement=replacement), revised, base)
    return revised if ok else None


_GENERIC_ROLES = {"customer": re.compile(r"\b(?:[Tt]he )?Customer(?='s|’s|\b)"), "supplier": re.compile(r"\b(?:[Tt]he )?Supplier(?='s|’s|\b)")}


def with_party_terms(clause: str, profile: ContractProfile | None, contract_text: str = "") -> str:
    """The approved wording says "the Supplier" / "the Customer"; the contract defines its own terms ("Provider",
    "Licensee"). Substitute them when both the side and the defined roles are known."""
    if profile is None or profile.our_side not in ("customer", "supplier"):
        return clause
    us = next((p for p in profile.parties if p.is_us and p.role), None)
    them = next((p for p in profile.parties if not p.is_us and p.role), None)
    roles = {profile.our_side: us, ("supplier" if profile.our_side == "customer" else "customer"): them}
    for side, party in roles.items():
        if party is None:
            continue
        term = re.sub(r"^(?i:the)\s+", "", party.role.strip())
        # As the contract writes it: "the Licensee" or bare "Buyer"; a defined term that is a name ("i-on") never
        # takes an article.
        with_the = len(re.findall(rf"\b[Tt]he {re.escape(term)}\b", contract_text))
        bare = len(re.findall(rf"\b{re.escape(term)}\b", contract_text)) - with_the
        article = "the " if _ROLE_WORD.fullmatch(term.lower()) and (with_the >= bare or not contract_text) else ""
        clause = _GENERIC_ROLES[side].sub(lambda m, t=term, a=article: (a if m.group(0).lower().startswith("the ")
                                                                        else "") + t, clause)
        clause = re.sub(r"(^|[.;:]\s+)the\b", lambda m: m.group(1) + "The", clause)  # a sentence starts with a capital
    return clause


_ROLE_WORD = re.compile(
    r"(?:customer|client|buyer|purchaser|licensee|subscriber|recipient|distributor|reseller|controller|supplier|vendor|"
    r"provider|licensor|seller|contractor|consultant|processor|manufacturer|company|service provider|franchisee|"
    r"franchisor|agent|principal|shipper|transporter|owner|operator|developer|publisher|member|partner|investor)s?")
_NUMBERED = re.compile(r"^\s*(?:(?:section|article|clause)\s+)?(?P<number>\d{1,3})\.(?:\s|\d)")


def numbered_like_neighbours(document: SourceDocument, anchor_offset: int, label: str, clause: str) -> str:
    """Continue the contract's own top-level numbering ("14." → "15. Governing Law. …") when its sections are
    numbered in the text; automatic Word numbering is continued by the DOCX writer instead."""
    anchor = document.paragraph_at(anchor_offset)
    numbers = [int(m.group("number")) for p in document.paragraphs[: anchor.index + 1] if (m := _NUMBERED.match(p.text))]
    if len(numbers) < 2:
        return clause
    return f"{max(numbers) + 1}. {label}. {clause}"


# --- LLM backend ------------------------------------------------------------------------------------


class RedlineAnswer(BaseModel):
    revised_clause: str = Field(max_length=6000)
    position: Literal["preferred", "fallback"]
    rationale: str = Field(max_length=600)
    escalate: bool = False


def propose_redlines_with_llm(data: RedliningInput, engine: LocalEngine, llm: LLMClient) -> RedlineSet:
    redlines = propose_redlines(data, engine)
    flags = [s for s in redlines.suggestions if s.kind == "flag" and s.category in engine.library.categories
             and data.document.paragraph_at(s.citation.start).part == "body"]  # wording is written in the body only
    findings = {f.id: f for f in data.compliance.findings}
    with ThreadPoolExecutor(max_workers=llm.settings.max_parallel) as pool:
        answers = list(pool.map(lambda s: _ask_for_wording(s, findings[s.finding_id], engine, llm), flags))
    off_subject = 0
    for suggestion, answer in zip(flags, answers):
        if answer is None:
            continue
        quote = suggestion.citation.quote
        revised = answer.revised_clause.strip()
        if not revised or revised == quote:
            continue
        # the model's wording replaces the local flag only while it is about the cited clause (its subject and, by the
        # clause frames, its parties and right) and no rule finds it worse; otherwise the flag and its reasoning stand
        subject = _off_subject(engine, findings[suggestion.finding_id], quote, revised)
        off_subject += subject is not None
        reason = subject or (data.profile and _frame_moved(quote, revised, data.profile)) or _worse_anywhere(
            engine, suggestion.category, quote, revised, data.profile)
        if reason:
            redlines.dropped_edits.append(DroppedEdit(suggestion_id=suggestion.id, rule_id=suggestion.category, reason=reason))
            suggestion.rationale += f" (the model proposed \u201c{_clip(revised)}\u201d, not used: {reason})"
            continue
        playbook = engine.library.get(suggestion.category).playbook
        suggestion.kind = "edit"
        suggestion.proposed_text = revised
        suggestion.edits = minimal_edits(quote, revised, suggestion.citation.start)
        escalation = f" Escalate to {playbook.escalate_to}." if answer.escalate or findings[suggestion.finding_id].position == "walk_away" else ""
        suggestion.rationale = f"{answer.rationale}{escalation} (wording proposed by the model; check it)"
        suggestion.wording_by = "model"
        suggestion.playbook_position = f"{answer.position}: {getattr(playbook, answer.position)}"
        check_suggestion(data.document, suggestion)
    llm.usage.book("redlining", answers=len(flags), unusable=sum(a is None for a in answers) + off_subject)
    return redlines


_COMMON_WORDS = frozenset("shall will with from that this such each which their there these those under other than "
                          "into upon been have must only also party parties agreement hereof herein".split())


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in _COMMON_WORDS}


def _off_subject(engine: LocalEngine, finding: Finding, quote: str, revised: str) -> str | None:
    """Why the model's wording is not a revision of the cited clause, or None. It must still say what the flagged rule
    governs (where the rule names that) and keep enough of the clause's own words to be the same clause revised."""
    rule = next((r for r in engine.library.get(finding.category).playbook.rules if r.id == finding.rule_id), None) \
        if finding.category in engine.library.categories else None
    if rule is not None and rule.requires and not re.search(rule.requires, revised, re.IGNORECASE):
        return f"it no longer says what rule {rule.id} governs"
    words, kept = _content_words(quote), _content_words(revised)
    if words and len(words & kept) < max(2, 0.3 * len(words)):
        return "it is not a revision of the cited clause (too few of its words remain)"
    return None


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def _worse_anywhere(engine: LocalEngine, category_id: str, quote: str, revised: str, profile: ContractProfile | None) -> str | None:
    """A model's wording passes the same re-check as the local engine's (its frame is checked before this): no rule of the
    category may find the revised clause worse than the original, or off the preferred / fallback rungs where it was on
    them."""
    rank = {"preferred": 0, "fallback": 1, "beyond_fallback": 2, "walk_away": 3, "missing": 3}
    side = profile.our_side if profile else "unknown"
    for rule in engine.library.get(category_id).playbook.rules:
        if not applies_to_us(rule.side, side):
            continue
        before = max((rank[h.position] for h in evaluate(rule, quote)), default=0)
        after = max((rank[h.position] for h in evaluate(rule, revised)), default=0)
        if after > before or after >= 2:
            return f"rule {rule.id} finds the revised clause {'worse' if after > before else 'still outside the playbook'}"
    return None


def _ask_for_wording(suggestion: Suggestion, finding: Finding, engine: LocalEngine, llm: LLMClient) -> RedlineAnswer | None:
    category = engine.library.get(suggestion.category)
    playbook = category.playbook
    try:
        return llm.structured("redlining", load_prompt("redlining"), {
            "category": category.label, "preferred": playbook.preferred, "fallback": playbook.fallback,
            "walk_away": playbook.walk_away, "escalate_to": playbook.escalate_to,
            "approved_clause": category.approved_clause,
            "finding": f"{finding.title}. {finding.explanation}", "clause_text": suggestion.citation.quote,
        }, RedlineAnswer)
    except LLMError as error:
        suggestion.rationale += f" (the model could not propose wording: {error})"
        return None
