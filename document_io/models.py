"""The document as the agents see it: plain text with stable paragraph boundaries.

`text` is the paragraphs joined by a single newline, so a character span in `text` maps back to one
paragraph (and so to one `w:p` element of the DOCX the redline is written into).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SourceFormat = Literal["docx", "pdf", "txt", "md", "html"]
PARAGRAPH_SEPARATOR = "\n"


class Paragraph(BaseModel):
    index: int = Field(description="position among the body's w:p elements (DOCX) or the generated DOCX")
    start: int
    end: int
    text: str
    hidden: bool = Field(default=False, description="contains text formatted as hidden (w:vanish)")


class SourceDocument(BaseModel):
    name: str
    source_path: str
    format: SourceFormat
    sha256: str
    text: str
    paragraphs: list[Paragraph]
    language: str = "en"

    def paragraph_at(self, offset: int) -> Paragraph:
        """The paragraph that contains character `offset` (binary search: contracts have thousands)."""
        lo, hi = 0, len(self.paragraphs) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            para = self.paragraphs[mid]
            if offset < para.start:
                hi = mid - 1
            elif offset > para.end:
                lo = mid + 1
            else:
                return para
        raise ValueError(f"offset {offset} is outside the document")


def build_document(
    *, name: str, source_path: str, fmt: SourceFormat, sha256: str, texts: list[str], hidden: list[bool] | None = None
) -> SourceDocument:
    """Lay paragraph texts end to end and record each one's span."""
    paragraphs: list[Paragraph] = []
    offset = 0
    for index, text in enumerate(texts):
        paragraphs.append(
            Paragraph(index=index, start=offset, end=offset + len(text), text=text, hidden=bool(hidden and hidden[index]))
        )
        offset += len(text) + len(PARAGRAPH_SEPARATOR)
    return SourceDocument(
        name=name,
        source_path=source_path,
        format=fmt,
        sha256=sha256,
        text=PARAGRAPH_SEPARATOR.join(texts),
        paragraphs=paragraphs,
    )
