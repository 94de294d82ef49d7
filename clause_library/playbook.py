"""The approved-clause library and playbook, loaded from the human-editable YAML files in clauses/.

Each file is one clause category: the approved clause text, the negotiating positions (preferred,
fallback, walk-away and who to escalate to), the contract types that must contain it, and machine-checkable
rules. Editing a file and running `python app.py library index` is all it takes to change the playbook.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

CLAUSES_DIR = Path(__file__).parent / "clauses"

ReviewFunction = Literal["legal", "security", "finance", "procurement"]
Severity = Literal["info", "low", "medium", "high", "critical"]
Position = Literal["preferred", "fallback", "beyond_fallback", "walk_away", "missing"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


class PatternFix(BaseModel):
    """A regex substitution applied inside the matched clause text: the minimal edit for a forbidden term."""

    find: str
    replace: str


class SideLadder(BaseModel):
    preferred: str
    fallback: str
    walk_away: str


class Rule(BaseModel):
    id: str
    kind: Literal["duration_max", "duration_min", "percent_max", "jurisdiction_allowed", "forbidden_pattern"]
    description: str
    severity: Severity
    side: Literal["customer", "supplier", "any"] = Field(
        default="any", description="whose interest the rule protects; it applies only when that is our side")
    requires: str | None = Field(default=None, description="regex the clause must match for the rule to apply at all")
    context: str | None = Field(default=None, description="regex near a number that says it is the one measured")
    not_context: str | None = Field(default=None, description="regex just after a number that says it is not")
    not_context_reach: int = Field(default=20, ge=1, le=200, description="how many characters after the number not_context "
                                   "reads ('one (1) year after the end of such employment' needs more than the default)")
    unit: Literal["hours", "business days", "days", "weeks", "months", "years"] | None = None
    preferred_value: float | str | None = None
    fallback_value: float | None = None
    walk_away_value: float | None = None
    allowed: list[str] = Field(default_factory=list)
    pattern: str | None = None
    fix: list[PatternFix] = Field(default_factory=list)
    position_on_fail: Position = "beyond_fallback"
    fallback_accepted: bool | list[Literal["us", "them", "mutual", "nobody"]] = Field(
        default=False, description="a term already at the fallback rung is accepted as it stands on the other side's paper: "
        "noted, not asked for (New York law for Delaware costs more goodwill than it gains); a list: only when who acts in "
        "the clause is one of these (a mutual twelve-month non-solicit, not one binding us alone)")
    not_for: list[str] = Field(default_factory=list, description="contract types where the rule does not protect us: a "
                               "licensee's or distributor's term is how long its rights last, so a shorter one is worse")
    acting: list[Literal["us", "them", "mutual", "nobody"]] | None = Field(
        default=None, description="who must act in the clause for the rule to apply (the party that gives the notice, "
        "pays, whose liability is capped), read from the clause's frame; None: whoever it is")
    one_sided_only: bool = Field(default=False, description="a forbidden pattern that is fine when the contract runs the same "
                                 "term the other way too: their right also given to us (or either party); for a rule acting "
                                 "on us alone, their matching duty to us (mutual indemnities)")
    ladder: SideLadder | None = Field(default=None, description="this rule's own positions, when they differ from the "
                                      "category's (a rule for the supplier side argues the supplier's ladder)")
    ask_only: str | None = Field(
        default=None, description="regex on the measured value: a deviation that matches is a question for the reviewer "
        "(a flag at medium, still escalated), never an automatic edit - one US state's law for another is Legal's call, "
        "not a redline to send")

    def asks_only(self, measured: str | None) -> bool:
        return bool(self.ask_only and measured and re.search(self.ask_only, measured, re.IGNORECASE))

    @model_validator(mode="after")
    def _parameters_match_kind(self) -> Rule:
        numeric = self.kind in ("duration_max", "duration_min", "percent_max")
        if numeric and None in (self.preferred_value, self.fallback_value, self.walk_away_value):
            raise ValueError(f"rule {self.id}: numeric rules need preferred, fallback and walk-away values")
        if self.kind.startswith("duration") and self.unit is None:
            raise ValueError(f"rule {self.id}: duration rules need a unit")
        if self.kind == "forbidden_pattern" and not self.pattern:
            raise ValueError(f"rule {self.id}: forbidden_pattern needs a pattern")
        if self.kind == "jurisdiction_allowed" and not (self.allowed and self.preferred_value):
            raise ValueError(f"rule {self.id}: jurisdiction rules need allowed values and a preferred value")
        for regex in [self.requires, self.context, self.not_context, self.pattern, self.ask_only, *(f.find for f in self.fix)]:
            if regex:
                re.compile(regex)
        return self


class PlaybookEntry(BaseModel):
    preferred: str
    fallback: str
    walk_away: str
    escalate_to: ReviewFunction
    required_for: list[str] = Field(default_factory=list)
    required_side: Literal["customer", "supplier", "any"] = Field(
        default="any", description="the clause is required (and its approved wording inserted) only for this side")
    protects_when_acting: list[Literal["us", "them", "mutual"]] | None = Field(
        default=None, description="the clause counts as present only where the party acting in it is one of these: an "
        "indemnity, insurance or warranty given by them (or both) protects us; one given by us alone does not, and the "
        "approved wording is still missing")
    core_exposure: bool = Field(
        default=False, description="a walk-away here is critical (uncapped liability, our data, indemnities); elsewhere high")
    not_required_when: str | None = Field(
        default=None, description="regex: the contract's nature makes the clause unnecessary (e.g. nothing is payable)")
    required_when: dict[str, str] = Field(
        default_factory=dict, description="per contract type, a regex the contract must match for the clause to be "
        "required there (a services supplier needs insurance when it handles our data or works on our premises)")
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("required_when")
    @classmethod
    def _compile_required_when(cls, value: dict[str, str]) -> dict[str, str]:
        for regex in value.values():
            re.compile(regex)
        return value


class ClauseCategory(BaseModel):
    id: str
    label: str
    cuad_category: str | None = None
    description: str
    heading: str = Field(description="regex for a section heading that introduces this category")
    signals: list[str] = Field(description="regexes whose presence in a sentence points to this category")
    presence: list[str] = Field(default_factory=list, description="further regexes that show the clause exists; used only "
                                "before calling it missing, never to extract it")
    approved_clause: str
    supplier_clause: str | None = Field(default=None, description="the approved wording for our own paper when we are the "
                                        "supplier and the positions differ (approved_clause protects the customer)")
    playbook: PlaybookEntry

    @field_validator("signals", "presence")
    @classmethod
    def _compile(cls, value: list[str]) -> list[str]:
        for regex in value:
            re.compile(regex)
        return value


def applies_to_us(side: str, our_side: str) -> bool:
    """A rule or required clause written to protect one side applies only when that is our side; with our side
    unknown (or a mutual NDA) only side-neutral ones apply, so no edit can favour the other side by mistake."""
    return side == "any" or side == our_side


class ClauseLibrary(BaseModel):
    categories: dict[str, ClauseCategory]

    def get(self, category_id: str) -> ClauseCategory:
        return self.categories[category_id]

    def required_for(self, contract_type: str) -> list[ClauseCategory]:
        return [c for c in self.categories.values() if contract_type in c.playbook.required_for]


def load_library(directory: Path = CLAUSES_DIR) -> ClauseLibrary:
    categories: dict[str, ClauseCategory] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            category = ClauseCategory.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except Exception as exc:  # a broken playbook file must say which file and why
            raise ValueError(f"clause library file {path.name} is invalid: {exc}") from exc
        if category.id != path.stem:
            raise ValueError(f"clause library file {path.name} declares id {category.id!r}; they must match")
        categories[category.id] = category
    if not categories:
        raise ValueError(f"no clause library files in {directory}")
    return ClauseLibrary(categories=categories)


@lru_cache(maxsize=1)
def default_library() -> ClauseLibrary:
    return load_library()
