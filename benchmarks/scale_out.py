"""The batch's engines and stores side by side on one sample of real contracts (CUAD, rebuilt as DOCX):

    python benchmarks/scale_out.py --contracts 60

1. the local pool on SQLite files (the default), 2 workers;
2. the local pool on PostgreSQL, 2 workers;
3. Ray on PostgreSQL: a head and one more worker node on this machine, one CPU each (scripts/ray_cluster.sh).

Each run starts from an empty data folder and database, so every contract is reviewed. Prints and writes
benchmarks/reports/scale-out.json: contracts per minute for each, Ray's share of the pool's throughput on the same
store, and beside them the embedding-bound limit (what embedding every sentence would allow on these cores:
cores × 60 / (seconds per sentence × sentences per contract)). PostgreSQL and Ray are started by the project's
scripts and stopped after. Say the machine's load with the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.cuad_batch import cuad_inbox, per_sentence_cost  # noqa: E402
from benchmarks.report import machine, write_report  # noqa: E402


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _new_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + "/" + name


def _batch(folder: Path, inbox: Path, name: str, extra: list[str], database: str | None) -> dict:
    env = {**os.environ, "CLAUSEFLOW_DATA_DIR": str(folder / f"data-{name}"), "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("CLAUSEFLOW_DATABASE_URL", None)
    if database:
        env["CLAUSEFLOW_DATABASE_URL"] = database
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "app.py", "batch", str(inbox), "--out", str(folder / f"triage-{name}"),
                             *extra], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    lines = result.stdout.strip().splitlines()
    return {"wall_seconds": round(wall, 1), "exit_code": result.returncode,
            "summary_line": lines[-1] if lines else result.stderr[-300:],
            "ray_line": next((line for line in lines if line.startswith("Ray:")), None)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=60)
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="clauseflow-scale-"))
    os.chmod(scratch, 0o755)  # the PostgreSQL server runs as its own user when we are root
    postgres, ray = ROOT / "scripts" / "postgres.sh", ROOT / "scripts" / "ray_cluster.sh"
    try:
        inbox = scratch / "inbox"
        sample, sentences = cuad_inbox(inbox, args.contracts, args.seed)
        cost = per_sentence_cost(random.Random(1).sample(sentences, min(600, len(sentences))))
        started = subprocess.run([str(postgres), "start", str(scratch / "pg"), str(_free_port())], check=True,
                                 capture_output=True, text=True).stdout.split()
        server = dict(line.split("=", 1) for line in started)["CLAUSEFLOW_DATABASE_OWNER_URL"]
        runs = {"pool_sqlite": _batch(scratch, inbox, "pool-sqlite", ["--workers", "2"], None),
                "pool_postgres": _batch(scratch, inbox, "pool-pg", ["--workers", "2"], _new_database(server, "pool"))}
        cluster = subprocess.run([str(ray), "start", str(scratch / "ray"), str(_free_port())], check=True,
                                 capture_output=True, text=True).stdout.split()
        settings = dict(line.split("=", 1) for line in cluster)
        os.environ.update(RAY_AUTH_MODE=settings["RAY_AUTH_MODE"], RAY_AUTH_TOKEN_PATH=settings["RAY_AUTH_TOKEN_PATH"])
        try:
            runs["ray_postgres_2_nodes"] = _batch(scratch, inbox, "ray-pg",
                                                  ["--engine", "ray", "--address", settings["CLAUSEFLOW_RAY_ADDRESS"]],
                                                  _new_database(server, "ray"))
        finally:
            subprocess.run([str(ray), "stop", str(scratch / "ray")], capture_output=True)
    finally:
        subprocess.run([str(postgres), "stop", str(scratch / "pg")], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    for run in runs.values():
        run["contracts_per_minute"] = round(60 * args.contracts / run["wall_seconds"], 1)
    per_contract = len(sentences) / args.contracts
    cores = os.cpu_count() or 1
    report = {
        "machine": machine(),
        "contracts": args.contracts, "seed": args.seed,
        "characters_mean": round(sum(len(c.text) for c in sample) / len(sample)),
        "runs": runs,
        "ray_share_of_pool_same_store": round(runs["ray_postgres_2_nodes"]["contracts_per_minute"]
                                              / runs["pool_postgres"]["contracts_per_minute"], 3),
        "sentences_per_contract": round(per_contract),
        "embedder_seconds_per_sentence_one_core": round(cost, 4),
        "embedding_bound_contracts_per_minute": round(cores * 60 / (cost * per_contract), 1),
        "embedding_bound_means": f"{cores} cores each embedding every sentence of every contract; reviews embed only "
                                 "the sentences in play, so the batch can run above it",
    }
    write_report("scale-out", report)


if __name__ == "__main__":
    main()
