"""Writing a drafted contract as a Word document: a title, the preamble, numbered headings (Word's Heading 2 style,
so the navigation pane and a table of contents see them) each followed by its clause, and a signature table. What the
drafter must fill in ([TO BE COMPLETED: ...]) is bold and highlighted."""

from __future__ import annotations

import re
from pathlib import Path

# what a drafter must fill in before a draft is sent
PLACEHOLDER = re.compile(r"\[TO BE COMPLETED: [^\]]+\]")


def write_draft_docx(path: Path, title: str, preamble: str, sections: list[tuple[str, str]], signatories: list[str]) -> Path:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
    from docx.shared import Pt

    document = docx.Document()
    heading = document.add_heading(title, level=1)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph(preamble)
    for section_heading, text in sections:
        document.add_heading(section_heading, level=2)
        for part in text.split("\n\n"):  # a section of several paragraphs (the definitions)
            paragraph = document.add_paragraph()
            for piece in re.split(f"({PLACEHOLDER.pattern})", part):
                run = paragraph.add_run(piece)
                if PLACEHOLDER.fullmatch(piece):  # what the drafter must fill in, marked where Word shows it
                    run.bold = True
                    run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            paragraph.paragraph_format.space_after = Pt(8)
    document.add_paragraph("IN WITNESS WHEREOF, the parties have signed this Agreement as of the Effective Date.")
    table = document.add_table(rows=4, cols=len(signatories))
    table.style = "Table Grid"
    for column, party in enumerate(signatories):
        for row, label in enumerate([party, "Signature: ____________________", "Name: ____________________",
                                     "Date: ____________________"]):
            table.cell(row, column).text = label
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    document.save(str(temporary))
    temporary.replace(path)  # never a half-written file under the real name
    return path
