"""The document as the agents see it: plain text with stable paragraph boundaries.

`text` is the paragraphs joined by a single newline, so a character span in `text` maps back to one
paragraph (and so to one `w:p` element of the DOCX the redline is written into).
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, Field

SourceFormat = Literal["docx", "pdf", "txt", "md", "html"]
PARAGRAPH_SEPARATOR = "\n"


class Paragraph(BaseModel):
    index: int = Field(description="position among the body's w:p elements (DOCX) or the generated DOCX")
    start: int
    end: int
    text: str
    hidden: bool = Field(default=False, description="contains text a reader does not see (hidden, white, tiny)")
    in_table: bool = Field(default=False, description="inside a table cell (DOCX)")
    part: str = Field(default="body", description="where Word shows it: body, text box, header, footer, footnote N, "
                      "endnote N, comment N by <author>; tracked changes are written only in the body")
    concealed: str | None = Field(default=None, description="how the text is kept from a reader, e.g. 'white text'")
    concealed_spans: list[tuple[int, int, str]] = Field(default_factory=list, description="(start, end, how) of each "
                                                        "stretch a reader cannot see, in document offsets")

    @property
    def is_contract_text(self) -> bool:
        """Whether the paragraph is part of what the parties sign: the body, its text boxes and notes; a comment, a
        header or a footer is not (a comment saying "governed by Delaware law" is not a governing-law clause)."""
        return not self.part.startswith(("comment ", "header", "footer"))


class Revision(BaseModel):
    """A tracked change the other side left in the document they sent. The text is read as they propose it: an
    insertion is part of `text` at [start, end); a deletion is not, and sits at `start` (= `end`)."""

    kind: Literal["insertion", "deletion"]
    start: int
    end: int
    text: str
    author: str = "unknown"
    date: str | None = None

    def describe(self) -> str:
        when = f" on {self.date[:10]}" if self.date else ""
        return f"{'inserted' if self.kind == 'insertion' else 'deleted'} by {self.author}{when}"


class SourceDocument(BaseModel):
    name: str
    source_path: str
    format: SourceFormat
    sha256: str
    text: str
    paragraphs: list[Paragraph]
    language: str = "en"
    revisions: list[Revision] = Field(default_factory=list, description="the sender's own tracked changes (DOCX)")

    def contract_text(self) -> str:
        """`text` with everything that is not contract text (comments, headers, footers) blanked out, offsets kept: what
        presence checks and facts are read from, so a span found in it is a span of `text`."""
        if all(p.is_contract_text for p in self.paragraphs):
            return self.text
        chars = list(self.text)
        for paragraph in self.paragraphs:
            if not paragraph.is_contract_text:
                chars[paragraph.start:paragraph.end] = " " * (paragraph.end - paragraph.start)
        return "".join(chars)

    def revisions_touching(self, start: int, end: int) -> list[Revision]:
        """The sender's changes inside [start, end]: inserted text overlapping it, or a deletion within it."""
        return [r for r in self.revisions if (r.start < end and r.end > start) or (r.kind == "deletion" and start <= r.start <= end)]

    def their_changes(self) -> list[str]:
        """One line per tracked change and comment the sender left, for the reviewer to read first."""
        lines = [f"{r.describe()}: “{r.text.strip()[:200]}”" for r in self.revisions if r.text.strip()]
        lines += [f"{p.part}: “{p.text.strip()[:200]}”" for p in self.paragraphs if p.part.startswith("comment ") and p.text.strip()]
        return lines

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
    *, name: str, source_path: str, fmt: SourceFormat, sha256: str, texts: list[str], hidden: list[bool] | None = None,
    in_table: list[bool] | None = None, parts: list[str] | None = None, concealed: list[str | None] | None = None,
    revisions: list[list[Revision]] | None = None, concealed_spans: list[list[tuple[int, int, str]] | None] | None = None,
) -> SourceDocument:
    """Lay paragraph texts end to end and record each one's span; `revisions` per paragraph, offsets local to it."""
    paragraphs: list[Paragraph] = []
    placed: list[Revision] = []
    offset = 0
    for index, text in enumerate(texts):
        placed += [r.model_copy(update={"start": r.start + offset, "end": r.end + offset}) for r in (revisions[index] if revisions else [])]
        how = concealed[index] if concealed else None
        stretches = [(offset + a, offset + b, kind) for a, b, kind in (concealed_spans[index] or [])] if concealed_spans else []
        paragraphs.append(
            Paragraph(index=index, start=offset, end=offset + len(text), text=text,
                      hidden=bool(hidden and hidden[index]) or how is not None, in_table=bool(in_table and in_table[index]),
                      part=parts[index] if parts else "body", concealed=how, concealed_spans=stretches)
        )
        offset += len(text) + len(PARAGRAPH_SEPARATOR)
    return SourceDocument(
        name=name,
        source_path=source_path,
        format=fmt,
        sha256=sha256,
        text=PARAGRAPH_SEPARATOR.join(texts),
        paragraphs=paragraphs,
        revisions=placed,
    )


_PLAIN_TEXT_BREAK = re.compile(r"\s*\n\s*|\s{3,}")


def document_from_text(*, name: str, text: str, source_path: str = "") -> SourceDocument:
    """A document from plain text already in memory (datasets, tests): paragraphs at line breaks and at the
    runs of three or more spaces that PDF-to-text tools such as CUAD's leave between paragraphs."""
    texts = [piece.strip() for piece in _PLAIN_TEXT_BREAK.split(text) if piece.strip()]
    return build_document(
        name=name, source_path=source_path or name, fmt="txt",
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), texts=texts,
    )
