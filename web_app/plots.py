"""Small SVG plots for the portfolio pages, drawn with matplotlib (Agg) and embedded inline: the page's CSP allows
no images from elsewhere, and inline SVG scales and prints crisply."""

from __future__ import annotations

import io
import re

from markupsafe import Markup


def _svg(figure) -> Markup:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]  # no XML prolog or doctype inside HTML
    return Markup(re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r'<svg \1style="width:100%;height:auto"', svg, count=1))


def spend_against_contract(months: list[str], invoiced: list[float], contracted: list[float], currency: str = "") -> Markup:
    """Spend invoiced in the year so far as bars, the yearly ceiling of the contracts in force as a step line: a bar
    above the line is spend beyond what the contracts provide for that year."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(12, 3.2), dpi=100)
    positions = range(len(months))
    over = [i > c > 0 or (c == 0 and i > 0) for i, c in zip(invoiced, contracted)]
    axes.bar(positions, invoiced, color=["#c2410c" if o else "#1d4ed8" for o in over], width=0.8, label="invoiced, year to date")
    axes.step(positions, contracted, where="mid", color="#15803d", linewidth=2, label="yearly not-to-exceed / value")
    step = max(1, -(-len(months) // 8))  # at most eight labels: "Jan 2025"
    axes.set_xticks(list(positions)[::step], [_month_label(m) for m in months][::step], fontsize=9)
    axes.tick_params(axis="y", labelsize=9)
    axes.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1000:,.0f}k" if v >= 1000 else f"{v:,.0f}"))
    axes.set_ylabel(f"{currency}".strip(), fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(fontsize=9, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2)
    return _svg(figure)


def _month_label(month: str) -> str:
    import calendar

    year, number = month.split("-")
    return f"{calendar.month_abbr[int(number)]} {year}"


def service_levels(periods: list[str], actual: list[float], target: list[float]) -> Markup:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 2.6), dpi=100)
    missed = [a < t for a, t in zip(actual, target)]
    axes.plot(range(len(periods)), actual, color="#1d4ed8", marker="o", markersize=3, linewidth=1.5, label="measured")
    axes.scatter([i for i, m in enumerate(missed) if m], [a for a, m in zip(actual, missed) if m], color="#b00020",
                 zorder=3, s=24, label="missed")
    axes.step(range(len(periods)), target, where="mid", color="#15803d", linewidth=1.5, label="promised")
    step = max(1, -(-len(periods) // 6))
    axes.set_xticks(list(range(len(periods)))[::step], [_month_label(p) if len(p) == 7 else p for p in periods][::step], fontsize=9)
    axes.tick_params(axis="y", labelsize=9)
    axes.set_ylabel("%", fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(fontsize=9, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3)
    return _svg(figure)
