"""An evaluation report as a terminal table, JSON, Markdown with a precision-recall plot, and a comparison."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evals.runner import EvalReport


def write_report(report: EvalReport, run_dir: Path) -> dict[str, Path]:
    paths = {"json": run_dir / "report.json", "markdown": run_dir / "report.md", "plot": run_dir / "pr_curve.png"}
    paths["json"].write_text(report.model_dump_json(indent=2), encoding="utf-8")
    plot_curves([report], paths["plot"])
    paths["markdown"].write_text(render_markdown(report, paths["plot"].name), encoding="utf-8")
    return paths


def plot_curves(reports: list[EvalReport], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(6, 4.5), dpi=110)
    for report in reports:
        if report.curve_points:
            recall, precision = zip(*report.curve_points)
            axes.step(recall, precision, where="post", label=f"{report.settings.backend} (AUPR {report.overall.aupr:.3f})")
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
             title=f"{reports[0].settings.dataset} / {reports[0].settings.split}: precision-recall, Jaccard >= 0.5")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _at_recall(value: float | None, curve) -> str:
    return f"not reached (highest recall {100 * curve.max_recall:.1f}%)" if value is None else f"{100 * value:.1f}%"


def render_markdown(report: EvalReport, plot_name: str | None = None) -> str:
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
        f"| clause presence F1 | {report.presence_f1:.3f} |",
        f"| contract type accuracy | {_percent(report.contract_type_accuracy)} (of {report.contract_type_scored}) |",
        f"| grounding rate (quotes verified in the text) | {_percent(report.grounding_rate)} |",
        f"| seconds per contract | {report.seconds_per_contract:.2f} |",
        f"| tokens per contract | {report.tokens_per_contract:.0f} |",
    ]
    for name, value in report.reference.items():
        lines.append(f"| reference: {name} | {value:.3f} (CUAD's own 102-contract test split, not this one) |")
    if report.dataset_path:
        lines += ["", f"Dataset: `{report.dataset_path}`, split {s.split}, {report.contracts} contracts."]
    if report.skipped:
        lines += ["", "Not evaluated (labelled but unusable here):", *[f"- {x}" for x in report.skipped]]
    if plot_name:
        lines += ["", f"![precision-recall]({plot_name})"]
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


def compare_reports(a: EvalReport, b: EvalReport, console: Console) -> str:
    """Side by side, per category and overall; returns the Markdown table it printed."""
    label_a, label_b = f"A: {a.settings.backend}", f"B: {b.settings.backend}"
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
    rows.append(["seconds / contract", f"{a.seconds_per_contract:.2f}", f"{b.seconds_per_contract:.2f}", "", "", ""])
    rows.append(["tokens / contract", f"{a.tokens_per_contract:.0f}", f"{b.tokens_per_contract:.0f}", "", "", ""])
    table = Table(title=f"{a.settings.dataset}/{a.settings.split} ({a.contracts} contracts) vs {b.settings.dataset}/{b.settings.split} ({b.contracts})")
    for column in header:
        table.add_column(column, justify="left" if column == "category" else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"
