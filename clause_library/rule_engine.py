"""Evaluate one playbook rule on a piece of contract text.

A `RuleHit` says what was measured (exact offsets), where it sits on the playbook ladder
(preferred → fallback → beyond fallback → walk-away) and the replacement text that would bring that exact
piece to the preferred position, written in the contract's own style ("sixty (60) days").
Compliance turns hits into findings; redlining turns the replacements into minimal tracked changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from document_io.legal_text import find_jurisdiction
from document_io.quantities import find_durations, find_percents, format_duration, format_percent
from clause_library.playbook import Position, Rule

_BEFORE, _AFTER = 80, 20


@dataclass(frozen=True)
class RuleHit:
    rule: Rule
    start: int
    end: int
    measured: str
    position: Position
    replacement: str | None
    value: float | None = None  # the measured number, in the rule's unit

    @property
    def is_violation(self) -> bool:
        return self.position != "preferred"


def evaluate(rule: Rule, text: str, offset: int = 0) -> list[RuleHit]:
    """Hits of `rule` in `text`; offsets are shifted by `offset` (the text's place in the document).

    A rule with `requires` fires only on text that is what the rule governs (a cap needs a limit on liability,
    a payment term needs a payment obligation), not on any number near a keyword."""
    if rule.requires and not re.search(rule.requires, text, re.IGNORECASE):
        return []
    if rule.kind in ("duration_max", "duration_min"):
        hits = _durations(rule, text)
    elif rule.kind == "percent_max":
        hits = _percents(rule, text)
    elif rule.kind == "jurisdiction_allowed":
        hits = _jurisdiction(rule, text)
    else:
        hits = _forbidden(rule, text)
    return [RuleHit(h.rule, h.start + offset, h.end + offset, h.measured, h.position, h.replacement, h.value) for h in hits]


def _in_context(rule: Rule, text: str, start: int, end: int) -> bool:
    if not rule.context:
        return True
    before, after = text[max(0, start - _BEFORE) : start], text[end : end + _AFTER]
    if not re.search(rule.context, before + " " + after, re.IGNORECASE):
        return False
    return not (rule.not_context and re.search(rule.not_context, text[end : end + rule.not_context_reach], re.IGNORECASE))


def _ladder(rule: Rule, value: float, higher_is_worse: bool) -> Position:
    preferred, fallback, walk_away = float(rule.preferred_value), rule.fallback_value, rule.walk_away_value
    worse = (lambda a, b: a > b) if higher_is_worse else (lambda a, b: a < b)
    if not worse(value, preferred):
        return "preferred"
    if not worse(value, fallback):
        return "fallback"
    if not worse(value, walk_away):
        return "beyond_fallback"
    return "walk_away"


def _durations(rule: Rule, text: str) -> list[RuleHit]:
    hits = []
    for duration in find_durations(text):
        if not _in_context(rule, text, duration.start, duration.end):
            continue
        value = duration.in_unit(rule.unit)  # compared in the rule's unit: 10 days = 240 hours
        position = _ladder(rule, value, higher_is_worse=rule.kind == "duration_max")
        # The playbook's value in the playbook's unit, in the contract's style: "forty-eight (48) hours".
        replacement = format_duration(float(rule.preferred_value), duration, rule.unit)
        hits.append(RuleHit(rule, duration.start, duration.end, text[duration.start : duration.end], position, replacement, value))
    return hits


def _percents(rule: Rule, text: str) -> list[RuleHit]:
    hits = []
    for percent in find_percents(text):
        if not _in_context(rule, text, percent.start, percent.end):
            continue
        position = _ladder(rule, percent.value, higher_is_worse=True)
        replacement = format_percent(float(rule.preferred_value), percent)
        hits.append(RuleHit(rule, percent.start, percent.end, text[percent.start : percent.end], position, replacement, percent.value))
    return hits


def _jurisdiction(rule: Rule, text: str) -> list[RuleHit]:
    found = find_jurisdiction(text)
    if found is None:
        return []
    allowed = {a.lower() for a in rule.allowed}
    position: Position = "preferred" if found.normalised in allowed else rule.position_on_fail
    if position == "preferred" and found.normalised != str(rule.preferred_value).lower().replace("the state of ", ""):
        position = "fallback"
    preferred = str(rule.preferred_value)
    if found.name[:1].isupper() and not found.name.lower().startswith(("the ", "state ")) and " law" in text[found.end:found.end + 5]:
        preferred = re.sub(r"^(the )?(state|commonwealth) of ", "", preferred, flags=re.IGNORECASE)  # "German law" → "Delaware law"
    if found.name.isupper():
        preferred = preferred.upper()  # a clause in capitals keeps its capitals: "THE STATE OF DELAWARE"
    return [RuleHit(rule, found.start, found.end, found.name, position, preferred)]


def _forbidden(rule: Rule, text: str) -> list[RuleHit]:
    hits = []
    for match in re.finditer(rule.pattern, text, re.IGNORECASE):
        original = match.group(0)
        fixed = original
        for fix in rule.fix:
            fixed = re.sub(fix.find, fix.replace, fixed, count=1, flags=re.IGNORECASE)
        hits.append(
            RuleHit(rule, match.start(), match.end(), original, rule.position_on_fail, fixed if fixed != original else None)
        )
    return hits


def fallback_replacement(rule: Rule, hit: RuleHit) -> str | None:
    """The measured term rewritten at the playbook's fallback value, in the contract's style ("one hundred eighty
    (180) days" → "ninety (90) days"): what to offer when the preferred position is refused. None when the rule has
    no numeric fallback or the term is already at the fallback or better."""
    if rule.fallback_value is None or hit.position not in ("beyond_fallback", "walk_away"):
        return None
    if rule.kind in ("duration_max", "duration_min"):
        parsed = find_durations(hit.measured)
        return format_duration(float(rule.fallback_value), parsed[0], rule.unit) if parsed else None
    if rule.kind == "percent_max":
        parsed = find_percents(hit.measured)
        return format_percent(float(rule.fallback_value), parsed[0]) if parsed else None
    return None


def improves(rule: Rule, before: RuleHit, after_text: str, after_offset: int = 0) -> tuple[bool, str]:
    """The re-check every automatic redline passes before a human sees it: evaluate the same rule on the revised
    text; the revised term must land on the preferred or fallback rung and be no worse for us than before."""
    after = [h for h in evaluate(rule, after_text, after_offset)]
    if rule.kind == "forbidden_pattern":
        return (not after, "the forbidden wording is still there" if after else "")
    if rule.kind == "jurisdiction_allowed":
        ok = bool(after) and after[0].position in ("preferred", "fallback")
        return ok, "" if ok else "the revised clause names no approved jurisdiction"
    near = [h for h in after if h.start < before.start + len(before.replacement or before.measured) + 1 and h.end > before.start - 1]
    if not near:
        return False, "the revised clause no longer states the measured term"
    hit = near[0]
    if hit.position not in ("preferred", "fallback"):
        return False, f"the revised term '{hit.measured}' is still {hit.position.replace('_', ' ')}"
    higher_is_worse = rule.kind in ("duration_max", "percent_max")
    worse = hit.value > before.value if higher_is_worse else hit.value < before.value
    if worse:
        return False, f"the revised term '{hit.measured}' is worse for us than '{before.measured}'"
    return True, ""
