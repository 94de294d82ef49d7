"""The review against suggestions a reviewer judged by reading (evals/judgments/review_suggestions.yaml).

Each judged contract is reviewed again as each judged side (the same local pipeline as `eval --task review`, with
`side` given and no names); every suggestion is matched to a judgment by category and the first characters of its
cited text. Reported per side: the verdicts of what the review raises now (useful / trivial / wrong / harmful), the
suggestions nobody has judged yet (to read before the shares can be trusted), the share of edits and insertions a
reviewer would send as written, and the recall of the useful ones (judged useful and still raised).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel

from evals.datasets import LabelledContract
from model_backends.local_engine import LocalEngine

JUDGMENTS = Path(__file__).parent / "judgments" / "review_suggestions.yaml"
QUOTE_KEY = 50  # the judged file keeps 60 characters as cut for reading; 50 survive whitespace at the cut
Verdict = Literal["useful", "trivial", "wrong", "harmful"]


class Judgment(BaseModel):
    contract: str  # a prefix of the CUAD contract id
    side: Literal["customer", "supplier"]
    category: str
    kind: str
    quote: str
    verdict: Verdict


class JudgedSide(BaseModel):
    reviews: int = 0
    suggestions: int = 0
    verdicts: dict[str, int] = {}
    unjudged: int = 0
    useful_share: float | None = None  # of the judged suggestions raised now
    harmful: int = 0
    edits_judged: int = 0
    edits_sendable: float | None = None  # edits and insertions judged useful, of those judged
    useful_recall: float | None = None  # judged useful and still raised / judged useful


class JudgedReport(BaseModel):
    judgments: int
    by_side: dict[str, JudgedSide]
    unjudged_examples: list[str] = []


def load_judgments(path: Path = JUDGMENTS) -> list[Judgment]:
    return [Judgment.model_validate(j) for j in yaml.safe_load(path.read_text(encoding="utf-8"))]


def run_judged(contracts: list[LabelledContract], engine: LocalEngine, judgments: list[Judgment] | None = None) -> JudgedReport:
    judgments = judgments if judgments is not None else load_judgments()
    read: dict[str, tuple] = {}  # contract -> (document, extraction): the same for both sides, so read once
    by_side: dict[str, JudgedSide] = {}
    unjudged_examples: list[str] = []
    for side in ("customer", "supplier"):
        tally, found_useful = JudgedSide(), set()
        verdicts: Counter = Counter()
        edits_useful = 0
        mine = [j for j in judgments if j.side == side]
        # every judged contract is reviewed from both sides, also a side whose review raised nothing to judge
        for prefix in sorted({j.contract for j in judgments}):
            contract = next((c for c in contracts if c.id.startswith(prefix)), None)
            if contract is None:
                continue
            judged = {(j.category, _key(j.quote)): j for j in mine if j.contract == prefix}
            tally.reviews += 1
            for suggestion in _suggestions(contract, engine, side, read):
                tally.suggestions += 1
                judgment = judged.get((suggestion.category, _key(suggestion.citation.quote)))
                if judgment is None:
                    tally.unjudged += 1
                    unjudged_examples.append(f"{prefix[:40]} {side} {suggestion.category}: {suggestion.citation.quote[:60]!r}")
                    continue
                verdicts[judgment.verdict] += 1
                if judgment.verdict == "useful":
                    found_useful.add((prefix, judgment.category, _key(judgment.quote)))
                if suggestion.kind in ("edit", "insert"):
                    tally.edits_judged += 1
                    edits_useful += judgment.verdict == "useful"
        judged_total = sum(verdicts.values())
        useful_judged = {(j.contract, j.category, _key(j.quote)) for j in mine if j.verdict == "useful"}
        tally.verdicts = dict(verdicts)
        tally.harmful = verdicts["harmful"]
        tally.useful_share = round(verdicts["useful"] / judged_total, 4) if judged_total else None
        tally.edits_sendable = round(edits_useful / tally.edits_judged, 4) if tally.edits_judged else None
        tally.useful_recall = round(len(found_useful) / len(useful_judged), 4) if useful_judged else None
        by_side[side] = tally
    return JudgedReport(judgments=len(judgments), by_side=by_side, unjudged_examples=unjudged_examples[:40])


def _suggestions(contract: LabelledContract, engine: LocalEngine, side: str, read: dict[str, tuple]):
    from evals.review_eval import as_word_document, review_document

    if contract.id not in read:
        document = as_word_document(contract)
        _, extraction, _, redlines = review_document(document, engine, side)
        read[contract.id] = (document, extraction)
        return redlines.suggestions
    document, extraction = read[contract.id]
    return review_document(document, engine, side, extraction)[3].suggestions


def _key(quote: str) -> str:
    return " ".join(quote.split())[:QUOTE_KEY]


def render_markdown(report: JudgedReport) -> str:
    pct = lambda v: "n/a" if v is None else f"{v:.0%}"  # noqa: E731
    lines = ["# The review against judged suggestions (evals/judgments/review_suggestions.yaml)", "",
             f"{report.judgments} judgments. How they were judged: see the file's header.", "",
             "| side | reviews | suggestions now | useful | trivial | wrong | harmful | unjudged | useful share | "
             "edits sendable as written | recall of the useful |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for side, s in report.by_side.items():
        v = s.verdicts
        lines.append(f"| {side} | {s.reviews} | {s.suggestions} | {v.get('useful', 0)} | {v.get('trivial', 0)} | "
                     f"{v.get('wrong', 0)} | {v.get('harmful', 0)} | {s.unjudged} | {pct(s.useful_share)} | "
                     f"{pct(s.edits_sendable)} ({s.edits_judged}) | {pct(s.useful_recall)} |")
    if report.unjudged_examples:
        lines += ["", "Suggestions not judged yet (read them before trusting the shares):", ""]
        lines += [f"- {re.sub(r'[|]', '/', e)}" for e in report.unjudged_examples]
    return "\n".join(lines) + "\n"
