"""Obligations a contract manager tracks: does the obligations agent find them, and only them, with the right owner
and the right next due date?

Dataset: evals/judgments/obligations.yaml, 20 CUAD contracts (12 train, 8 dev) whose tracked duties were written by
reading them. Solver: the classifier (parties), the term reader (for the renewal notice) and the obligations agent,
as `app.py import` runs them. Scorer: a found obligation matches a duty when the sentence it cites contains the
duty's words; recall is the share of duties found, precision the share of found obligations that are duties; owner
and due are scored on the matched ones (an event-triggered or undated duty is right when no date was invented).
Reported per split: train and dev (both read while the rules were changed), and held-out rounds (dev contracts judged
before a change and run once after it: the honest first-reading figure of that change).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from pathlib import Path

import yaml
from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, Field

CASES = Path(__file__).parent / "judgments" / "obligations.yaml"
AS_OF = date(2026, 12, 4)


class Duty(BaseModel):
    quote: str
    also: list[str] = Field(default_factory=list, description="other sentences that state the same duty")
    owner: str
    kind: str
    due: str

    def quotes(self) -> list[str]:
        return [" ".join(q.split()) for q in [self.quote, *self.also]]


class ObligationCase(BaseModel):
    contract: str
    split: str
    held_out: int = Field(default=0, description="0: read while the agent was changed; n: judged before the n-th change "
                          "after the first and run once after it")
    as_of: date = AS_OF
    duties: list[Duty]


class FoundRow(BaseModel):
    summary: str
    kind: str
    owner: str
    due: str
    duty: int | None = Field(default=None, description="index of the judged duty it matches")


class CaseResult(BaseModel):
    contract: str
    split: str
    held_out: int = 0
    duties: int
    found: list[FoundRow]
    matched: list[int]
    owner_right: int
    due_right: int
    missed: list[str]


class ObligationsReport(BaseModel):
    by_split: dict[str, dict[str, float]]
    cases: list[CaseResult]


def load_cases(path: Path = CASES) -> list[ObligationCase]:
    return [ObligationCase.model_validate(item) for item in yaml.safe_load(path.read_text(encoding="utf-8"))]


def run_obligations_eval(cases: list[ObligationCase], texts: dict[str, str]) -> ObligationsReport:
    from agents.classifier import ClassifierInput, classify
    from agents.obligations import ObligationsInput, find_obligations
    from agents.renewal_leverage import RenewalInput, analyse_renewal
    from agents.schema import ExtractionResult
    import tempfile

    from document_io.loader import load_document

    results = []
    for case in cases:
        with tempfile.TemporaryDirectory() as folder:  # read as `app.py import` reads a .txt: wrapped lines joined
            path = Path(folder) / "contract.txt"
            path.write_text(texts[case.contract], encoding="utf-8")
            document = load_document(path)
        profile = classify(ClassifierInput(document=document, our_names=[]))
        brief = analyse_renewal(RenewalInput(document=document, extraction=ExtractionResult(clauses=[]), today=case.as_of,
                                             our_side=profile.our_side))
        found = find_obligations(ObligationsInput(document=document, profile=profile, brief=brief, today=case.as_of))
        results.append(_score(case, document.text, found, profile))
    return ObligationsReport(by_split={split: _summary([r for r in results if r.split == split and not r.held_out])
                                       for split in ("train", "dev")}
                             | {f"held out {n}": _summary([r for r in results if r.held_out == n])
                                for n in sorted({r.held_out for r in results} - {0})}
                             | {"all": _summary(results)},
                             cases=results)


def _score(case: ObligationCase, text: str, found, profile) -> CaseResult:
    rows, matching = [], {}
    for obligation in found:
        sentence = " ".join(text[obligation.citation.start:obligation.citation.end].split())
        duty = next((i for i, d in enumerate(case.duties) if any(q in sentence for q in d.quotes())), None)
        owner = obligation.owner_name or obligation.owner_side
        due = obligation.due_date.isoformat() if obligation.due_date else obligation.recurrence
        rows.append(FoundRow(summary=obligation.summary[:140], kind=obligation.kind, owner=owner, due=due, duty=duty))
        if duty is not None:
            matching.setdefault(duty, []).append(obligation)
    matched = sorted(matching)
    # a duty stated in two sentences is right when either reading of it is; the renewal notice is ours by design
    owner_right = sum(any(_same_owner(case.duties[i].owner, o.owner_name or o.owner_side, profile) for o in matching[i])
                      for i in matched if case.duties[i].due != "each term")
    owner_right += sum(1 for i in matched if case.duties[i].due == "each term")
    due_right = sum(any(_due_is_right(case.duties[i], o, case.as_of) for o in matching[i]) for i in matched)
    missed = [d.quote for i, d in enumerate(case.duties) if i not in matched]
    return CaseResult(contract=case.contract, split=case.split, held_out=case.held_out, duties=len(case.duties), found=rows,
                      matched=matched,
                      owner_right=owner_right, due_right=due_right, missed=missed)


def _same_owner(judged: str, named: str, profile) -> bool:
    """The party the agent names is the judged one: the same words (singular or plural, any case), or two names of
    one party (its legal name, role and defined terms)."""
    if judged == "both" or named == "both":
        return judged == named

    def key(name: str) -> str:
        return name.lower().removeprefix("the ").rstrip("s")

    if key(judged) in key(named) or key(named) in key(judged):
        return True
    for party in profile.parties:
        names = {key(n) for n in (party.name, party.role, *party.defined_terms) if n}
        if any(key(judged) in n or n in key(judged) for n in names) and any(key(named) in n or n in key(named) for n in names):
            return True
    return False


def _due_is_right(duty: Duty, obligation, as_of: date) -> bool:
    """The next due date the duty's rule gives as of `as_of`; for an undated duty (once, on an event, or all along), no
    invented date or rhythm. Whether an undated duty is filed as once, on event or continuous is not scored: none of
    them puts a date in front of anyone."""
    due = duty.due
    if due in ("once", "on event", "continuous"):
        # undated: right when no date or rhythm was invented (a service level is continuous and reported monthly)
        return obligation.due_date is None and obligation.recurrence in ("once", "on event", "continuous") or \
            (due == "continuous" and obligation.recurrence == "continuous")
    if due == "each term":
        return obligation.kind == "notice to terminate"
    if due in ("yearly", "monthly", "quarterly"):
        return obligation.recurrence == due
    if due[:4].isdigit():
        stated = date.fromisoformat(due)
        return obligation.due_date == (stated if stated >= as_of else None)
    rhythm, _, offset = due.partition("+")
    return obligation.due_date == _next_after_period(rhythm, int(offset or 0), as_of)


def _next_after_period(rhythm: str, offset: int, as_of: date) -> date:
    """Independent of the agent's arithmetic: the first (period end + offset days) on or after `as_of`."""
    months = 3 if rhythm == "quarterly" else 1
    month = as_of.month - (as_of.month - 1) % months
    start = date(as_of.year, month, 1) - relativedelta(months=2 * months)
    while True:
        end_month = start + relativedelta(months=months - 1)
        end = date(end_month.year, end_month.month, calendar.monthrange(end_month.year, end_month.month)[1])
        if end + timedelta(days=offset) >= as_of:
            return end + timedelta(days=offset)
        start = start + relativedelta(months=months)


def _summary(results: list[CaseResult]) -> dict[str, float]:
    duties = sum(r.duties for r in results)
    found = sum(len(r.found) for r in results)
    right = sum(1 for r in results for f in r.found if f.duty is not None)
    matched = sum(len(r.matched) for r in results)
    return {"contracts": len(results), "duties": duties, "found": found,
            "recall": round(matched / duties, 3) if duties else 0.0,
            "precision": round(right / found, 3) if found else 0.0,
            "owner_right": round(sum(r.owner_right for r in results) / matched, 3) if matched else 0.0,
            "due_right": round(sum(r.due_right for r in results) / matched, 3) if matched else 0.0}


def render_markdown(report: ObligationsReport, machine: str = "") -> str:
    lines = [f"# Obligations a contract manager tracks ({len(report.cases)} CUAD contracts, judged by reading)", "", machine, "",
             "train and dev were read while the agent was being changed (in-sample); held out n: judged before the "
             "n-th change after the first and run once after it (round 1's misses then shaped round 2's change).", "",
             "| split | contracts | duties | found | recall | precision | owner right | next due right |",
             "|---|---|---|---|---|---|---|---|"]
    for split, s in report.by_split.items():
        lines.append(f"| {split} | {s['contracts']:g} | {s['duties']:g} | {s['found']:g} | {s['recall']:.2f} | "
                     f"{s['precision']:.2f} | {s['owner_right']:.2f} | {s['due_right']:.2f} |")
    for case in report.cases:
        lines += ["", f"## {case.contract} ({case.split}): {len(case.matched)} of {case.duties} found, {len(case.found)} filed"]
        lines += [f"- {'✓' if f.duty is not None else '✗'} {f.kind}, {f.owner}, due {f.due}: {f.summary}" for f in case.found]
        lines += [f"- missed: {quote}" for quote in case.missed]
    return "\n".join(lines) + "\n"
