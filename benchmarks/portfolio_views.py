"""The portfolio's date views at scale: every view computes the current term, deadlines and status as of the day it
shows (the term ledger), so their cost grows with the repository.

    .venv/bin/python benchmarks/portfolio_views.py [--contracts 10000] [--repeats 3]

Seeds a fresh SQLite repository with synthetic contracts (benchmarks/portfolio_scale.py's seeding: random metadata,
real CUAD sentences as clauses, obligations) and times, best of --repeats: the statuses of every contract, renewals in
the next 90 days, open obligations due in 30 days, and the dashboard (which asks all three).
Writes benchmarks/reports/portfolio-views.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    from portfolio_scale import seed_contracts

    from portfolio.repository import Repository
    from portfolio.views import dashboard

    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    today = date(2026, 12, 4)
    with tempfile.TemporaryDirectory() as folder:
        repository = Repository(Path(folder) / "portfolio.sqlite")
        seed_contracts(repository, args.contracts, random.Random(7))
        views = {
            "statuses": lambda: repository.statuses(today),
            "renewals_90d": lambda: repository.renewals(today, 90),
            "obligations_due_30d": lambda: repository.obligations(today, due_before=today + timedelta(days=30), in_force_only=True),
            "dashboard": lambda: dashboard(repository, today),
        }
        seconds = {}
        for name, view in views.items():
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                view()
                times.append(time.perf_counter() - start)
            seconds[name] = round(min(times), 3)
            print(f"{name}: {seconds[name]:.2f} s (best of {args.repeats})")
    report = {"contracts": args.contracts, "best_of": args.repeats, "seconds": seconds,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "date": date.today().isoformat()}
    out = ROOT / "benchmarks" / "reports" / "portfolio-views.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"report: {out}")


if __name__ == "__main__":
    main()
