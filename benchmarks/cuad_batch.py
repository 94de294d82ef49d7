"""Batch speed on real contracts: a fixed random sample of CUAD contracts rebuilt as DOCX, through `app.py batch`.

    python benchmarks/cuad_batch.py --contracts 60 --workers 2

Prints and writes (benchmarks/reports/cuad-batch.json): contracts per minute, CPU seconds per contract, the
embedding-bound limit beside it (the sample's sentences x the embedder's measured cost per sentence, on one core:
what embedding every sentence would cost; reviews embed only the ~15% in play),
checkpoint bytes per contract and the peak memory of any process of the batch. Say the machine's load with the
figures: other work running on it slows every number here.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import machine, write_report  # noqa: E402


def per_sentence_cost(sentences: list[str]) -> float:
    from model_backends.embeddings import MiniLMEmbedder

    os.environ["CLAUSEFLOW_ONNX_THREADS"] = "1"
    embedder = MiniLMEmbedder()
    embedder.embed(sentences[:64])  # warm up
    started = time.perf_counter()
    embedder.embed(sentences)
    return (time.perf_counter() - started) / max(len(sentences), 1)


def cuad_inbox(inbox: Path, count: int, seed: int) -> tuple[list, list[str]]:
    """A fixed random sample of CUAD contracts (all splits) as DOCX in `inbox`; the sample and its sentences."""
    from document_io.legal_text import sentence_units
    from evals.cuad_docx import cuad_text_to_docx
    from evals.datasets import CuadDataset
    from evals.review_eval import as_word_document

    contracts = sorted(CuadDataset().contracts("all"), key=lambda c: c.id)
    sample = random.Random(seed).sample(contracts, count)
    inbox.mkdir(parents=True)
    sentences: list[str] = []
    for index, contract in enumerate(sample):
        (inbox / f"{index:03d}.docx").write_bytes(cuad_text_to_docx(contract.text))
        sentences += [u.text for u in sentence_units(as_word_document(contract))]
    return sample, sentences


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        inbox = folder / "inbox"
        sample, sentences = cuad_inbox(inbox, args.contracts, args.seed)
        cost = per_sentence_cost(random.Random(1).sample(sentences, min(600, len(sentences))))
        env = {**os.environ, "CLAUSEFLOW_DATA_DIR": str(folder / "data")}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "app.py", "batch", str(inbox), "--workers", str(args.workers),
                                 "--out", str(folder / "triage")], cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        with sqlite3.connect(folder / "data" / "checkpoints.sqlite") as db:
            rows = db.execute("SELECT SUM(LENGTH(checkpoint) + LENGTH(metadata)) FROM checkpoints").fetchone()[0] or 0
            rows += db.execute("SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes").fetchone()[0]
        files = sum(p.stat().st_size for p in (folder / "data").glob("checkpoints.sqlite*"))
        blobs = sum(p.stat().st_size for p in (folder / "data" / "blobs").rglob("*.json"))
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    report = {
        "machine": machine(),
        "contracts": args.contracts, "workers": args.workers, "seed": args.seed, "exit_code": result.returncode,
        "characters_mean": round(sum(len(c.text) for c in sample) / len(sample)),
        "wall_seconds": round(wall, 1), "contracts_per_minute": round(60 * args.contracts / wall, 1),
        "cpu_seconds_per_contract": round(cpu / args.contracts, 2),
        "sentences_per_contract": round(len(sentences) / args.contracts),
        "embedder_seconds_per_sentence_one_core": round(cost, 4),
        "embedding_bound_cpu_seconds_per_contract": round(cost * len(sentences) / args.contracts, 2),
        "embedding_bound_means": "the cost of embedding every sentence; reviews embed only the sentences in play "
                                 "(a library signal, a heading, or a clause-model vote near yes: ~15% on CUAD)",
        "checkpoint_row_bytes_per_contract": round(rows / args.contracts),
        "checkpoint_file_bytes_per_contract": round(files / args.contracts),
        "blob_bytes_per_contract": round(blobs / args.contracts),
        "peak_rss_mb_any_process": after.ru_maxrss // 1024,
        "summary_line": result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-300:],
    }
    write_report("cuad-batch", report)

if __name__ == "__main__":
    main()
