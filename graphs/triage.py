"""The triage summary of a batch: one row per file, riskiest first, as CSV, JSON and Markdown."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from graphs.review_service import ReviewStatus

Outcome = Literal["awaiting_review", "finalised", "duplicate", "failed", "skipped"]  # skipped: not a file we read
_RISK_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class TriageRow(BaseModel):
    file: str
    outcome: Outcome
    reason: str | None = None
    thread_id: str | None = None
    contract_type: str | None = None
    counterparty: str | None = None
    risk: str | None = None
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    walk_away_hits: int = 0
    notice_deadline: date | None = None
    review_functions: list[str] = []
    suggestions: int = 0
    pending: int = 0

    @classmethod
    def from_status(cls, file: str, status: ReviewStatus) -> TriageRow:
        findings = status.compliance.findings
        count = lambda severity: sum(1 for f in findings if f.severity == severity)  # noqa: E731
        return cls(
            file=file, outcome="finalised" if status.finalised else "awaiting_review", thread_id=status.thread_id,
            contract_type=status.profile.contract_type, counterparty=status.profile.counterparty, risk=status.overall_risk,
            critical=count("critical"), high=count("high"), medium=count("medium"), low=count("low"),
            walk_away_hits=sum(1 for f in findings if f.position == "walk_away"),
            notice_deadline=status.brief.terms.notice_deadline,
            review_functions=list(status.profile.review_functions),
            suggestions=len(status.redlines.suggestions), pending=len(status.pending),
        )

    @classmethod
    def failure(cls, file: str, reason: str) -> TriageRow:
        return cls(file=file, outcome="failed", reason=reason)


def sort_for_triage(rows: list[TriageRow]) -> list[TriageRow]:
    """Riskiest first; among equals more walk-away hits, then the nearest notice deadline; failures last."""
    return sorted(rows, key=lambda r: (
        r.outcome in ("failed", "skipped"), r.outcome == "skipped", _RISK_RANK.get(r.risk or "", 9), -r.walk_away_hits,
        r.notice_deadline or date.max, r.file,
    ))


_COLUMNS = ["file", "outcome", "reason", "thread_id", "contract_type", "counterparty", "risk", "critical", "high", "medium",
            "low", "walk_away_hits", "notice_deadline", "review_functions", "suggestions", "pending"]


def write_triage(rows: list[TriageRow], folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rows = sort_for_triage(rows)
    paths = {"csv": folder / "triage.csv", "json": folder / "triage.json", "markdown": folder / "triage.md"}
    with paths["csv"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=_COLUMNS)
        writer.writeheader()
        for row in rows:
            record = row.model_dump(mode="json")
            record["review_functions"] = " ".join(row.review_functions)
            writer.writerow(record)
    paths["json"].write_text(json.dumps([r.model_dump(mode="json") for r in rows], indent=2), encoding="utf-8")
    paths["markdown"].write_text(render_triage_markdown(rows), encoding="utf-8")
    return paths


def outcome_counts(rows: list[TriageRow]) -> tuple[int, int]:
    """(reviewed, failed): one count for the printed summary and the triage files alike; a copy of a file that could
    not be read is itself counted as failed."""
    failed = sum(1 for r in rows if r.outcome == "failed")
    return sum(1 for r in rows if r.outcome not in ("failed", "skipped")), failed


def skipped_count(rows: list[TriageRow]) -> int:
    """Entries of the inbox that were listed, not read: links, FIFOs and devices, hidden files."""
    return sum(1 for r in rows if r.outcome == "skipped")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_triage_markdown(rows: list[TriageRow]) -> str:
    reviewed = [r for r in rows if r.outcome not in ("failed", "skipped")]
    failed = [r for r in rows if r.outcome == "failed"]
    skipped = [r for r in rows if r.outcome == "skipped"]
    lines = [
        "# Inbound contracts: triage",
        "",
        "{} reviewed up to the human checkpoint, {} could not be read.".format(*outcome_counts(rows)),
        "",
        "| risk | file | type | counterparty | critical / high / medium | walk-away | notice deadline | reviewers | thread |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reviewed:
        note = " (same content as another file)" if r.outcome == "duplicate" else " (finalised)" if r.outcome == "finalised" else ""
        lines.append(
            f"| {r.risk} | {_cell(r.file)}{note} | {r.contract_type} | {_cell(r.counterparty or '—')} | {r.critical} / {r.high} / {r.medium} | "
            f"{r.walk_away_hits} | {r.notice_deadline or '—'} | {', '.join(r.review_functions)} | `{r.thread_id}` |"
        )
    if failed:
        lines += ["", "## Could not be reviewed", ""] + [f"- {_cell(r.file)}: {r.reason}" for r in failed]
    if skipped:
        lines += ["", "## Not read", ""] + [f"- {_cell(r.file)}: {r.reason}" for r in skipped]
    lines += ["", "Decide with `python app.py decide <thread> -i` or on the web page (`python app.py serve`)."]
    return "\n".join(lines) + "\n"
