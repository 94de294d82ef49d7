"""What finalising will write, shown before it is written (undecided suggestions as not applied): the contract with the decided changes as Word shows
tracked changes (deletions struck through, insertions underlined), and the changed paragraphs side by side.

Built from the same `changes_for` the DOCX writer uses, so the preview and the file cannot differ in what changes.
"""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import datetime, timezone

from pydantic import BaseModel

from agents.schema import Decision
from document_io.docx_redline import ParagraphInsertion, TextEdit
from document_io.models import Paragraph
from graphs.finalization import OpenEscalations, UndecidedSuggestions, changes_for
from graphs.review_service import ReviewStatus


class ChangedParagraph(BaseModel):
    original: str  # plain text; empty for an inserted paragraph
    redlined: str  # the paragraph as it reads with every change accepted


class RedlinePreview(BaseModel):
    tracked_html: str  # the whole contract, paragraphs as <p>, changes as <del>/<ins> (escaped text)
    changed: list[ChangedParagraph]
    not_applied: list[str] = []  # undecided or escalated suggestions: shown as not applied (yet)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class PreviewUnavailable(ValueError):
    """A suggestion is undecided or escalated, or two approved changes touch the same words."""


def redline_preview(status: ReviewStatus) -> RedlinePreview:
    """The decided changes; a suggestion still undecided or escalated is shown as not applied (as a rejection would
    be), so a reviewer can look before every function has decided. Conflicting approved changes are refused, as
    finalising would refuse them."""
    open_ids = [s.id for s in status.redlines.suggestions
                if s.id not in status.decisions or status.decisions[s.id].action == "escalate"]
    decided = dict(status.decisions)
    for sid in open_ids:
        decided[sid] = Decision(suggestion_id=sid, action="reject", reviewer="(not decided)", decided_at=_EPOCH)
    try:
        edits, insertions = changes_for(status.redlines.suggestions, decided)
    except (ValueError, UndecidedSuggestions, OpenEscalations) as why:  # the same refusal finalising would give
        raise PreviewUnavailable(str(why)) from why
    by_paragraph: dict[int, list[TextEdit]] = defaultdict(list)
    for edit in edits:
        owner = status.document.paragraph_at(edit.start)
        by_paragraph[owner.start].append(edit)
    inserted: dict[int, list[ParagraphInsertion]] = defaultdict(list)
    for insertion in insertions:
        inserted[insertion.after_paragraph].append(insertion)
    blocks, changed = [], []
    for paragraph in status.document.paragraphs:
        local = sorted(by_paragraph.get(paragraph.start, []), key=lambda e: (e.start, e.end))
        tracked, accepted = _apply(paragraph, local)
        blocks.append(f'<p class="{"changed" if local else "same"}">{tracked}</p>')
        if local:
            changed.append(ChangedParagraph(original=paragraph.text, redlined=accepted))
        if paragraph.part == "body":
            for insertion in inserted.get(paragraph.index, []):
                blocks.append(f'<p class="changed"><ins>{html.escape(insertion.text)}</ins></p>')
                changed.append(ChangedParagraph(original="", redlined=insertion.text))
    return RedlinePreview(tracked_html="\n".join(blocks), changed=changed, not_applied=open_ids)


def _apply(paragraph: Paragraph, edits: list[TextEdit]) -> tuple[str, str]:
    """(the paragraph with tracked changes as HTML, the paragraph as plain text with the changes accepted)."""
    text, base = paragraph.text, paragraph.start
    tracked, accepted, position = [], [], 0
    for edit in edits:
        start, end = edit.start - base, edit.end - base
        tracked.append(html.escape(text[position:start]))
        accepted.append(text[position:start])
        if end > start:
            tracked.append(f"<del>{html.escape(text[start:end])}</del>")
        if edit.new_text:
            tracked.append(f"<ins>{html.escape(edit.new_text)}</ins>")
            accepted.append(edit.new_text)
        position = end
    tracked.append(html.escape(text[position:]))
    accepted.append(text[position:])
    return "".join(tracked), "".join(accepted)
