"""What every benchmark does with its figures: name the machine, write benchmarks/reports/<name>.json, print."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

REPORTS = Path(__file__).resolve().parent / "reports"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"


def write_report(name: str, report: dict, *, shown: dict | None = None) -> Path:
    """The whole report to the file; `shown` (default: the report) to the terminal."""
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / f"{name}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report if shown is None else shown, indent=2, ensure_ascii=False))
    return path
