"""Search on realistic legal-ops queries: does `app.py search` put the contracts that answer a query in its top five?

Dataset: evals/judgments/search_queries.yaml, queries over the demo portfolio (`app.py demo`), each with the contracts
that answer it, judged by reading the contracts. Solver: the plain-English query reader and the search, by words
(FTS5 over the filed clauses) and by meaning (clause embeddings in Chroma). Scorer: precision of the top five (the
share of what was shown that answers the query; nothing shown when something answers is 0) and recall of the top
five (the share of the answering contracts shown, out of at most five); a query nothing answers scores whether the
search showed nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

QUERIES = Path(__file__).parent / "judgments" / "search_queries.yaml"
TOP = 5


class SearchCase(BaseModel):
    query: str
    relevant: list[str] = Field(description="demo contract names (file name without extension) that answer it")


class QueryResult(BaseModel):
    query: str
    mode: str  # words | meaning
    shown: list[str]
    relevant: list[str]
    precision: float | None = Field(description="None when nothing answers the query")
    recall: float | None = None
    empty_right: bool | None = Field(default=None, description="for a query nothing answers: was nothing shown")
    read_as: dict = Field(default_factory=dict)


class SearchReport(BaseModel):
    today: date
    queries: int
    by_mode: dict[str, dict[str, float]]  # mode -> precision@5, recall@5, empty right share
    results: list[QueryResult]


def load_cases(path: Path = QUERIES) -> list[SearchCase]:
    return [SearchCase.model_validate(item) for item in yaml.safe_load(path.read_text(encoding="utf-8"))]


def run_search_eval(repository, vectors, cases: list[SearchCase], today: date) -> SearchReport:
    from portfolio.search import find_contracts, parse_query, search_contracts

    results = []
    for case in cases:
        query = parse_query(case.query, today)
        query.limit = TOP
        for mode in ("words", "meaning"):
            # by words: the word search alone (the page falls back to meaning when it finds nothing: that is scored
            # as "meaning")
            hits = search_contracts(repository, query, today) if mode == "words" else \
                find_contracts(repository, vectors, query, today, meaning=True)[0]
            shown = [h.contract.name.rsplit(".", 1)[0] for h in hits[:TOP]]
            results.append(_scored(case, mode, shown, query.read_as()))
    return SearchReport(today=today, queries=len(cases), by_mode={m: _summary([r for r in results if r.mode == m])
                                                                   for m in ("words", "meaning")}, results=results)


def _scored(case: SearchCase, mode: str, shown: list[str], read_as: dict) -> QueryResult:
    relevant = set(case.relevant)
    result = QueryResult(query=case.query, mode=mode, shown=shown, relevant=case.relevant, precision=None,
                         read_as={k: str(v) for k, v in read_as.items()})
    if not relevant:
        result.empty_right = not shown
        return result
    right = sum(1 for name in shown if name in relevant)
    result.precision = right / len(shown) if shown else 0.0
    result.recall = right / min(TOP, len(relevant))
    return result


def _summary(results: list[QueryResult]) -> dict[str, float]:
    scored = [r for r in results if r.precision is not None]
    empty = [r for r in results if r.empty_right is not None]
    return {"precision_at_5": round(sum(r.precision for r in scored) / len(scored), 3) if scored else 0.0,
            "recall_at_5": round(sum(r.recall for r in scored) / len(scored), 3) if scored else 0.0,
            "answered_queries": len(scored),
            "nothing_answers_and_nothing_shown": round(sum(r.empty_right for r in empty) / len(empty), 3) if empty else 1.0}


def render_markdown(report: SearchReport, machine: str = "") -> str:
    lines = [f"# Search on {report.queries} legal-ops queries (demo portfolio, as of {report.today})", "",
             machine, "", "| mode | precision@5 | recall@5 | queries with an answer | no answer, nothing shown |",
             "|---|---|---|---|---|"]
    for mode, s in report.by_mode.items():
        lines.append(f"| {mode} | {s['precision_at_5']:.2f} | {s['recall_at_5']:.2f} | {s['answered_queries']:g} | "
                     f"{s['nothing_answers_and_nothing_shown']:.2f} |")
    lines += ["", "| query | mode | read as | shown (top 5; * answers it) | P@5 |", "|---|---|---|---|---|"]
    for r in report.results:
        shown = ", ".join(f"{n}{'*' if n in r.relevant else ''}" for n in r.shown) or "—"
        score = f"{r.precision:.2f}" if r.precision is not None else ("right: nothing" if r.empty_right else "shown, none answer")
        read = "; ".join(f"{k}={v}" for k, v in r.read_as.items()) or "—"
        lines.append(f"| {r.query} | {r.mode} | {read} | {shown} | {score} |")
    return "\n".join(lines) + "\n"
