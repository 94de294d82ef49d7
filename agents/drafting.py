"""Drafting agent: a first draft on our own paper for the side we are on, assembled from approved wording only.

clause_library/templates.yaml says which sections each contract type has and in what order; each section is made of
approved clauses: a category's approved clause from the clause library (its supplier wording when we are the supplier
and the positions differ), or a drafting clause of the templates file (scope, fees, notices, entire agreement, ...)
in the wording for our side. The parties are named by the type's terms (Licensor / Licensee, Buyer / Supplier, each a
"Party" in a mutual NDA), the Definitions section defines every glossary term the draft uses, and what only the
drafter can know is left as a marked placeholder ([TO BE COMPLETED: ...]). Nothing is generated."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from clause_library.playbook import ClauseLibrary
from document_io.docx_draft import PLACEHOLDER

TEMPLATES = Path(__file__).resolve().parents[1] / "clause_library" / "templates.yaml"
# a term the draft defines where it first uses it: '(the "Services")', '(each a "Party")', '(the "Receiving Party")'
INLINE_DEFINITION = re.compile(r"\((?:the|each\s+a|a)\s+\"(?P<term>[A-Z][\w -]+)\"\)")


class DraftSection(BaseModel):
    category: str = Field(description="the template's section id")
    heading: str
    text: str = Field(description="the clause; paragraphs separated by a blank line")


class DraftContract(BaseModel):
    title: str
    name: str = Field(description="the type's title as written: Software as a Service Agreement")
    preamble: str
    sections: list[DraftSection]
    signatories: list[str] = Field(description="the parties, in the order they sign")

    def placeholders(self) -> list[str]:
        return [m.group(0) for s in self.sections for m in PLACEHOLDER.finditer(s.text)]


class DraftRequest(BaseModel):
    contract_type: str
    our_name: str = Field(min_length=1)
    counterparty: str = Field(min_length=1, max_length=200)
    our_side: Literal["customer", "supplier"]
    effective: date


@lru_cache(maxsize=1)
def templates() -> dict:
    return yaml.safe_load(TEMPLATES.read_text(encoding="utf-8"))


def draft_types() -> list[str]:
    return sorted(templates()["types"])


def draft(data: DraftRequest, library: ClauseLibrary) -> DraftContract:
    spec = templates()
    template = spec["types"].get(data.contract_type)
    if template is None:
        raise ValueError(f"no template for {data.contract_type!r}; there are: {', '.join(draft_types())}")
    customer, supplier = ((data.our_name, data.counterparty) if data.our_side == "customer" else (data.counterparty, data.our_name))
    mutual = bool(template.get("mutual"))
    roles = template.get("roles", {"customer": "Customer", "supplier": "Supplier"})
    body: list[tuple[str, str, str]] = []  # (section id, heading, text) of every section but the definitions
    for section_id in template["sections"]:
        section = spec["sections"][section_id]
        if section_id == "definitions" or section.get("only", data.our_side) != data.our_side:
            continue
        parts = [_part(part, data.our_side, spec, library) for part in section["parts"]]
        text = " ".join(_with_roles(p, roles, mutual, template.get("product")) for p in parts if p)
        if text:
            body.append((section_id, section["heading"], text))
    if mutual:
        preamble = (f"This {template['title']} (the \"Agreement\") is made as of {_day(data.effective)} (the \"Effective "
                    f"Date\") between {data.our_name} and {data.counterparty} (each a \"Party\").")
    else:
        preamble = (f"This {template['title']} (the \"Agreement\") is made as of {_day(data.effective)} (the \"Effective "
                    f"Date\") between {customer} (the \"{roles['customer']}\") and {supplier} (the \"{roles['supplier']}\").")
    definitions = _definitions(preamble, [text for _, _, text in body], spec["glossary"])
    sections = []
    if "definitions" in template["sections"] and definitions:
        body.insert(0, ("definitions", spec["sections"]["definitions"]["heading"], definitions))
    for number, (section_id, heading, text) in enumerate(body, start=1):
        sections.append(DraftSection(category=section_id, heading=f"{number}. {heading}", text=text))
    return DraftContract(title=template["title"].upper(), name=template["title"], preamble=preamble, sections=sections,
                         signatories=[data.our_name, data.counterparty] if mutual else [customer, supplier])


def _part(part: str, side: str, spec: dict, library: ClauseLibrary) -> str:
    """One approved clause: `lib:<category>` from the clause library, else a drafting clause of the templates file."""
    if part.startswith("lib:"):
        category = library.get(part.removeprefix("lib:"))
        wording = category.supplier_clause if side == "supplier" and category.supplier_clause else category.approved_clause
        return " ".join(wording.split())
    wordings = spec["clauses"][part]
    wording = wordings.get(side) or wordings["any"]
    if wording.startswith("lib:"):  # this side's wording is the library's approved clause
        return _part(wording, side, spec, library)
    return " ".join(wording.split())


def _with_roles(text: str, roles: dict[str, str], mutual: bool, product: str | None) -> str:
    """The type's names for the two sides and what is supplied: "the Supplier" of a library clause is "the Licensor"
    in a licence, and "the deliverables" are "the Software"."""
    text = text.replace("{C}", roles["customer"]).replace("{S}", roles["supplier"]).replace("{P}", product or "deliverables")
    if product:  # "the services or deliverables infringe" of a services clause: "the Software infringes"
        verb = "infringe" if product.endswith("s") else "infringes"
        text = re.sub(r"\bthe services or deliverables infringe\b", f"the {product} {verb}", text)
        text = re.sub(r"\bthe deliverables\b", f"the {product}", text)
    text = re.sub(r"\bthe fees\b", "the Fees", text)  # the defined term, wherever a library clause says "the fees"
    if mutual:
        return text
    for generic, side in (("Supplier", "supplier"), ("Customer", "customer")):
        text = re.sub(rf"\b{generic}\b", roles[side], text)
    return text


def _definitions(preamble: str, clauses: list[str], glossary: dict[str, str]) -> str:
    """'"Affiliate" means ...' for every glossary term the body uses that it does not define where it uses it."""
    body = " ".join(clauses)
    inline = {m.group("term") for m in INLINE_DEFINITION.finditer(preamble + " " + body)}
    used = [term for term in sorted(glossary) if term not in inline and re.search(rf"\b{re.escape(term)}s?\b", body)]
    return "\n\n".join(f"\"{term}\" means {' '.join(glossary[term].split())}." for term in used)


def _day(value: date) -> str:
    return f"{value:%B} {value.day}, {value.year}"
