"""Drafting agent: a first draft on our own paper, assembled from the approved clause library (each category's
approved clause, which is the playbook's preferred position), in the order clause_library/templates.yaml gives for
the contract type. Nothing is generated: every sentence of the body is an approved clause, with only the defined
terms of the parties substituted."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from clause_library.playbook import ClauseLibrary

TEMPLATES = Path(__file__).resolve().parents[1] / "clause_library" / "templates.yaml"


class DraftSection(BaseModel):
    category: str
    heading: str
    text: str


class DraftContract(BaseModel):
    title: str
    preamble: str
    sections: list[DraftSection]
    signatories: list[str] = Field(description="the parties, in the order they sign")


class DraftRequest(BaseModel):
    contract_type: str
    our_name: str = Field(min_length=1)
    counterparty: str = Field(min_length=1, max_length=200)
    our_side: str = Field(pattern="^(customer|supplier)$")
    effective: date


def heading_of(label: str) -> str:
    """A library label as a contract heading: "Assignment (anti-assignment)" reads "Assignment"."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", label)


@lru_cache(maxsize=1)
def templates() -> dict[str, dict]:
    return yaml.safe_load(TEMPLATES.read_text(encoding="utf-8"))


def draft(data: DraftRequest, library: ClauseLibrary) -> DraftContract:
    template = templates().get(data.contract_type)
    if template is None:
        raise ValueError(f"no template for {data.contract_type!r}; there are: {', '.join(sorted(templates()))}")
    customer, supplier = ((data.our_name, data.counterparty) if data.our_side == "customer" else (data.counterparty, data.our_name))
    mutual = data.contract_type == "nda"
    roles = ('each a "Party"' if mutual else None)
    preamble = (f"This {template['title']} (the \"Agreement\") is made as of {data.effective:%B} {data.effective.day}, "
                f"{data.effective.year} (the \"Effective Date\") between {customer} (the \"Customer\") and {supplier} "
                f"(the \"Supplier\")" + (f", {roles}" if roles else "") + ".")
    sections = []
    for number, category_id in enumerate(template["clauses"], start=1):
        category = library.get(category_id)
        text = category.approved_clause.strip()
        if mutual:  # in a mutual NDA both parties disclose: "the Supplier" / "the Customer" read as "each Party"
            text = re.sub(r"\b[Tt]he (?:Supplier|Customer)\b", "each Party", text)
        sections.append(DraftSection(category=category_id, heading=f"{number}. {heading_of(category.label)}", text=text))
    return DraftContract(title=template["title"].upper(), preamble=preamble, sections=sections,
                         signatories=[customer, supplier])
