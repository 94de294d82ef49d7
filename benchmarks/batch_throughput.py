"""Batch throughput: review N distinct copies of the sample contracts with the local engine.

    python benchmarks/batch_throughput.py --copies 120 --workers 2

Each copy gets a unique reference paragraph so that its content hash (and so its review) is new. Prints
contracts per minute, with and without the workers' start-up; results go in README ("Measured").
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_inbox(folder: Path, copies: int) -> None:
    from docx import Document

    samples = sorted((ROOT / "samples").glob("*.docx"))
    for index in range(copies):
        source = samples[index % len(samples)]
        document = Document(str(source))
        document.add_paragraph(f"Reference: BENCH-{index:05d}")
        document.save(str(folder / f"{source.stem}-{index:05d}.docx"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=120)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    from graphs.batch_review import BatchSettings, run_batch
    from graphs.configuration import ReviewConfig

    with tempfile.TemporaryDirectory() as scratch:
        inbox, data = Path(scratch) / "inbox", Path(scratch) / "data"
        inbox.mkdir()
        make_inbox(inbox, args.copies)
        config = ReviewConfig(data_dir=data)
        settings = BatchSettings(inbox=inbox, output_dir=Path(scratch) / "out", workers=args.workers)
        first_done: list[float] = []
        started = time.perf_counter()
        rows = run_batch(settings, config, on_result=lambda row, done, total: first_done.append(time.perf_counter()))
        elapsed = time.perf_counter() - started
    failed = sum(r.outcome == "failed" for r in rows)
    steady = (len(first_done) - 1) / (first_done[-1] - first_done[0]) * 60 if len(first_done) > 1 else 0.0
    print(f"{len(rows)} contracts ({failed} failed) with {args.workers} workers on {os.cpu_count()} cores: "
          f"{elapsed:.1f} s, {60 * len(rows) / elapsed:.0f} contracts/min overall, "
          f"{steady:.0f} contracts/min once the workers are up (start-up {first_done[0] - started:.1f} s)")


if __name__ == "__main__":
    main()
