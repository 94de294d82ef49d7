"""Word comments (w:comment) in a DOCX: each suggestion's comment thread, anchored on the paragraph it cites.

Written with python-docx's comments support (1.2): the comments part, its relationship and content type, and the
commentRangeStart / commentRangeEnd / commentReference marks around the paragraph's runs. A paragraph is addressed
by its index among the body's paragraphs, as the tracked-changes writer does; a paragraph with no run of its own
(everything in it is a tracked insertion or deletion) is anchored on the nearest earlier paragraph that has one.
"""

from __future__ import annotations

import io
from datetime import datetime

from pydantic import BaseModel, Field

from document_io.docx_surgery import edit_light
from document_io.wordml import body_paragraphs, w


class WordComment(BaseModel):
    paragraph: int = Field(description="index among the body's paragraphs, as Paragraph.index")
    author: str
    at: datetime
    text: str


def add_word_comments(docx_bytes: bytes, comments: list[WordComment]) -> bytes:
    """The DOCX with the comments added; binary parts streamed across untouched (document_io/docx_surgery.py)."""
    if not comments:
        return docx_bytes
    return edit_light(docx_bytes, lambda light: _with_comments(light, comments))


def _with_comments(docx_bytes: bytes, comments: list[WordComment]) -> bytes:
    import docx
    from docx.text.paragraph import Paragraph as WordParagraph
    from docx.text.run import Run

    word = docx.Document(io.BytesIO(docx_bytes))
    body = word.element.find(w("body"))
    paragraphs = body_paragraphs(body)
    for comment in comments:
        for index in range(min(comment.paragraph, len(paragraphs) - 1), -1, -1):
            runs = paragraphs[index].findall(w("r"))
            if runs:
                break
        else:
            continue  # a document without a single plain run: nothing to anchor on
        paragraph = WordParagraph(paragraphs[index], word.part)
        added = word.add_comment([Run(runs[0], paragraph), Run(runs[-1], paragraph)], text=comment.text,
                                 author=comment.author, initials="".join(p[:1] for p in comment.author.split()[:3]).upper())
        added._comment_elm.set(w("date"), comment.at.strftime("%Y-%m-%dT%H:%M:%SZ"))
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()
