"""Negotiation-round scenarios: a contract reviewed and decided, the other side's reply written by editing the version
we sent (accept, revert, rewrite, delete, add, renumber, move), and the round report the reply must get.

evals/judgments/round_scenarios.yaml holds the scenarios and what a reviewer expects of each round: the outcome of
every change we asked for (by category), the paragraphs reported as added, removed, changed or moved, which categories
this round raises on their new words, which protections are proposed again, which of our earlier decisions carry over.
Run by tests/test_round_scenarios.py and by `app.py eval --task rounds` (a report of each scenario's round)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

SCENARIOS = Path(__file__).resolve().parent / "judgments" / "round_scenarios.yaml"
ROOT = Path(__file__).resolve().parents[1]


class ReplyStep(BaseModel):
    """One edit the other side makes to the version we sent."""
    op: Literal["revert", "rewrite", "drop_insert", "renumber", "add", "delete", "move_to_end"]
    category: str | None = Field(default=None, description="revert / rewrite / drop_insert: the change we asked for")
    text: str | None = Field(default=None, description="rewrite, add: their words")
    starts: str | None = Field(default=None, description="renumber, delete, move_to_end, add: the paragraph that starts so")
    to: str | None = Field(default=None, description="renumber: the new opening ('8A. Assignment')")


class Expected(BaseModel):
    outcomes: dict[str, str] = Field(description="category of a change we asked for -> accepted/rejected/changed/removed")
    other: list[tuple[str, str]] = Field(default_factory=list, description="(kind, how the paragraph starts), in order")
    raised_on_added: list[str] = Field(default_factory=list, description="a suggestion of the round on their new "
                                       "words, by a word of its category")
    proposed_again: list[str] = Field(default_factory=list, description="categories inserted again in the round")
    carried: list[str] = Field(default_factory=list, description="categories whose earlier decision carries over")


class Scenario(BaseModel):
    name: str
    contract: str = Field(description="samples/<file> or cuad:<contract id>")
    our_names: str
    side: Literal["customer", "supplier"] | None = None
    reject: list[str] = Field(default_factory=list, description="categories we reject in round 1 (the rest approved)")
    reply: list[ReplyStep]
    expect: Expected


class ScenarioResult(BaseModel):
    name: str
    problems: list[str]
    report: list[str] = Field(description="the round as the CLI tells it, one line per change")


def load_scenarios(path: Path = SCENARIOS) -> list[Scenario]:
    return [Scenario.model_validate(item) for item in yaml.safe_load(path.read_text(encoding="utf-8"))]


def _contract_file(scenario: Scenario, cuad_folder: Path | None) -> Path:
    """The contract of round 1: a sample of this repository, or a CUAD contract's text (read as `review` reads .txt)."""
    if scenario.contract.startswith("cuad:"):
        from evals.datasets import SHARED_CUAD

        return (cuad_folder or SHARED_CUAD) / "full_contract_txt" / f"{scenario.contract.removeprefix('cuad:')}.txt"
    return ROOT / scenario.contract


def _reply_paragraphs(scenario: Scenario, sent_status) -> list[str]:
    from graphs.rounds import _sent_paragraphs

    sent, _ = _sent_paragraphs(sent_status)
    by_category = {s.category: s for s in sent_status.redlines.suggestions}
    paragraphs = list(sent)
    for step in scenario.reply:
        suggestion = by_category.get(step.category) if step.category else None
        if step.op in ("revert", "rewrite"):
            ours = suggestion.proposed_text
            replacement = suggestion.citation.quote if step.op == "revert" else step.text
            paragraphs = [p.replace(ours, replacement) for p in paragraphs]
        elif step.op == "drop_insert":
            paragraphs = [p for p in paragraphs if p != suggestion.insertion.text]
        elif step.op == "renumber":
            paragraphs = [step.to + p[len(step.starts):] if p.startswith(step.starts) else p for p in paragraphs]
        elif step.op == "delete":
            paragraphs = [p for p in paragraphs if not p.startswith(step.starts)]
        elif step.op == "move_to_end":
            moving = [p for p in paragraphs if p.startswith(step.starts)]
            rest = [p for p in paragraphs if p not in moving]
            body_end = next((i for i, p in enumerate(rest) if re.match(r"(?i)signed|in witness|name:", p)), len(rest))
            paragraphs = rest[:body_end] + moving + rest[body_end:]
        elif step.op == "add":
            at = next((i for i, p in enumerate(paragraphs) if step.starts and p.startswith(step.starts)), len(paragraphs) - 1)
            paragraphs.insert(at + 1, step.text)
    return paragraphs


def run_scenario(scenario: Scenario, folder: Path, cuad_folder: Path | None = None) -> ScenarioResult:
    import docx

    from agents.schema import Decision
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService
    from datetime import datetime, timezone

    config = ReviewConfig.from_env(folder / "data", "local")
    config.our_names = [n.strip() for n in scenario.our_names.split(";")]
    if scenario.side:
        config.side = scenario.side
    service = ReviewService(config)
    first = service.start(_contract_file(scenario, cuad_folder), folder / "out")
    now = datetime.now(timezone.utc)
    decisions = [Decision(suggestion_id=s.id, action="reject" if s.category in scenario.reject else "approve",
                          reviewer="A. Lee", decided_at=now) for s in first.redlines.suggestions]
    service.decide(first.thread_id, decisions)
    service.finalise(first.thread_id, "A. Lee")
    sent = service.status(first.thread_id)
    reply = folder / f"{scenario.name}_reply.docx"
    document = docx.Document()
    for paragraph in _reply_paragraphs(scenario, sent):
        document.add_paragraph(paragraph)
    document.save(str(reply))
    second = service.start(reply, folder / "out", round_of=first.thread_id)
    return _judge(scenario, service.rounds(second.thread_id), service.status(second.thread_id))


def _judge(scenario: Scenario, comparison, second) -> ScenarioResult:
    expect, problems = scenario.expect, []
    outcomes = {a.category: a.outcome for a in comparison.asked}
    for category, outcome in expect.outcomes.items():
        if outcomes.get(category) != outcome:
            problems.append(f"{category}: {outcomes.get(category)} (expected {outcome})")
    other = [(c.kind, c.after or c.before or "") for c in comparison.other_changes]
    expected_other = [(kind, start) for kind, start in expect.other]
    if len(other) != len(expected_other) or any(k != ek or not text.startswith(es) for (k, text), (ek, es)
                                                  in zip(other, expected_other)):
        problems.append(f"other changes: {[(k, t[:40]) for k, t in other]} (expected {expected_other})")
    raised = [r for c in comparison.other_changes if c.kind in ("added", "changed") for r in c.raised]
    categories = {s.id: s.category for s in second.redlines.suggestions}
    for word in expect.raised_on_added:
        if not any(word in categories.get(r.suggestion_id, "") for r in raised):
            problems.append(f"nothing about {word} raised on their new words")
    inserted = {s.category for s in second.redlines.suggestions if s.kind == "insert"}
    problems += [f"{c} not proposed again" for c in expect.proposed_again if c not in inserted]
    carried = {categories[sid] for sid in comparison.carried if sid in categories}
    problems += [f"{c}: earlier decision not carried over" for c in expect.carried if c not in carried]
    report = [f"round {comparison.round_number - 1} {a.suggestion_id} {a.category}: {a.outcome}" for a in comparison.asked]
    report += [f"{c.kind}: {(c.after or c.before or '')[:100]}" + "".join(f" -> {r.suggestion_id} {r.severity} {r.title}"
                                                                      for r in c.raised) for c in comparison.other_changes]
    report += [f"carried over: {', '.join(sorted(carried))}"] if carried else []
    return ScenarioResult(name=scenario.name, problems=problems, report=report)


def render_markdown(results: list[ScenarioResult]) -> str:
    lines = ["# Negotiation-round scenarios (evals/judgments/round_scenarios.yaml)", "",
             f"{sum(not r.problems for r in results)} of {len(results)} scenarios get the round report a reviewer expects.", ""]
    for result in results:
        lines += [f"## {result.name}: {'as expected' if not result.problems else 'NOT as expected'}", ""]
        lines += [f"- {line}" for line in result.report]
        lines += [f"- **problem:** {p}" for p in result.problems]
        lines.append("")
    return "\n".join(lines)
