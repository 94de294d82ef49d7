"""How well a review raises the one-sided terms, scored against CUAD's labels of the same kind.

A term counts as raised on a labelled clause when a finding of its kind (the risk term's, or a playbook rule's whose
category has the same CUAD counterpart; compliance keeps only one of the two) cites text that overlaps the label.
- clause recall: labelled clauses (located spans) that a finding of the kind touches / labelled clauses;
- contract recall: contracts with a label where at least one is touched / contracts with a label;
- precision: findings of the kind that touch a label of it / findings of the kind. CUAD's labels are not exhaustive
  (an audit sentence next to a labelled one is often unlabelled), so this is a floor.
"""

from __future__ import annotations

from pydantic import BaseModel

from agents.schema import ComplianceReport, Finding
from clause_library.playbook import ClauseLibrary
from clause_library.risk_terms import RiskTermLibrary, default_risk_terms
from document_io.legal_text import QuoteLocator
from document_io.models import SourceDocument
from evals.cuad_labels import labelled_spans
from evals.datasets import LabelledContract

DIRECTIONS = {"it weighs on us": "us", "it binds both parties": "mutual", "in our favour": "them",
              "check whom it binds": "unclear"}


class RiskTermResult(BaseModel):
    category: str  # CUAD's name
    labelled_clauses: int
    clauses_raised: int
    findings: int
    findings_on_a_label: int


class RiskTermSummary(BaseModel):
    labelled_contracts: int
    contract_recall: float | None
    labelled_clauses: int
    clause_recall: float | None
    findings: int
    precision: float | None


def score_risk_terms(document: SourceDocument, contract: LabelledContract, compliance: ComplianceReport,
                     library: ClauseLibrary, terms: RiskTermLibrary | None = None) -> list[RiskTermResult]:
    terms = terms or default_risk_terms()
    locator = QuoteLocator(document.text)
    results = []
    for term in terms.terms:
        if not term.cuad_category:
            continue
        kind = term.cuad_category.lower()
        playbook = {c.id for c in library.categories.values() if (c.cuad_category or "").lower() == kind}
        findings = [f for f in compliance.findings if f.position != "missing"
                    and (f.rule_id == f"risk.{term.id}" or f.category in playbook)]
        spans = _merged(labelled_spans(document, contract, term.cuad_category, locator))
        results.append(RiskTermResult(
            category=term.cuad_category, labelled_clauses=len(spans),
            clauses_raised=sum(any(_touches(f, span) for f in findings) for span in spans),
            findings=len(findings), findings_on_a_label=sum(any(_touches(f, span) for span in spans) for f in findings)))
    return results


def direction_of(finding: Finding) -> str | None:
    return next((d for suffix, d in DIRECTIONS.items() if finding.title.endswith(suffix)), None)


def summarise_risk_terms(per_contract: list[list[RiskTermResult]]) -> dict[str, RiskTermSummary]:
    rows: dict[str, list[RiskTermResult]] = {}
    for results in per_contract:
        for result in results:
            rows.setdefault(result.category, []).append(result)
    rows["all modelled terms"] = [r for results in per_contract for r in results]
    summary = {}
    for category, results in rows.items():
        labelled = [r for r in results if r.labelled_clauses]
        clauses = sum(r.labelled_clauses for r in results)
        findings = sum(r.findings for r in results)
        summary[category] = RiskTermSummary(
            labelled_contracts=len(labelled),
            contract_recall=_ratio(sum(r.clauses_raised > 0 for r in labelled), len(labelled)),
            labelled_clauses=clauses, clause_recall=_ratio(sum(r.clauses_raised for r in results), clauses),
            findings=findings, precision=_ratio(sum(r.findings_on_a_label for r in results), findings))
    return summary


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _touches(finding: Finding, span: tuple[int, int]) -> bool:
    return finding.citation.start < span[1] and span[0] < finding.citation.end


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
