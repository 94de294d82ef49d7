"""Review-level evaluation on labelled real contracts (CUAD): is what the review tells a lawyer true?

Each contract is reviewed as a reviewer receives it: CUAD's text rebuilt as a Word document (evals/cuad_docx.py:
paragraphs re-flowed, headings, Word numbering, a signature table) and read by the same loader as any DOCX.
Per contract the local engine runs classifier → extraction → compliance → redlining → renewal (no graph, no human),
and we score against CUAD's own labels and normalised answers (master_clauses.csv):

(a) missing-clause precision: every "no X clause" finding whose category has a CUAD counterpart is checked against
    CUAD's presence label for that counterpart (labelled text present → the finding is false);
(b) facts: governing-law jurisdiction, parties, agreement / effective / expiration dates, renewal term and the
    notice period to stop a renewal, each against the CSV answer: accuracy over contracts that have an answer (an empty
    answer counts as a miss), precision over the answers we gave (a wrong answer is the worse failure), and how many
    answers we gave where CUAD has none; the price escalator and the contract value, which CUAD does not label,
    against the judgments in evals/judgments/cuad_price_facts.yaml (precision over judged contracts, and how many
    answers fell on contracts nobody judged);
(c) contract type from the text alone (gold from CUAD's file name; the classifier never sees the file name);
(d) the share of shown edits that pass the re-check against their own rule, and how many were withheld;
(e) suggestions per contract.

The review runs as the customer (`side`), since CUAD says nothing about who "we" are. Results are cached per contract
in a JSONL file, so a cut-off run resumes.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from pydantic import BaseModel

from evals.datasets import LabelledContract
from evals.risk_term_coverage import RiskTermResult, RiskTermSummary, direction_of, score_risk_terms, summarise_risk_terms
from model_backends.local_engine import LocalEngine

FACTS = ("governing_law", "parties", "agreement_date", "effective_date", "expiration_date", "renewal_term", "notice_period")
_ANSWER_COLUMN = {"governing_law": "Governing Law", "parties": "Parties", "agreement_date": "Agreement Date",
                  "effective_date": "Effective Date", "expiration_date": "Expiration Date", "renewal_term": "Renewal Term",
                  "notice_period": "Notice Period To Terminate Renewal"}


class FactResult(BaseModel):
    gold: str
    predicted: str | None
    correct: bool | None  # None: the gold answer cannot be scored (e.g. "perpetual" for a date)


class MissingFinding(BaseModel):
    category: str
    cuad_category: str | None
    present_in_cuad: bool | None  # None: no CUAD counterpart, cannot be checked


class ContractResult(BaseModel):
    id: str
    split: str = ""
    risk: str = ""
    gold_type: str | None
    predicted_type: str
    missing: list[MissingFinding]
    facts: dict[str, FactResult]
    answered_without_gold: list[str] = []
    price_facts: dict[str, str | float | None] = {}
    suggestions: int
    edits_shown: int
    edits_passing_recheck: int
    edits_withheld: int
    risk_terms: list[RiskTermResult] = []
    risk_directions: dict[str, int] = {}  # risk-term findings by whom they weigh on (us / mutual / them / unclear)
    seconds: float


class ReviewEvalReport(BaseModel):
    dataset: str
    split: str
    side: str
    contracts: int
    missing_findings: int
    missing_checkable: int
    missing_precision: float | None
    missing_false_by_category: dict[str, int]
    fact_accuracy: dict[str, float | None]
    fact_counts: dict[str, int]
    fact_precision: dict[str, float | None] = {}
    fact_answered: dict[str, int] = {}
    answered_without_gold: dict[str, int] = {}
    judged_precision: dict[str, float | None] = {}
    judged_answered: dict[str, int] = {}
    unjudged_answered: dict[str, int] = {}
    type_accuracy: float | None
    type_counts: int
    type_confusions: dict[str, int]
    edits_shown: int
    recheck_pass_rate: float | None
    edits_withheld: int
    suggestions_per_contract: float
    risk_distribution: dict[str, int] = {}
    risk_terms: dict[str, RiskTermSummary] = {}
    risk_directions: dict[str, int] = {}
    seconds_per_contract: float
    machine: str


def review_contract(contract: LabelledContract, engine: LocalEngine, *, side: str = "customer", today: date | None = None) -> ContractResult:
    from agents.redlining import _withheld
    from agents.renewal_leverage import RenewalInput, analyse_renewal
    from agents.risk_terms import is_risk_finding
    started = time.perf_counter()
    document = as_word_document(contract)
    profile, extraction, compliance, redlines = review_document(document, engine, side)
    brief = analyse_renewal(RenewalInput(document=document, extraction=extraction, today=today or date.today(),
                                         our_side=profile.our_side))
    findings = {f.id: f for f in compliance.findings}
    shown = [s for s in redlines.suggestions if s.kind == "edit" and findings[s.finding_id].rule_id]
    passing = sum(_withheld(s, findings[s.finding_id], engine, document, profile) is None for s in shown)

    missing = []
    for finding in compliance.findings:
        if finding.position != "missing" or finding.category not in engine.library.categories:
            continue
        counterpart = engine.library.get(finding.category).cuad_category
        labelled = contract.labels.get(counterpart) if counterpart else None
        missing.append(MissingFinding(category=finding.category, cuad_category=counterpart,
                                      present_in_cuad=None if labelled is None else bool(labelled)))
    predicted = predicted_facts(document, extraction, profile, brief)
    answers = {column.lower(): answer for column, answer in contract.answers.items()}
    facts = {name: _score(name, answers[_ANSWER_COLUMN[name].lower()], predicted[name])
             for name in FACTS if answers.get(_ANSWER_COLUMN[name].lower())}
    without_gold = [name for name in FACTS if predicted[name] is not None and name not in facts]
    from agents.contract_metadata import read_metadata

    price = {"escalator": brief.terms.price_escalator, "value": read_metadata(document, extraction, brief).value}
    from agents.compliance import overall_risk

    return ContractResult(
        id=contract.id, risk=overall_risk(profile, compliance), gold_type=contract.contract_type, predicted_type=profile.contract_type, missing=missing,
        facts=facts, answered_without_gold=without_gold, price_facts=price, suggestions=len(redlines.suggestions), edits_shown=len(shown), edits_passing_recheck=passing,
        edits_withheld=len(redlines.dropped_edits),
        risk_terms=score_risk_terms(document, contract, compliance, engine.library),
        risk_directions=dict(Counter(direction_of(f) or "unread" for f in compliance.findings if is_risk_finding(f))),
        seconds=round(time.perf_counter() - started, 3),
    )


def review_document(document, engine: LocalEngine, side: str, extraction=None):
    """The local review up to the suggestions, with `side` given and no names (CUAD says nothing about who "we" are):
    (profile, extraction, compliance, redlines). `extraction`: the document's clauses when already extracted (they do
    not depend on the side)."""
    from agents.classifier import ClassifierInput, classify
    from agents.clause_extraction import ExtractionInput, extract_clauses
    from agents.compliance import ComplianceInput, check_compliance
    from agents.redlining import RedliningInput, propose_redlines

    profile = classify(ClassifierInput(document=document, our_names=[], side=side))
    extraction = extraction or extract_clauses(ExtractionInput(document=document), engine)
    compliance = check_compliance(ComplianceInput(document=document, profile=profile, extraction=extraction), engine.library)
    redlines = propose_redlines(RedliningInput(document=document, compliance=compliance, profile=profile), engine)
    return profile, extraction, compliance, redlines


def as_word_document(contract: LabelledContract):
    """The contract as the pipeline reads it from a DOCX: CUAD's plain text wraps lines with runs of spaces, which
    would otherwise cut sentences ("shall continue in          full force") into separate paragraphs."""
    import tempfile

    from document_io.loader import load_document
    from evals.cuad_docx import cuad_text_to_docx

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', contract.id)[:120]}.docx"
        path.write_bytes(cuad_text_to_docx(contract.text))
        document = load_document(path, require_english=False)
    return document.model_copy(update={"name": contract.id})


def predicted_facts(document, extraction, profile, brief) -> dict[str, str | None]:
    from document_io.legal_text import find_jurisdiction

    jurisdiction = None
    sentences = [s for s in re.split(r"(?<=[.;])\s+", document.text) if re.search(r"govern|constru|laws? of", s, re.IGNORECASE)]
    texts = [c.span.quote for c in extraction.of_category("governing_law")] + sentences
    # whatever says "governed by" / "construed in accordance with" first, from the extracted clauses or not
    texts.sort(key=lambda s: 0 if re.search(r"governed\s+by|construed|governing\s+law|applicable\s+law", s, re.IGNORECASE) else 1)
    for text in texts:
        if (found := find_jurisdiction(text)) is not None:
            jurisdiction = found.normalised
            break
    terms = brief.terms
    made = terms.agreement_date or terms.agreement_date_partial or terms.effective_date or terms.effective_date_partial
    return {
        "governing_law": jurisdiction,
        "parties": "; ".join(p.name for p in profile.parties) or None,
        "agreement_date": _iso(made),
        "effective_date": _iso(terms.effective_date or terms.effective_date_partial),
        "expiration_date": _iso(terms.expiration_date or terms.expiration_partial),
        "renewal_term": f"{terms.renewal_term_months:g} months" if terms.renewal_term_months else None,
        "notice_period": f"{terms.notice_days} days" if terms.notice_days is not None else None,
    }


def _iso(value) -> str | None:
    """A date as ISO text; a partial one as far as it is known ("2004", "2017-02")."""
    return None if value is None else value.iso() if hasattr(value, "iso") else value.isoformat()


# --- scoring each fact against CUAD's normalised answer -------------------------------------------------


def _score(name: str, gold: str, predicted: str | None) -> FactResult:
    scorer = {"governing_law": _same_place, "parties": _same_parties, "agreement_date": _same_date,
              "effective_date": _same_date, "expiration_date": _same_end_date, "renewal_term": _same_duration,
              "notice_period": _same_duration}[name]
    correct = scorer(gold, predicted)
    return FactResult(gold=gold, predicted=predicted, correct=correct)


def _same_place(gold: str, predicted: str | None) -> bool:
    if predicted is None:
        return False
    options = [re.sub(r"^(the )?(state|commonwealth|province|republic|kingdom) of ", "", g.strip().lower()) for g in re.split(r"[;/]| and (?=[A-Z])", gold)]
    predicted = predicted.lower()
    return any(o and (o == predicted or o in predicted or predicted in o) for o in options)


# what CUAD's answers add after a name that is not the legal person: "Jaguar Investments, Inc. and its affiliates",
# "IMPCO Technologies Inc. including its successors and permitted assigns", "Dassault Systemes and/or certain affiliates"
_NOT_THE_PERSON = re.compile(r"\(.*?\)|\".*?\"|“.*?”|\b(?:and|including)\s+(?:all\s+of\s+)?its\s+(?:respective\s+)?"
                             r"(?:affiliates|subsidiaries|successors)\b.*|\band/or\s+certain\s+affiliates\b.*|\bon\s+behalf\s+of\b.*",
                             re.IGNORECASE)
_NAME_FILLER = {"inc", "llc", "ltd", "the", "corp", "corporation", "co", "limited", "company", "and", "of"}


def _same_word(word: str, ours: set[str]) -> bool:
    """CUAD's answers carry typos ("Pifzer", "Kriomic"): a long word with a letter swapped or mistyped counts."""
    import difflib

    return word in ours or (len(word) >= 5 and any(len(o) == len(word) and difflib.SequenceMatcher(a=word, b=o).ratio() >= 0.8
                                                     for o in ours))


def _same_parties(gold: str, predicted: str | None) -> bool:
    """Both contracting parties found: each of the first two gold names shares most of its words with a predicted one
    (words compared allowing one typo; "Radial Spark" = "RadialSpark")."""
    if not predicted:
        return False
    names = [_NOT_THE_PERSON.sub("", g).strip(" ,.") for g in gold.split(";")][:2]
    names = [re.split(r"\s*,?\s*\b(?:d/b/a|dba|doing business as|f/k/a)\b", n, flags=re.IGNORECASE)[0] for n in names]
    ours = []
    for p in predicted.split(";"):
        words = set(re.findall(r"[a-z0-9]+", p.lower()))
        ours.append(words | {"".join(re.findall(r"[a-z0-9]+", p.lower()))})
    found = 0
    for name in names:
        words = set(re.findall(r"[a-z0-9]+", name.lower())) - _NAME_FILLER
        joined = "".join(re.findall(r"[a-z0-9]+", name.lower()))
        if words and any(joined in mine or sum(_same_word(w, mine) for w in words) / len(words) >= 0.5 for mine in ours):
            found += 1
    return found == len([n for n in names if n])


def _same_date(gold: str, predicted: str | None) -> bool | None:
    """CUAD's date against ours. Ours may be partial ("2004", "2017-02") where the filed copy leaves the day blank:
    right only against an answer that is blank there too."""
    match = re.fullmatch(r"\s*(\[\]|\d{1,2})/(\[\]|\d{1,2})/(\d{4})\s*", gold)
    if not match:
        return None  # "perpetual", "until terminated", several dates: not a date to compare
    if predicted is None:
        return False
    parts = [int(x) for x in predicted.split("-")]
    year, month, day = parts + [None] * (3 - len(parts))
    gold_year = int(match.group(3))
    if match.group(1) == "[]" or match.group(2) == "[]":
        gold_month = int(match.group(1)) if match.group(1) != "[]" and match.group(2) == "[]" else None
        return gold_year == year and (gold_month is None or month is None or gold_month == month)
    if day is None:
        return False  # a partial answer to a full date
    first, second = int(match.group(1)), int(match.group(2))
    if first > 12:  # CUAD writes a few dates day first: 31/01/2025
        first, second = second, first
    # and a few with the century mistyped: "12/31/1934" for a term that ends on 31 December 2034
    return (first, second) == (month, day) and (gold_year == year or abs(gold_year - year) == 100)


def _same_end_date(gold: str, predicted: str | None) -> bool | None:
    """An end date: CUAD writes the anniversary (3/27/2029) or the day before it (1/31/2024) for the same term."""
    exact = _same_date(gold, predicted)
    if exact is not False or predicted is None or predicted.count("-") < 2:
        return exact
    day_after = (date.fromisoformat(predicted) + timedelta(days=1)).isoformat()
    return _same_date(gold, day_after)


def _same_duration(gold: str, predicted: str | None) -> bool | None:
    from document_io.quantities import find_durations

    options = [d.in_unit("days") for part in gold.split(";") for d in find_durations(part)]
    if not options:
        return None  # "perpetual", "same as the initial term": no number to compare
    if predicted is None:
        return False
    (mine,) = find_durations(predicted) or [None]
    return mine is not None and any(abs(mine.in_unit("days") - o) <= max(2, 0.05 * o) for o in options)


# --- the run ----------------------------------------------------------------------------------------------


def run_review_eval(contracts: list[LabelledContract], engine: LocalEngine, out_dir: Path, *, dataset: str, split: str,
                    side: str = "customer", machine: str = "", on_progress=None) -> ReviewEvalReport:
    out_dir.mkdir(parents=True, exist_ok=True)
    cache = out_dir / "contracts.jsonl"
    done: dict[str, ContractResult] = {}
    if cache.exists():
        for line in cache.read_text(encoding="utf-8").splitlines():
            try:
                result = ContractResult.model_validate_json(line)
            except ValueError:
                continue  # a line cut off by a kill: redone below
            done[result.id] = result
    with cache.open("a", encoding="utf-8") as handle:
        for number, contract in enumerate(contracts, start=1):
            if contract.id not in done:
                done[contract.id] = review_contract(contract, engine, side=side)
                handle.write(done[contract.id].model_dump_json() + "\n")
                handle.flush()
            if on_progress:
                on_progress(number, len(contracts), contract.id)
    results = [done[c.id] for c in contracts]
    report = summarise(results, dataset=dataset, split=split, side=side, machine=machine)
    (out_dir / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    (out_dir / "report.md").write_text(render_markdown(report, results), encoding="utf-8")
    return report


def summarise(results: list[ContractResult], *, dataset: str, split: str, side: str, machine: str) -> ReviewEvalReport:
    checkable = [m for r in results for m in r.missing if m.present_in_cuad is not None]
    false_missing = Counter(m.category for m in checkable if m.present_in_cuad)
    accuracy, counts, precision, answered = {}, {}, {}, {}
    for name in FACTS:
        scored = [r.facts[name] for r in results if name in r.facts and r.facts[name].correct is not None]
        counts[name] = len(scored)
        accuracy[name] = round(sum(f.correct for f in scored) / len(scored), 4) if scored else None
        given = [f.correct for f in scored if f.predicted is not None]
        answered[name] = len(given)
        precision[name] = round(sum(given) / len(given), 4) if given else None
    judged_precision, judged_answered, unjudged = _judged_precision(results)
    typed = [r for r in results if r.gold_type and r.gold_type != "other"]
    shown = sum(r.edits_shown for r in results)
    return ReviewEvalReport(
        dataset=dataset, split=split, side=side, contracts=len(results),
        missing_findings=sum(len(r.missing) for r in results), missing_checkable=len(checkable),
        missing_precision=round(1 - sum(false_missing.values()) / len(checkable), 4) if checkable else None,
        missing_false_by_category=dict(false_missing), fact_accuracy=accuracy, fact_counts=counts,
        fact_precision=precision, fact_answered=answered,
        answered_without_gold={name: sum(name in r.answered_without_gold for r in results) for name in FACTS},
        judged_precision=judged_precision, judged_answered=judged_answered, unjudged_answered=unjudged,
        type_accuracy=round(sum(r.predicted_type == r.gold_type for r in typed) / len(typed), 4) if typed else None,
        type_counts=len(typed),
        type_confusions=dict(Counter(f"{r.gold_type}→{r.predicted_type}" for r in typed if r.predicted_type != r.gold_type)),
        edits_shown=shown, recheck_pass_rate=round(sum(r.edits_passing_recheck for r in results) / shown, 4) if shown else None,
        edits_withheld=sum(r.edits_withheld for r in results),
        suggestions_per_contract=round(sum(r.suggestions for r in results) / max(len(results), 1), 2),
        risk_distribution={level: sum(r.risk == level for r in results) for level in ("critical", "high", "medium", "low")},
        risk_terms=summarise_risk_terms([r.risk_terms for r in results]),
        risk_directions=dict(sum((Counter(r.risk_directions) for r in results), Counter())),
        seconds_per_contract=round(sum(r.seconds for r in results) / max(len(results), 1), 2), machine=machine,
    )


JUDGMENTS = Path(__file__).parent / "judgments" / "cuad_price_facts.yaml"


def _judged_precision(results: list[ContractResult]) -> tuple[dict[str, float | None], dict[str, int], dict[str, int]]:
    """Escalator and value answers against the reading in evals/judgments: right / answered on judged contracts, and
    the answers on contracts nobody judged (to be read before the precision can be trusted)."""
    import yaml

    judged = {j["id"]: j for j in yaml.safe_load(JUDGMENTS.read_text(encoding="utf-8"))}
    precision, answered, unjudged = {}, {}, {}
    for fact in ("escalator", "value"):
        right = given = outside = 0
        for result in results:
            ours = result.price_facts.get(fact)
            if ours is None:
                continue
            judgment = next((j for key, j in judged.items() if result.id.startswith(key) and fact in j), None)
            if judgment is None:
                outside += 1
                continue
            given += 1
            right += ours == judgment[fact]
        precision[fact] = round(right / given, 4) if given else None
        answered[fact], unjudged[fact] = given, outside
    return precision, answered, unjudged


def render_markdown(report: ReviewEvalReport, results: list[ContractResult]) -> str:
    pct = lambda v: "n/a" if v is None else f"{v:.1%}"  # noqa: E731
    lines = [
        f"# Review-level evaluation — {report.dataset} {report.split} ({report.contracts} contracts, reviewed as {report.side})",
        "", f"Machine: {report.machine}. {report.seconds_per_contract} s per contract.",
    ]
    lines += ["", "| fact | accuracy | n | precision of answers | answered | answered where CUAD has none |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {name.replace('_', ' ')} | {pct(report.fact_accuracy[name])} | {report.fact_counts[name]} | "
              f"{pct(report.fact_precision.get(name))} | {report.fact_answered.get(name, '')} | "
              f"{report.answered_without_gold.get(name, '')} |" for name in FACTS]
    lines += [f"| {fact} (judged by reading) | | | {pct(report.judged_precision.get(fact))} | "
              f"{report.judged_answered.get(fact, 0)} | {report.unjudged_answered.get(fact, 0)} not judged |"
              for fact in ("escalator", "value")]
    lines += [
        "", "| measure | value | n |", "|---|---|---|",
        f"| missing-clause precision (vs CUAD presence) | {pct(report.missing_precision)} | {report.missing_checkable} checkable of {report.missing_findings} |",
        f"| contract type accuracy (text only) | {pct(report.type_accuracy)} | {report.type_counts} |",
        f"| shown edits passing the re-check | {pct(report.recheck_pass_rate)} | {report.edits_shown} |",
        f"| edits withheld by the re-check | {report.edits_withheld} | |",
        f"| suggestions per contract | {report.suggestions_per_contract} | |",
        "| overall risk (critical / high / medium / low) | " + " / ".join(str(v) for v in report.risk_distribution.values()) + " | |", "",
    ]
    if report.risk_terms:
        lines += ["## One-sided terms raised, against CUAD's labels", "",
                  "Raised: a finding of the term's kind (risk term or playbook rule) cites text overlapping the label. "
                  "CUAD does not label every instance, so precision is a floor.", "",
                  "| term (CUAD category) | contracts labelled | contract recall | clauses labelled | clause recall | findings | precision |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {name} | {t.labelled_contracts} | {pct(t.contract_recall)} | {t.labelled_clauses} | {pct(t.clause_recall)} | "
                  f"{t.findings} | {pct(t.precision)} |" for name, t in report.risk_terms.items()]
        lines += ["", "Risk-term findings by whom they weigh on: " +
                  ", ".join(f"{k} {v}" for k, v in sorted(report.risk_directions.items(), key=lambda kv: str(kv[0]))), ""]
    if report.missing_false_by_category:
        lines += ["False 'missing' findings by category: " + ", ".join(f"{k} {v}" for k, v in sorted(report.missing_false_by_category.items())), ""]
    if report.type_confusions:
        lines += ["Type confusions (gold→predicted): " + ", ".join(f"{k} ×{v}" for k, v in sorted(report.type_confusions.items(), key=lambda kv: -kv[1])), ""]
    wrong = [(r.id, name, f.gold, f.predicted) for r in results for name, f in r.facts.items() if f.correct is False]
    if wrong:
        lines += ["## Facts answered wrongly (first 40)", "", "| contract | fact | CUAD | ours |", "|---|---|---|---|"]
        lines += [f"| {i[:45]} | {n} | {g[:40]} | {(p or '—')[:40]} |" for i, n, g, p in wrong[:40]]
    return "\n".join(lines) + "\n"
