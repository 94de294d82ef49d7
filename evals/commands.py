"""The `eval` and `train` commands of app.py."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.request
import zipfile
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from evals.datasets import DatasetUnavailable, open_dataset
from evals.report import NotComparable, compare_reports, plot_curves, print_report, write_report
from evals.runner import EvalReport, RunSettings, run_evaluation, run_failed

CUAD_ZENODO_RECORD = "https://zenodo.org/api/records/4595826"


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    TextColumn("{task.fields[current]}"), console=console, transient=True)


def eval_command(args, config) -> int:
    console = Console(stderr=False)
    if getattr(args, "task", "clauses") == "search":
        return _search_eval(args, config, console)
    if getattr(args, "task", "clauses") == "rounds":
        return _rounds_eval(args, console)
    try:
        dataset = open_dataset(args.dataset, args.dataset_path)
    except DatasetUnavailable as missing:
        console.print(f"skipped: {missing}")
        return 0
    split = args.split or ("all" if dataset.name == "samples" else "dev")
    if getattr(args, "task", "clauses") == "review":
        return _review_eval(dataset, split, args, config, console)
    if getattr(args, "task", "clauses") == "judged":
        return _judged_eval(dataset, args, config, console)
    if getattr(args, "task", "clauses") == "obligations":
        return _obligations_eval(dataset, args, console)
    categories = _chosen_categories(dataset.categories, args.categories)
    solver = _solver(args.backend, config)
    settings = RunSettings(dataset=dataset.name, taxonomy=dataset.taxonomy, split=split, backend=solver.name,
                           categories=categories, limit=args.limit)
    run_dir = args.out or Path("evals") / "runs" / f"{dataset.name}-{split}-{solver.name.replace(':', '_')}"
    with _progress(console) as progress:
        task = progress.add_task(f"{solver.name} on {dataset.name}/{split}", total=None, current="")
        report = run_evaluation(
            dataset, solver, settings, run_dir,
            on_progress=lambda done, total, name: progress.update(task, completed=done, total=total, current=name[:40]),
        )
    print_report(report, console)
    paths = write_report(report, run_dir)
    console.print(f"reports: {paths['json']}  {paths['markdown']}  {paths['plot']}")
    if run_failed(report):
        console.print("[red]nothing was evaluated as asked: every contract failed, or the model answered none[/]")
        return 1
    return 0


def _review_eval(dataset, split, args, config, console) -> int:
    """`eval --task review`: is what the review tells a lawyer true? (evals/review_eval.py)"""
    import os
    import platform

    from evals.review_eval import run_review_eval
    from model_backends.local_engine import LocalEngine

    if args.backend != "local":
        console.print("error: the review evaluation runs on the local engine only")
        return 1
    contracts = list(dataset.contracts(split))[: args.limit or None]
    run_dir = args.out or Path("evals") / "runs" / f"review-{dataset.name}-{split}"
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"
    with _progress(console) as progress:
        task = progress.add_task(f"review on {dataset.name}/{split}", total=len(contracts), current="")
        run_review_eval(
            contracts, LocalEngine(config.data_dir), run_dir, dataset=dataset.name, split=split,
            side=config.side or "customer", machine=machine,
            on_progress=lambda done, total, name: progress.update(task, completed=done, current=name[:40]),
        )
    console.print((run_dir / "report.md").read_text(encoding="utf-8"), markup=False, highlight=False)
    console.print(f"reports: {run_dir / 'report.json'}  {run_dir / 'report.md'}")
    return 0


def _judged_eval(dataset, args, config, console) -> int:
    """`eval --task judged`: the review against suggestions a reviewer judged by reading (evals/judged_review.py)."""
    from evals.judged_review import render_markdown, run_judged
    from model_backends.local_engine import LocalEngine

    if dataset.name != "cuad":
        console.print("error: the judged suggestions are on CUAD contracts (--dataset cuad)")
        return 2
    report = run_judged(list(dataset.contracts("train")), LocalEngine(config.data_dir))
    run_dir = args.out or Path("evals") / "reports" / "judged-review"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    (run_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")
    console.print(render_markdown(report), markup=False, highlight=False)
    return 0


def _obligations_eval(dataset, args, console) -> int:
    """`eval --task obligations`: the obligations agent against the duties judged in 20 CUAD contracts."""
    import os
    import platform

    from evals.obligations_eval import load_cases, render_markdown, run_obligations_eval

    if dataset.name != "cuad":
        console.print("error: the judged obligations are on CUAD contracts (--dataset cuad)")
        return 2
    cases = load_cases()
    wanted = {c.contract for c in cases}
    texts = {c.id: c.text for split in ("train", "dev") for c in dataset.contracts(split) if c.id in wanted}
    report = run_obligations_eval(cases, texts)
    run_dir = args.out or Path("evals") / "reports" / "obligations"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    (run_dir / "report.md").write_text(render_markdown(report, f"Machine: {platform.machine()}, {os.cpu_count()} CPUs."),
                                       encoding="utf-8")
    for split, s in report.by_split.items():
        console.print(f"{split}: recall {s['recall']:.2f}, precision {s['precision']:.2f}, owner {s['owner_right']:.2f},"
                      f" next due {s['due_right']:.2f} ({s['duties']:g} duties, {s['found']:g} found)")
    console.print(f"report: {run_dir / 'report.md'}")
    return 0


def _rounds_eval(args, console) -> int:
    """`eval --task rounds`: every scenario of evals/judgments/round_scenarios.yaml, and the round report it got."""
    import tempfile

    from evals.round_scenarios import load_scenarios, render_markdown, run_scenario

    results = []
    for scenario in load_scenarios():
        with tempfile.TemporaryDirectory() as folder:
            results.append(run_scenario(scenario, Path(folder), Path(args.dataset_path) if args.dataset_path else None))
        console.print(f"{scenario.name}: " + ("as expected" if not results[-1].problems else "; ".join(results[-1].problems)))
    run_dir = args.out or Path("evals") / "reports" / "rounds"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "report.md").write_text(render_markdown(results), encoding="utf-8")
    console.print(f"report: {run_dir / 'report.md'}")
    return 0 if all(not r.problems for r in results) else 1


def _search_eval(args, config, console) -> int:
    """`eval --task search`: the repository search on judged legal-ops queries over the demo portfolio
    (evals/search_eval.py). Builds the demo in the data folder first when it has none."""
    import os
    import platform

    from evals.search_eval import load_cases, render_markdown, run_search_eval
    from portfolio.clause_vectors import ClauseVectors
    from portfolio.demo import build_demo
    from portfolio.repository import Repository
    from portfolio.review_sync import repository_store

    if not (config.data_dir / "demo" / "contracts").is_dir():
        console.print(build_demo(config, cuad_contracts=24, workers=2))
    repository = Repository(repository_store(config))
    report = run_search_eval(repository, ClauseVectors(config.data_dir / "portfolio_chroma"), load_cases(), config.today)
    machine = f"Machine: {platform.machine()}, {os.cpu_count()} CPUs."
    run_dir = args.out or Path("evals") / "reports" / "search"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    (run_dir / "report.md").write_text(render_markdown(report, machine), encoding="utf-8")
    for mode, summary in report.by_mode.items():
        console.print(f"{mode}: precision@5 {summary['precision_at_5']:.2f}, recall@5 {summary['recall_at_5']:.2f}"
                      f" on {summary['answered_queries']:g} queries; no answer and nothing shown "
                      f"{summary['nothing_answers_and_nothing_shown']:.2f}")
    console.print(f"report: {run_dir / 'report.md'}")
    return 0


def _chosen_categories(known: list[str], wanted: list[str] | None) -> list[str]:
    if not wanted:
        return known
    by_name = {c.lower(): c for c in known}
    unknown = [w for w in wanted if w.lower() not in by_name]
    if unknown:
        raise ValueError(f"unknown categories {unknown}; this dataset has: {', '.join(known)}")
    return [by_name[w.lower()] for w in wanted]


def _solver(backend: str, config):
    if backend in ("llm", "hybrid"):
        from evals.llm_solver import HybridSolver, LLMSolver

        return (LLMSolver if backend == "llm" else HybridSolver).from_env(config)
    from evals.solvers import LocalSolver
    from model_backends.local_engine import LocalEngine

    return LocalSolver(LocalEngine(config.data_dir), config.our_names)


def compare_command(args) -> int:
    console = Console()
    a = EvalReport.model_validate_json(Path(args.a).read_text(encoding="utf-8"))
    b = EvalReport.model_validate_json(Path(args.b).read_text(encoding="utf-8"))
    for report, path in ((a, args.a), (b, args.b)):
        report.run_name = report.run_name or Path(path).resolve().parent.name
    try:
        table = compare_reports(a, b, console)
    except NotComparable as refused:
        console.print(f"[red]not compared:[/] {refused}")
        return 2
    if args.markdown:
        Path(args.markdown).write_text(table, encoding="utf-8")
    if args.plot:
        plot_curves([a, b], Path(args.plot))
        console.print(f"overlay: {args.plot}")
    return 0


def download_cuad_command(args) -> int:
    """Fetch CUAD_v1.zip from Zenodo and verify it against the checksum Zenodo publishes for it."""
    target = Path(args.to)
    target.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(CUAD_ZENODO_RECORD, timeout=60) as response:
        record = json.load(response)
    entry = next(f for f in record["files"] if f["key"] == "CUAD_v1.zip")
    algorithm, expected = entry["checksum"].split(":", 1)
    archive = target / "CUAD_v1.zip"
    digest = hashlib.new(algorithm)
    with urllib.request.urlopen(entry["links"]["self"], timeout=600) as response, archive.open("wb") as sink:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            sink.write(chunk)
    if digest.hexdigest() != expected:
        archive.unlink()
        raise ValueError(f"CUAD_v1.zip {algorithm} {digest.hexdigest()} does not match Zenodo's {expected}; removed")
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(target)
    sha256 = hashlib.sha256(archive.read_bytes()).hexdigest()
    print(f"CUAD v1 in {target} ({algorithm} verified; sha256 {sha256}); evaluate with --dataset-path {target / 'CUAD_v1'}")
    return 0


def train_command(args, config) -> int:
    from evals.clause_model_training import train_clause_model
    from model_backends.clause_model import WEIGHTS_PATH

    console = Console()
    dataset = open_dataset("cuad", args.dataset_path)
    contracts = list(dataset.contracts("train"))
    if args.limit:
        contracts = contracts[: args.limit]
    started = time.perf_counter()
    on_step = lambda step: console.print(f"[{time.perf_counter() - started:5.0f} s] {step}")  # noqa: E731
    if args.cross_fit:
        return _cross_fit(contracts, dataset, args, console, on_step)
    if args.risk_terms:
        return _train_risk_terms(contracts, dataset, args, console, on_step)
    model = train_clause_model(contracts, dataset.categories, trained_on=f"CUAD train split, {len(contracts)} contracts",
                               on_step=on_step)
    out = Path(args.out) if args.out else WEIGHTS_PATH
    model.save(out)
    console.print(f"wrote {out} ({out.stat().st_size // 1024} kB) in {time.perf_counter() - started:.0f} s")
    return 0


def _train_risk_terms(contracts, dataset, args, console, on_step) -> int:
    from clause_library.risk_terms import default_risk_terms
    from evals.risk_term_training import train_risk_term_model
    from model_backends.risk_term_model import WEIGHTS_PATH

    unknown = [t.cuad_category for t in default_risk_terms().terms if t.cuad_category and t.cuad_category not in dataset.categories]
    if unknown:
        console.print(f"clause_library/risk_terms.yaml names categories CUAD does not have: {', '.join(unknown)}")
        return 2
    model, report = train_risk_term_model(contracts, list(dataset.contracts("dev")), default_risk_terms(), on_step=on_step)
    out = Path(args.out) if args.out else WEIGHTS_PATH
    model.save(out)
    report_path = Path("evals") / "reports" / "risk-terms-training.json"
    report_path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    for held_out, dev in zip(report.train_out_of_fold, report.dev):
        console.print(f"  {held_out.term:32s} threshold {held_out.threshold:.2f}  train (held out) P {held_out.precision:.2f} "
                      f"R {held_out.recall:.2f}  dev P {dev.precision:.2f} R {dev.recall:.2f}")
    console.print(f"wrote {out} ({out.stat().st_size // 1024} kB) and {report_path}")
    return 0


def _cross_fit(contracts, dataset, args, console, on_step) -> int:
    from evals.clause_model_training import PHRASE_CATEGORIES
    from evals.cross_fit import cross_fit

    report = cross_fit(contracts, dataset.categories, dataset=f"{dataset.name} train split", on_step=on_step)
    out = Path(args.out) if args.out else Path("evals") / "reports" / "cuad-train-crossfit.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    console.print(f"held out, {report.contracts} contracts in {report.folds} halves: pooled AUPR {report.pooled_aupr:.3f}"
                  f" (strict {report.pooled_aupr_strict:.3f}), mean of categories {report.mean_category_aupr:.3f}")
    for category in PHRASE_CATEGORIES:  # the short answers; every category is in the report
        if category in report.categories:
            console.print(f"  {category}: {report.categories[category]:.3f} ({report.labels[category]} labels)")
    console.print(f"wrote {out}")
    return 0
