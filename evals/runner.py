"""Run a solver over a dataset, resumably, and score the run.

Each finished contract is appended (one JSON line, flushed) to predictions.jsonl in the run folder; a rerun
with the same settings skips contracts already there, so an interrupted evaluation never redoes work.
Scoring reads that file back, so a report can always be rebuilt from it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel

from document_io.models import document_from_text
from evals.datasets import Dataset, LabelledContract, Split
import numpy as np

from evals.metrics import CurveSummary, PresenceCounts, Prediction, matches, pr_curve, score_question, summarise
from evals.solvers import Solver, SolverOutput

CUAD_PAPER_BEST_AUPR = 0.478  # DeBERTa-xlarge, Hendrycks et al. 2021, CUAD test split


class RunSettings(BaseModel):
    dataset: str
    taxonomy: str
    split: Split
    backend: str
    categories: list[str]
    limit: int | None = None


class ContractResult(BaseModel):
    contract_id: str
    gold_type: str | None
    output: SolverOutput
    error: str | None = None  # the solver failed on this contract (one line); it is left out of the scores


class CategoryMetrics(BaseModel):
    category: str
    curve: CurveSummary
    presence_f1: float
    contracts_labelled: int


class EvalReport(BaseModel):
    settings: RunSettings
    created_at: datetime
    contracts: int
    overall: CurveSummary
    macro_aupr: float
    presence_f1: float
    contract_type_accuracy: float | None
    contract_type_scored: int
    grounding_rate: float | None
    seconds_per_contract: float
    tokens_per_contract: float
    categories: list[CategoryMetrics]
    reference: dict[str, float]
    curve_points: list[tuple[float, float]]  # (recall, interpolated precision): the curve the AUPR integrates
    strict: CurveSummary | None = None  # the same predictions without CUAD's containment rule for Parties
    dataset_path: str = ""
    skipped: list[str] = []  # what the dataset labels but could not serve, with the reason
    failed: list[str] = []  # contracts the solver failed on, with its one-line reason (a rerun tries them again)
    failed_tokens: int = 0  # what the failed contracts' attempts cost, in tokens (not in tokens_per_contract)
    model_asked: int = 0  # hybrid: contracts the model was asked about
    model_failed: list[str] = []  # hybrid: those it gave no usable answer for, with why (scored on the local engine alone)
    run_name: str = ""  # the run folder's name: the plot's and the comparison's label
    model_version: str = ""  # what produced the predictions (weights version and training data, or model and prompts)
    cost_per_contract_usd: float | None = None
    category_curves: dict[str, list[tuple[float, float]]] = {}  # the ten largest categories' interpolated curves


class RunMismatch(RuntimeError):
    """The run folder holds a run with other settings."""


def run_failed(report: EvalReport) -> bool:
    """Nothing was evaluated as asked: every contract failed, or (hybrid) the model answered none of them."""
    return (report.contracts == 0 and bool(report.failed)) or (
        report.model_asked > 0 and len(report.model_failed) == report.model_asked)


def run_evaluation(
    dataset: Dataset, solver: Solver, settings: RunSettings, run_dir: Path,
    on_progress: Callable[[int, int, str], None] = lambda done, total, name: None,
) -> EvalReport:
    run_dir.mkdir(parents=True, exist_ok=True)
    _check_settings(run_dir, settings)
    contracts = _selected(dataset, settings)
    results_path = run_dir / "predictions.jsonl"
    done = _read_results(results_path)
    with results_path.open("a", encoding="utf-8") as sink:
        if results_path.stat().st_size and not results_path.read_bytes().endswith(b"\n"):
            sink.write("\n")  # the previous run was cut off mid-line: start clean after it
        for index, contract in enumerate(contracts):
            earlier = done.get(contract.id)
            # a rerun tries again what failed, and (hybrid) a contract the model did not answer
            if earlier is None or earlier.error or earlier.output.model_answered is False:
                result = _solve(solver, settings, contract)
                sink.write(result.model_dump_json() + "\n")
                sink.flush()
                done[contract.id] = result
            on_progress(index + 1, len(contracts), contract.id)
    chosen = {c.id for c in contracts}
    failed_results = [r for r in done.values() if r.error and r.contract_id in chosen]
    failed = [f"{r.contract_id}: {r.error}" for r in failed_results]
    asked = [r for r in done.values() if r.contract_id in chosen and not r.error and r.output.model_answered is not None]
    model_failed = [f"{r.contract_id}: {r.output.model_error}" for r in asked if r.output.model_answered is False]
    report = score_run(contracts, {k: r for k, r in done.items() if not r.error}, settings,
                       solver.operating_thresholds(settings.taxonomy))  # type: ignore[arg-type]
    skipped = dataset.skipped() if hasattr(dataset, "skipped") else []
    return report.model_copy(update={"dataset_path": str(getattr(dataset, "root", getattr(dataset, "folder", ""))),
                                     "skipped": skipped, "failed": failed, "run_name": run_dir.name,
                                     "model_asked": len(asked), "model_failed": model_failed,
                                     "failed_tokens": sum(r.output.prompt_tokens + r.output.completion_tokens for r in failed_results),
                                     "model_version": getattr(solver, "version", "")})


def _solve(solver: Solver, settings: RunSettings, contract: LabelledContract) -> ContractResult:
    """One contract; a failure is recorded with its reason (one line) and the run goes on."""
    document = document_from_text(name=contract.id, text=contract.text)
    try:
        output = solver.solve(document, settings.taxonomy, settings.categories)  # type: ignore[arg-type]
    except Exception as error:  # noqa: BLE001 - any solver failure is this contract's, not the run's
        reason = " ".join(str(error).split())[:300] or type(error).__name__
        spent = getattr(error, "partial_output", None) or SolverOutput(predictions=[])  # what the failed attempts cost
        return ContractResult(contract_id=contract.id, gold_type=contract.contract_type, output=spent, error=reason)
    return ContractResult(contract_id=contract.id, gold_type=contract.contract_type, output=output)


def _selected(dataset: Dataset, settings: RunSettings) -> list[LabelledContract]:
    contracts = []
    for contract in dataset.contracts(settings.split):
        contracts.append(contract)
        if settings.limit and len(contracts) >= settings.limit:
            break
    return contracts


def _check_settings(run_dir: Path, settings: RunSettings) -> None:
    path = run_dir / "run.json"
    if path.is_file():
        previous = RunSettings.model_validate_json(path.read_text(encoding="utf-8"))
        comparable = settings.model_copy(update={"limit": previous.limit})
        if previous != comparable:
            raise RunMismatch(f"{run_dir} holds a run with other settings ({previous.backend}, {previous.dataset}/{previous.split}); use another --out")
    path.write_text(settings.model_dump_json(indent=2), encoding="utf-8")


def _read_results(path: Path) -> dict[str, ContractResult]:
    results: dict[str, ContractResult] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                result = ContractResult.model_validate_json(line)
            except ValueError:
                continue  # a line cut short by an interruption: that contract is simply redone
            results[result.contract_id] = result
    return results


def score_run(contracts: list[LabelledContract], results: dict[str, ContractResult], settings: RunSettings,
              thresholds: dict[str, float]) -> EvalReport:
    outcomes_by_category: dict[str, list] = {c: [] for c in settings.categories}
    strict_outcomes: list = []
    presence = {c: PresenceCounts() for c in settings.categories}
    type_right = type_scored = returned = verified = 0
    seconds = tokens = 0.0
    cost: float | None = 0.0
    scored = [c for c in contracts if c.id in results]
    for contract in scored:
        output = results[contract.id].output
        by_category: dict[str, list[Prediction]] = {}
        for prediction in output.predictions:
            by_category.setdefault(prediction.category, []).append(prediction)
        for category in settings.categories:
            predictions = by_category.get(category, [])
            gold = contract.labels.get(category, [])
            outcomes_by_category[category].append(score_question(category, predictions, gold))
            strict_outcomes.append(score_question(category, predictions, gold, strict=True))
            cut = thresholds.get(category, 0.5)
            confident = [p for p in predictions if p.score >= cut]
            located = any(matches(category, p.text, g) for p in confident for g in gold)
            presence[category].add(bool(confident), bool(gold), located)
        if contract.contract_type and contract.contract_type != "other" and output.contract_type:
            type_scored += 1
            type_right += output.contract_type == contract.contract_type
        returned += output.quotes_returned
        verified += output.quotes_verified
        seconds += output.seconds
        cost = None if cost is None or output.cost_usd is None else cost + output.cost_usd
        tokens += output.prompt_tokens + output.completion_tokens
    all_outcomes = [o for outcomes in outcomes_by_category.values() for o in outcomes]
    per_category = []
    for category in settings.categories:
        curve = summarise(outcomes_by_category[category], thresholds.get(category, 0.5))
        labelled = sum(1 for c in scored if c.labels.get(category))
        per_category.append(CategoryMetrics(category=category, curve=curve, presence_f1=presence[category].f1, contracts_labelled=labelled))
    total_presence = PresenceCounts()
    for counts in presence.values():
        total_presence.true_positive += counts.true_positive
        total_presence.false_positive += counts.false_positive
        total_presence.false_negative += counts.false_negative
    with_labels = [m for m in per_category if m.curve.labelled]
    count = max(len(scored), 1)
    largest = sorted(per_category, key=lambda m: -m.curve.labelled)[:10]
    return EvalReport(
        settings=settings, created_at=datetime.now(timezone.utc), contracts=len(scored),
        overall=summarise(all_outcomes, thresholds or 0.5),
        macro_aupr=round(sum(m.curve.aupr for m in with_labels) / max(len(with_labels), 1), 4),
        presence_f1=total_presence.f1,
        contract_type_accuracy=round(type_right / type_scored, 4) if type_scored else None,
        contract_type_scored=type_scored,
        grounding_rate=round(verified / returned, 4) if returned else None,
        seconds_per_contract=round(seconds / count, 3), tokens_per_contract=round(tokens / count, 1),
        categories=per_category,
        reference={"CUAD paper, DeBERTa-xlarge, AUPR": CUAD_PAPER_BEST_AUPR} if settings.taxonomy == "cuad" else {},
        curve_points=interpolated_curve(all_outcomes),
        category_curves={m.category: interpolated_curve(outcomes_by_category[m.category]) for m in largest if m.curve.labelled},
        cost_per_contract_usd=round(cost / count, 6) if cost is not None and scored else None,
        strict=summarise(strict_outcomes),
    )


def interpolated_curve(outcomes: list) -> list[tuple[float, float]]:
    """(recall, precision) with precision made non-increasing in recall: the curve whose area is the AUPR."""
    _, precision, recall = pr_curve(outcomes)
    if len(precision) == 0:
        return []
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    return _thin(list(zip(recall.tolist(), envelope.tolist())))


def _thin(points: list[tuple[float, float]], keep: int = 400) -> list[tuple[float, float]]:
    if len(points) <= keep:
        return [(round(r, 4), round(p, 4)) for r, p in points]
    step = len(points) / keep
    return [(round(points[int(i * step)][0], 4), round(points[int(i * step)][1], 4)) for i in range(keep)] + [points[-1]]
