"""What finalising will write, shown before it is written: the contract with the decided changes as Word shows
tracked changes (deletions struck through, insertions underlined), and the changed paragraphs side by side.

Built from the same `changes_for` the DOCX writer uses, so the preview and the file cannot differ in what changes.
"""

from __future__ import annotations

import html
from collections import defaultdict

from pydantic import BaseModel

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


class PreviewUnavailable(ValueError):
    """A suggestion is undecided or escalated, or two approved changes touch the same words."""


def redline_preview(status: ReviewStatus) -> RedlinePreview:
    try:
        edits, insertions = changes_for(status.redlines.suggestions, status.decisions)
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
    return RedlinePreview(tracked_html="\n".join(blocks), changed=changed)


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
