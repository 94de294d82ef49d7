"""The one-sided terms a lawyer flags first (clause_library/risk_terms.yaml), loaded and checked.

Each term says how it is found (the risk-term model for its CUAD category, or its signal regexes), whom it weighs on
(read from the sentence's frame), how serious it is, and what to ask for. The agent that uses it is agents/risk_terms.py.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, field_validator

from clause_library.playbook import ReviewFunction, Severity

RISK_TERMS_FILE = Path(__file__).parent / "risk_terms.yaml"

Burden = Literal["modality", "bound", "other", "owner", "holder", "auditor", "assignor", "unclear"]


class Asks(BaseModel):
    against_us: str
    mutual: str
    unclear: str


class RiskTerm(BaseModel):
    id: str
    label: str
    cuad_category: str | None = Field(default=None, description="found by the risk-term model for this CUAD category")
    signals: list[str] = Field(min_length=1)
    not_when: str | None = None
    not_under: str | None = Field(default=None, description="a section heading under which a sentence is not the term "
                                  "('Termination for Cause': 'either party may terminate upon 30 days' notice' there is "
                                  "termination for breach, not at will)")
    needs: str | None = None
    burden: Burden = "modality"
    severity: Severity
    one_sided_only: bool = Field(default=False, description="when the other party gives the same term to us, the "
                                 "contract is balanced on it: each occurrence is noted, not raised")
    escalate_to: ReviewFunction
    ask: Asks
    raise_when_mutual: bool = Field(default=False, description="raised (one step lower) when it binds both parties; "
                                    "otherwise a mutual term is a note: both carry it, so it rarely needs the reviewer")
    covered_by: list[str] = Field(default_factory=list, description="playbook categories whose finding on the same "
                                  "clause already raises this term (besides the one with the same CUAD category)")
    routine_when: dict[Literal["us", "mutual"], list[str]] = Field(
        default_factory=dict, description="per direction, wording that shows the clause already holds what we would ask "
        "for (an audit with notice and a yearly limit at the auditor's cost; a mutual right to terminate on 90 days or "
        "more): noted, not raised")

    @field_validator("signals")
    @classmethod
    def _compile_signals(cls, value: list[str]) -> list[str]:
        for regex in value:
            re.compile(regex)
        return value

    @field_validator("routine_when")
    @classmethod
    def _compile_routine(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for regexes in value.values():
            for regex in regexes:
                re.compile(regex)
        return value

    def is_routine(self, direction: str, clause: str) -> bool:
        """The clause, read in `direction`, already meets the term's ask."""
        return any(re.search(regex, clause, re.IGNORECASE) for regex in self.routine_when.get(direction, []))  # type: ignore[call-overload]

    @field_validator("not_when", "needs", "not_under")
    @classmethod
    def _compile(cls, value: str | None) -> str | None:
        if value:
            re.compile(value)
        return value

    @property
    def signal(self) -> str:
        """The term's signals as one regex."""
        return "|".join(f"(?:{s})" for s in self.signals)


class RiskTermLibrary(BaseModel):
    terms: list[RiskTerm]

    def get(self, term_id: str) -> RiskTerm:
        return next(t for t in self.terms if t.id == term_id)


def load_risk_terms(path: Path = RISK_TERMS_FILE) -> RiskTermLibrary:
    try:
        library = RiskTermLibrary.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except Exception as exc:  # a broken data file must say which file and why
        raise ValueError(f"risk terms file {path.name} is invalid: {exc}") from exc
    ids = [t.id for t in library.terms]
    if len(ids) != len(set(ids)):
        raise ValueError(f"risk terms file {path.name} repeats an id")
    return library


@lru_cache(maxsize=1)
def default_risk_terms() -> RiskTermLibrary:
    return load_risk_terms()
