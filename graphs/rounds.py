"""Negotiation rounds: the counterparty's reply compared with the version we sent them.

What we sent is the earlier round's contract with every approved or modified suggestion applied (the same change
list the redlined DOCX is written from). For each change we asked for, their version shows it accepted (our words
are there), rejected (their original words are still there; a clause we asked to add is not there) or changed
(neither: what stands in its place is shown).
What else they changed is every paragraph added, removed or altered that none of our changes explains.

The new round is reviewed by the agents like any contract; decisions carry over only where they still apply: a
suggestion we rejected in the earlier round, on words that did not move, stays rejected (same reviewer, with a
comment naming the round). A change they refused is left for a person to decide again.
"""

from __future__ import annotations

import bisect
import difflib
import re
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field

from agents.schema import Decision
from document_io.legal_text import sentence_spans
from graphs.finalization import changes_for

Outcome = Literal["accepted", "rejected", "changed", "removed"]
CARRIED_OVER = "carried over from the earlier round"  # how a carried decision's comment begins


class AskedChange(BaseModel):
    suggestion_id: str
    category: str
    title: str
    outcome: Outcome
    we_sent: str = Field(description="the words we proposed")
    original: str | None = Field(default=None, description="their words we asked to change (none for an inserted clause)")
    now_reads: str | None = Field(default=None, description="for 'changed': the closest paragraph of their version")


class RaisedOnIt(BaseModel):
    """A suggestion of this round on a paragraph they added or changed: the new paper, reviewed like any other."""
    suggestion_id: str
    severity: str
    title: str
    ask: str | None = Field(default=None, description="what to ask for, from the playbook")


class OtherChange(BaseModel):
    kind: Literal["added", "removed", "changed", "moved"]
    before: str | None = None
    after: str | None = None
    raised: list[RaisedOnIt] = Field(default_factory=list, description="this round's suggestions on their new words")


class RoundComparison(BaseModel):
    previous_thread: str
    round_number: int = Field(description="2 for the first reply, and so on")
    asked: list[AskedChange]
    other_changes: list[OtherChange]
    carried: list[str] = Field(default_factory=list, description="suggestions of this round whose decision carried over")

    def counts(self) -> dict[str, int]:
        found = {k: 0 for k in ("accepted", "rejected", "changed", "removed")}
        for change in self.asked:
            found[change.outcome] += 1
        return found


# a clause's number, which a reply may change without changing the clause: "9.", "8A.", "10.2", "(c)", "Section 9."
_NUMBERING = re.compile(r"^\s*(?:(?:section|clause|article)\s+)?(?:\d{1,3}[A-Za-z]?(?:\.\d{1,3}[A-Za-z]?)*\.?|\([a-z0-9]{1,4}\)|[A-Za-z]\.)\s+",
                        re.IGNORECASE)


def _norm(text: str) -> str:
    """The words of a clause, whatever its number and spacing: renumbering a clause does not change it."""
    return _NUMBERING.sub("", re.sub(r"\s+", " ", text).strip().lower(), count=1)


def _sent_paragraphs(previous) -> tuple[list[str], list[tuple[str, str, str, str | None]]]:
    """The paragraphs of the version we sent, and for each change we asked for: (suggestion id, category/title key,
    our words, their original words)."""
    edits, insertions = changes_for(previous.redlines.suggestions, previous.decisions)
    by_paragraph: dict[int, list] = {}
    for edit in edits:
        by_paragraph.setdefault(previous.document.paragraph_at(edit.start).start, []).append(edit)
    inserted: dict[int, list[str]] = {}
    for insertion in insertions:
        inserted.setdefault(insertion.after_paragraph, []).append(insertion.text)
    paragraphs = []
    for paragraph in previous.document.paragraphs:
        if paragraph.part != "body" or not paragraph.text.strip():
            continue
        text, position, out = paragraph.text, 0, []
        for edit in sorted(by_paragraph.get(paragraph.start, []), key=lambda e: e.start):
            out += [text[position:edit.start - paragraph.start], edit.new_text]
            position = edit.end - paragraph.start
        out.append(text[position:])
        paragraphs.append("".join(out))
        paragraphs += inserted.get(paragraph.index, [])
    paragraphs = [p for p in paragraphs if p.strip()]  # a paragraph we asked them to delete entirely
    asked = []
    for suggestion in previous.redlines.suggestions:
        decision = previous.decisions.get(suggestion.id)
        if decision is None or decision.action not in ("approve", "modify"):
            continue
        if suggestion.kind == "insert":
            ours = decision.modified_text if decision.action == "modify" else suggestion.insertion.text
            asked.append((suggestion.id, suggestion.category, suggestion.title, ours, None))
        else:
            ours = decision.modified_text if decision.action == "modify" else suggestion.proposed_text
            asked.append((suggestion.id, suggestion.category, suggestion.title, ours or "", suggestion.citation.quote))
    return paragraphs, asked


def compare_rounds(previous, current, round_number: int) -> RoundComparison:
    """`previous`, `current`: ReviewStatus of the version we sent and of their reply."""
    sent, asked = _sent_paragraphs(previous)
    theirs = [p.text for p in current.document.paragraphs if p.part == "body" and p.text.strip()]
    their_text = _norm(" ".join(theirs))
    sentences = [p[s:e] for p in theirs for s, e in sentence_spans(p)]
    sent_sentences = [p[s:e] for p in sent for s, e in sentence_spans(p)]
    aligned = difflib.SequenceMatcher(None, [_norm(t) for t in sent_sentences], [_norm(t) for t in sentences],
                                      autojunk=False).get_opcodes()
    outcomes, explained_sent, explained_theirs = [], set(), set()
    for suggestion_id, category, title, ours, original in asked:
        if _norm(ours) and _norm(ours) in their_text:
            outcome, now = "accepted", None
        elif not _norm(ours) and original is not None and _norm(original) not in their_text:
            outcome, now = "accepted", None  # words we asked them to delete (or flagged) are gone
        elif original is not None and _norm(original) in their_text:
            outcome, now = "rejected", None
        elif original is None:  # a clause we asked to add: a new paragraph of theirs close to it, or not added at all
            fresh = [p for p in theirs if _norm(p) not in {_norm(x) for x in sent}]
            best = max(fresh, key=lambda p: difflib.SequenceMatcher(None, _norm(p), _norm(ours)).ratio(), default=None)
            close = best is not None and difflib.SequenceMatcher(None, _norm(best), _norm(ours)).ratio() >= 0.6
            outcome, now = ("changed", best) if close else ("rejected", None)
            if close:
                explained_theirs.add(_norm(best))
        else:  # neither: what stands in its place in their version, by aligning the two versions' sentences
            now = _in_place_of(ours, sent_sentences, sentences, aligned)
            outcome = "changed" if now else "removed"
            if now:
                explained_theirs.update(_norm(p) for p in theirs if _norm(now) in _norm(p))
        outcomes.append(AskedChange(suggestion_id=suggestion_id, category=category, title=title, outcome=outcome,
                                    we_sent=ours, original=original, now_reads=now))
        for paragraph in sent:
            if _norm(ours) and _norm(ours) in _norm(paragraph) or (original and _norm(original) in _norm(paragraph)):
                explained_sent.add(_norm(paragraph))
    for paragraph in theirs:  # their paragraph that holds our words or their original words is explained too
        for _, _, _, ours, original in asked:
            if (_norm(ours) and _norm(ours) in _norm(paragraph)) or (original and _norm(original) in _norm(paragraph)):
                explained_theirs.add(_norm(paragraph))
    other = _other_changes(sent, theirs, explained_sent, explained_theirs)
    for change in other:
        change.raised = _raised_on(change.after, current)
    return RoundComparison(previous_thread=previous.thread_id, round_number=round_number, asked=outcomes,
                           other_changes=other)


def _raised_on(paragraph: str | None, current) -> list[RaisedOnIt]:
    """This round's suggestions citing words of a paragraph they added or changed (an insertion of ours anchored after
    it is about something else)."""
    if not paragraph or current.redlines is None:
        return []
    words = _norm(paragraph)
    return [RaisedOnIt(suggestion_id=s.id, severity=s.severity, title=s.title, ask=s.playbook_position)
            for s in current.redlines.suggestions
            if s.kind != "insert" and s.citation.quote and _norm(s.citation.quote) in words]


def _in_place_of(ours: str, sent: list[str], theirs: list[str], aligned) -> str | None:
    """The sentences of their version that replaced the sentence holding our words (None: deleted, or not found)."""
    where = next((i for i, t in enumerate(sent) if _norm(ours)[:80] in _norm(t) or _norm(t) in _norm(ours)), None)
    if where is None:
        return None
    for op, a1, a2, b1, b2 in aligned:
        if a1 <= where < a2:
            if op in ("replace", "insert") and b2 > b1:
                block = theirs[b1:b2]
                return max(block, key=lambda t: difflib.SequenceMatcher(None, _norm(t), _norm(sent[where])).ratio())
            return None
    return None


def _other_changes(sent: list[str], theirs: list[str], explained_sent: set[str], explained_theirs: set[str]) -> list[OtherChange]:
    changes = []
    matcher = difflib.SequenceMatcher(None, [_norm(p) for p in sent], [_norm(p) for p in theirs], autojunk=False)
    opcodes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    # a paragraph in both versions is unchanged wherever it stands; the fewest that must have moved to explain the new
    # order (those outside the longest run kept in order) are reported once as "moved", never as removed and added
    both = {_norm(p) for p in sent} & {_norm(p) for p in theirs}
    moved = _moved(sent, theirs, both)
    changes += [OtherChange(kind="moved", after=p) for p in theirs if _norm(p) in moved]
    for op, a1, a2, b1, b2 in opcodes:
        before = [p for p in sent[a1:a2] if _norm(p) not in explained_sent and _norm(p) not in both]
        after = [p for p in theirs[b1:b2] if _norm(p) not in explained_theirs and _norm(p) not in both]
        for old, new in zip(before, after):
            changes.append(OtherChange(kind="changed", before=old, after=new))
        for old in before[len(after):]:
            changes.append(OtherChange(kind="removed", before=old))
        for new in after[len(before):]:
            changes.append(OtherChange(kind="added", after=new))
    return changes


def _anchor(suggestion) -> tuple[str, str]:
    """What a decision is about, by text: the words an edit changes, or the clause an insertion adds (not the paragraph
    it would follow, which a reply may move or renumber)."""
    if suggestion.kind == "insert" and suggestion.insertion is not None:
        return suggestion.category, "insert: " + _norm(suggestion.insertion.text)
    return suggestion.category, _norm(suggestion.citation.quote)


def _moved(sent: list[str], theirs: list[str], both: set[str]) -> set[str]:
    """The paragraphs of both versions that changed place: all but a longest subsequence kept in the same order."""
    where = {}
    for index, paragraph in enumerate(sent):
        where.setdefault(_norm(paragraph), index)
    order = [(where[_norm(p)], _norm(p)) for p in theirs if _norm(p) in both]
    # longest increasing subsequence of the sent positions, in their order (patience sorting, n log n)
    tails: list[int] = []  # tails[k]: index into `order` of the smallest tail of an increasing run of length k + 1
    tail_positions: list[int] = []  # their sent positions, kept sorted
    previous = [-1] * len(order)
    for i, (position, _) in enumerate(order):
        k = bisect.bisect_left(tail_positions, position)
        previous[i] = tails[k - 1] if k else -1
        tails[k:k + 1], tail_positions[k:k + 1] = [i], [position]
    kept, i = set(), tails[-1] if tails else -1
    while i >= 0:
        kept.add(order[i][1])
        i = previous[i]
    return {key for _, key in order} - kept


def carried_decisions(previous, current, now: datetime | None = None) -> list[Decision]:
    """Decisions of the earlier round that still apply to this one: a suggestion we rejected there (we accepted
    their words), where this round makes the same suggestion on the same words. Recorded under the reviewer who
    decided, with a comment naming the round."""
    now = now or datetime.now(timezone.utc)
    rejected = {_anchor(s): previous.decisions[s.id] for s in previous.redlines.suggestions
                if s.id in previous.decisions and previous.decisions[s.id].action == "reject"}
    carried = []
    for suggestion in current.redlines.suggestions:
        earlier = rejected.get(_anchor(suggestion))
        if earlier is not None and suggestion.id not in current.decisions:
            carried.append(Decision(suggestion_id=suggestion.id, action="reject", reviewer=earlier.reviewer, decided_at=now,
                                    comment=f"{CARRIED_OVER} ({previous.thread_id}): rejected there, "
                                            "and the clause did not change" + (f" — {earlier.comment}" if earlier.comment else "")))
    return carried
