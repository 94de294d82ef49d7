"""An evaluation report as a terminal table, JSON, Markdown with a precision-recall plot, and a comparison."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evals.runner import EvalReport


def write_report(report: EvalReport, run_dir: Path) -> dict[str, Path]:
    paths = {"json": run_dir / "report.json", "markdown": run_dir / "report.md", "plot": run_dir / "pr_curve.png",
             "categories": run_dir / "pr_by_category.png"}
    paths["json"].write_text(report.model_dump_json(indent=2), encoding="utf-8")
    plot_curves([report], paths["plot"])
    if report.category_curves:
        plot_category_curves(report, paths["categories"])
    else:
        paths.pop("categories")
    paths["markdown"].write_text(render_markdown(report, paths["plot"].name, paths.get("categories", Path()).name or None),
                                 encoding="utf-8")
    return paths


def run_label(report: EvalReport) -> str:
    return report.run_name or report.settings.backend


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    return pyplot


def plot_curves(reports: list[EvalReport], path: Path) -> None:
    """The interpolated precision-recall curve (the one the AUPR integrates) of each run, labelled by run."""
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(figsize=(6, 4.5), dpi=110)
    for report in reports:
        if report.curve_points:
            recall, precision = zip(*report.curve_points)
            axes.step(recall, precision, where="post",
                      label=f"{run_label(report)}: {report.settings.backend}, AUPR {report.overall.aupr:.3f}")
    axes.set(xlabel="recall", ylabel="precision (interpolated)", xlim=(0, 1), ylim=(0, 1.02),
             title=f"{reports[0].settings.dataset} / {reports[0].settings.split}: precision-recall, Jaccard >= 0.5")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def plot_category_curves(report: EvalReport, path: Path) -> None:
    """Small multiples: the ten categories with the most labels, each with its AUPR."""
    pyplot = _pyplot()
    names = list(report.category_curves)
    columns = 5
    rows = (len(names) + columns - 1) // columns
    figure, grid = pyplot.subplots(rows, columns, figsize=(13, 2.8 * rows), dpi=100, squeeze=False)
    aupr = {m.category: m.curve for m in report.categories}
    for axes, name in zip(grid.flat, names):
        points = report.category_curves[name]
        if points:
            recall, precision = zip(*points)
            axes.step(recall, precision, where="post")
        curve = aupr[name]
        axes.set_title(f"{name[:28]}\nAUPR {curve.aupr:.3f}, {curve.labelled} labels", fontsize=9)
        axes.set(xlim=(0, 1), ylim=(0, 1.02))
        axes.grid(alpha=0.3)
        axes.tick_params(labelsize=7)
    for axes in list(grid.flat)[len(names):]:
        axes.axis("off")
    figure.suptitle(f"{run_label(report)}: interpolated precision-recall by category (recall across, precision up)", fontsize=10)
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _usd(value: float | None) -> str:
    return "unknown (no price for the model)" if value is None else f"${value:.4f}"


def _at_recall(value: float | None, curve) -> str:
    return f"not reached (highest recall {100 * curve.max_recall:.1f}%)" if value is None else f"{100 * value:.1f}%"


def render_markdown(report: EvalReport, plot_name: str | None = None, categories_plot: str | None = None) -> str:
    s = report.settings
    lines = [
        f"# Evaluation: {s.backend} on {s.dataset} ({s.split} split)",
        "",
        f"{report.contracts} contracts, {len(s.categories)} categories, {report.created_at:%Y-%m-%d %H:%M} UTC.",
        "A prediction matches a labelled clause at word-set Jaccard >= 0.5 (CUAD's rule).",
        "",
        "| measure | value |",
        "|---|---|",
        f"| AUPR (pooled over categories, CUAD's rule) | {report.overall.aupr:.3f} |",
        *([f"| AUPR strict (no containment rule for Parties) | {report.strict.aupr:.3f} |"] if report.strict else []),
        f"| AUPR (mean of categories) | {report.macro_aupr:.3f} |",
        f"| highest recall reached | {_percent(report.overall.max_recall)} |",
        f"| precision at 80% recall | {_at_recall(report.overall.precision_at_80_recall, report.overall)} |",
        f"| precision at 90% recall | {_at_recall(report.overall.precision_at_90_recall, report.overall)} |",
        f"| precision / recall / F1 at the operating thresholds | {_percent(report.overall.precision)} / {_percent(report.overall.recall)} / {report.overall.f1:.3f} |",
        f"| clause presence F1 (a confident prediction must also match a label) | {report.presence_f1:.3f} |",
        f"| contract type accuracy | {_percent(report.contract_type_accuracy)} (of {report.contract_type_scored}) |",
        f"| grounding rate (quotes verified in the text) | {_percent(report.grounding_rate)} |",
        f"| seconds per contract | {report.seconds_per_contract:.2f} |",
        f"| tokens per contract | {report.tokens_per_contract:.0f} |",
        f"| cost per contract | {_usd(report.cost_per_contract_usd)} |",
    ]
    for name, value in report.reference.items():
        lines.append(f"| reference: {name} | {value:.3f} (CUAD's own 102-contract test split, not this one) |")
    if report.dataset_path:
        lines += ["", f"Dataset: `{report.dataset_path}`, split {s.split}, {report.contracts} contracts."]
    if report.model_version:
        lines += ["", f"Model: {report.model_version}."]
    if report.model_asked:
        lines += ["", f"The model answered {report.model_asked - len(report.model_failed)} of {report.model_asked} "
                  "contracts" + (" (the rest are scored on the local engine alone; a rerun asks again):" if report.model_failed else "."),
                  *[f"- {x}" for x in report.model_failed]]
    if report.failed:
        lines += ["", f"Failed ({len(report.failed)}, left out of the scores; a rerun tries them again; "
                  f"their attempts used {report.failed_tokens} tokens):",
                  *[f"- {x}" for x in report.failed]]
    if report.skipped:
        lines += ["", "Not evaluated (labelled but unusable here):", *[f"- {x}" for x in report.skipped]]
    if plot_name:
        lines += ["", f"![precision-recall]({plot_name})"]
    if categories_plot:
        lines += ["", f"![precision-recall by category]({categories_plot})"]
    lines += ["", "## Per category", "", "| category | labelled | AUPR | P@80%R | precision | recall | presence F1 |", "|---|---|---|---|---|---|---|"]
    for m in sorted(report.categories, key=lambda m: -m.curve.aupr):
        c = m.curve
        lines.append(f"| {m.category} | {c.labelled} | {c.aupr:.3f} | {_at_recall(c.precision_at_80_recall, c)} | "
                     f"{_percent(c.precision)} | {_percent(c.recall)} | {m.presence_f1:.3f} |")
    return "\n".join(lines) + "\n"


def print_report(report: EvalReport, console: Console) -> None:
    table = Table(title=f"{report.settings.backend} on {report.settings.dataset}/{report.settings.split}: {report.contracts} contracts")
    for column in ("category", "labelled", "AUPR", "P@80%R", "precision", "recall", "presence F1"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for m in sorted(report.categories, key=lambda m: -m.curve.aupr):
        c = m.curve
        table.add_row(m.category, str(c.labelled), f"{c.aupr:.3f}", _at_recall(c.precision_at_80_recall, c),
                      _percent(c.precision), _percent(c.recall), f"{m.presence_f1:.3f}")
    o = report.overall
    table.add_row("ALL (pooled)", str(o.labelled), f"{o.aupr:.3f}", _at_recall(o.precision_at_80_recall, o),
                  _percent(o.precision), _percent(o.recall), f"{report.presence_f1:.3f}", style="bold")
    console.print(table)
    console.print(
        f"contract type accuracy {_percent(report.contract_type_accuracy)} · grounding {_percent(report.grounding_rate)} · "
        f"{report.seconds_per_contract:.2f} s and {report.tokens_per_contract:.0f} tokens per contract"
        + (f" · strict AUPR {report.strict.aupr:.3f}" if report.strict else "")
        + "".join(f" · {name} {value:.3f}" for name, value in report.reference.items())
    )
    for line in report.skipped:
        console.print(f"[yellow]not evaluated:[/] {escape(line)}")
    for line in report.failed:
        console.print(f"[red]failed:[/] {escape(line)}")
    if report.model_asked:
        answered = report.model_asked - len(report.model_failed)
        style = "red" if report.model_failed else "dim"
        console.print(f"[{style}]the model answered {answered} of {report.model_asked} contracts"
                      + (f"; the rest are scored on the local engine alone (a rerun asks the model again): "
                         f"{escape('; '.join(report.model_failed[:3]))}" if report.model_failed else "") + "[/]")


class NotComparable(ValueError):
    """Two reports of different datasets, splits or taxonomies."""


def comparison_warnings(a: EvalReport, b: EvalReport) -> list[str]:
    """What makes two reports only partly comparable; raises NotComparable when they are not comparable at all."""
    for field in ("dataset", "split", "taxonomy"):
        if getattr(a.settings, field) != getattr(b.settings, field):
            raise NotComparable(f"the reports are of different {field}s ({getattr(a.settings, field)} vs "
                                f"{getattr(b.settings, field)}); nothing to compare")
    warnings = []
    if a.contracts != b.contracts:
        warnings.append(f"different numbers of contracts ({a.contracts} vs {b.contracts}): pooled figures differ for that reason too")
    only_a = set(a.settings.categories) - set(b.settings.categories)
    only_b = set(b.settings.categories) - set(a.settings.categories)
    if only_a or only_b:
        warnings.append(f"different categories ({len(only_a)} only in A, {len(only_b)} only in B): per-category rows show the "
                        "common ones; pooled figures are over each run's own categories")
    if a.failed or b.failed:
        warnings.append(f"failed contracts left out: A {len(a.failed)}, B {len(b.failed)}")
    return warnings


def compare_reports(a: EvalReport, b: EvalReport, console: Console) -> str:
    """Side by side, per category and overall; returns the Markdown it printed. Refuses reports of different
    datasets or splits and says what else differs."""
    warnings = comparison_warnings(a, b)
    label_a, label_b = f"A: {run_label(a)}", f"B: {run_label(b)}"
    header = ["category", f"{label_a} AUPR", f"{label_b} AUPR", "Δ AUPR", f"{label_a} F1", f"{label_b} F1"]
    rows = []
    metrics_b = {m.category: m for m in b.categories}
    for m in a.categories:
        other = metrics_b.get(m.category)
        if other is None:
            continue
        rows.append([m.category, f"{m.curve.aupr:.3f}", f"{other.curve.aupr:.3f}", f"{other.curve.aupr - m.curve.aupr:+.3f}",
                     f"{m.presence_f1:.3f}", f"{other.presence_f1:.3f}"])
    rows.append(["ALL (pooled)", f"{a.overall.aupr:.3f}", f"{b.overall.aupr:.3f}", f"{b.overall.aupr - a.overall.aupr:+.3f}",
                 f"{a.presence_f1:.3f}", f"{b.presence_f1:.3f}"])
    if a.strict and b.strict:
        rows.append(["ALL strict", f"{a.strict.aupr:.3f}", f"{b.strict.aupr:.3f}", f"{b.strict.aupr - a.strict.aupr:+.3f}", "", ""])
    rows.append(["mean of categories", f"{a.macro_aupr:.3f}", f"{b.macro_aupr:.3f}", f"{b.macro_aupr - a.macro_aupr:+.3f}", "", ""])
    rows.append(["contracts scored", str(a.contracts), str(b.contracts), "", "", ""])
    rows.append(["grounding", _percent(a.grounding_rate), _percent(b.grounding_rate), "", "", ""])
    rows.append(["type accuracy", _percent(a.contract_type_accuracy), _percent(b.contract_type_accuracy), "", "", ""])
    rows.append(["seconds / contract", f"{a.seconds_per_contract:.2f}", f"{b.seconds_per_contract:.2f}", "", "", ""])
    rows.append(["tokens / contract", f"{a.tokens_per_contract:.0f}", f"{b.tokens_per_contract:.0f}", "", "", ""])
    rows.append(["cost / contract", _usd(a.cost_per_contract_usd), _usd(b.cost_per_contract_usd), "", "", ""])
    table = Table(title=f"{a.settings.dataset}/{a.settings.split}: {label_a} = {a.settings.backend}, {a.contracts} contracts; "
                        f"{label_b} = {b.settings.backend}, {b.contracts} contracts")
    for column in header:
        table.add_column(column, justify="left" if column == "category" else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for warning in warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    markdown = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(markdown + [""] + [f"Warning: {w}" for w in warnings]) + "\n"
