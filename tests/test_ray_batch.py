"""`app.py batch --engine ray`: the agents as Ray actors on a two-node cluster (a head and a worker node on this
machine), giving the same triage as the local pool, each contract's agents run once, resumable after kill -9."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import DATABASES, RAY_CLUSTER, ROOT, SAMPLES, new_database
from test_batch import _inbox_of_distinct_contracts, _reviews
from test_review_cli import cli


def _agent_runs(store, data) -> dict[str, int]:
    runs: dict[str, int] = {}
    for event in store.audit(data).events(kind="agents_run"):
        runs[event.thread_id] = runs.get(event.thread_id, 0) + 1
    return runs


def _comparable(rows: list[dict]) -> list[tuple]:
    return sorted((r["file"], r["outcome"], r.get("risk"), r.get("thread_id"), r.get("contract_type"),
                   r.get("notice_deadline"), r.get("reason")) for r in rows)


def test_the_ray_engine_gives_the_pools_triage_on_two_nodes(tmp_path, postgres_store, ray_cluster):
    # on the shared store, as a cluster runs (CI time: the SQLite run of the same comparison added 23 s and nothing a
    # cluster meets; the pool's own tests run on both stores)
    store = postgres_store
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ["nda_bluepeak.docx", "saas_cloudnimbus.docx", "msa_orion.docx", "licence_quanta.txt"]:
        shutil.copy(SAMPLES / name, inbox)
    shutil.copy(SAMPLES / "nda_bluepeak.docx", inbox / "bluepeak (copy).docx")
    (inbox / "corrupt.docx").write_bytes(b"PK\x03\x04 not a zip")

    on_ray = cli("batch", str(inbox), "--engine", "ray", "--address", ray_cluster, "--out", str(tmp_path / "ray"),
                 data_dir=tmp_path / "ray-data", check=False)
    if store.kind == "postgres":  # the pool's run for comparison keeps its records apart (a data folder and its database)
        DATABASES[tmp_path / "pool-data"] = new_database(store.url)
    on_pool = cli("batch", str(inbox), "--workers", "2", "--out", str(tmp_path / "pool"), data_dir=tmp_path / "pool-data",
                  check=False)

    assert on_ray.returncode == on_pool.returncode == 2, on_ray.stderr[-2000:]  # the corrupt file, reported
    assert "Traceback" not in on_ray.stderr
    ray_rows = json.loads((tmp_path / "ray" / "triage.json").read_text())
    pool_rows = json.loads((tmp_path / "pool" / "triage.json").read_text())
    assert _comparable(ray_rows) == _comparable(pool_rows)  # the same triage, row for row
    outcomes = {r["file"]: r["outcome"] for r in ray_rows}
    assert {outcomes["bluepeak (copy).docx"], outcomes["nda_bluepeak.docx"]} == {"duplicate", "awaiting_review"}
    assert "2 workers, contracts reviewed on 2 node(s)" in on_ray.stdout  # both nodes did work
    runs = _agent_runs(store, tmp_path / "ray-data")
    assert len(runs) == 4 and set(runs.values()) == {1}  # each content's agents ran once
    shown = cli("show", next(r["thread_id"] for r in ray_rows if r["file"] == "saas_cloudnimbus.docx"),
                data_dir=tmp_path / "ray-data")
    assert "CloudNimbus" in shown.stdout  # a review made by an actor is an ordinary review


def test_a_ray_batch_killed_with_sigkill_resumes_without_repeating_a_contract(tmp_path, postgres_store, ray_cluster):
    store = postgres_store  # the shared store is what a cluster runs on
    inbox, data = tmp_path / "inbox", tmp_path / "data"
    _inbox_of_distinct_contracts(inbox, 8)
    env = {**os.environ, "CLAUSEFLOW_DATA_DIR": str(data), "CLAUSEFLOW_TODAY": "2026-11-23"}
    command = [sys.executable, str(ROOT / "app.py"), "batch", str(inbox), "--engine", "ray", "--address", ray_cluster,
               "--out", str(tmp_path / "t")]
    driver = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while len(_reviews(data, store)) < 2 and time.time() < deadline and driver.poll() is None:
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)  # the coordinator, mid-batch; Ray ends its actors
    driver.wait()
    before = _reviews(data, store)
    assert 2 <= len(before) < 8, f"the kill should land mid-batch; {len(before)} of 8 were done"

    result = cli("batch", str(inbox), "--engine", "ray", "--address", ray_cluster, "--out", str(tmp_path / "t"),
                 data_dir=data)

    rows = json.loads((tmp_path / "t" / "triage.json").read_text())
    assert len(rows) == 8 and all(r["outcome"] == "awaiting_review" for r in rows)
    after = _reviews(data, store)
    assert len(after) == 8 and {t: after[t] for t in before} == before  # finished ones were not redone
    assert set(_agent_runs(store, data).values()) == {1}  # not even a contract cut off mid-review ran twice
    assert "0 failed" in result.stdout


def test_an_address_where_no_cluster_answers_is_one_line_in_seconds(tmp_path):
    from conftest import free_port

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "nda_bluepeak.docx", inbox)
    started = time.monotonic()
    result = cli("batch", str(inbox), "--engine", "ray", "--address", f"127.0.0.1:{free_port()}", data_dir=tmp_path / "d",
                 check=False)
    assert result.returncode == 1 and "no Ray cluster answers at 127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr and time.monotonic() - started < 60  # Ray alone waited minutes


def test_a_ray_batch_whose_actors_cannot_start_ends_at_once_with_one_reason(tmp_path, postgres_store, ray_cluster):
    """A wrong database name made every row "died twice" with 88 lines of traceback; now the actors' reason, once."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("nda_bluepeak.docx", "msa_orion.docx", "saas_cloudnimbus.docx"):
        shutil.copy(SAMPLES / name, inbox)
    wrong = postgres_store.url.rsplit("/", 1)[0] + "/nosuchdb"
    started = time.monotonic()
    result = cli("batch", str(inbox), "--engine", "ray", "--address", ray_cluster, "--out", str(tmp_path / "t"),
                 data_dir=tmp_path / "d", check=False, env={"CLAUSEFLOW_DATABASE_URL": wrong})
    elapsed = time.monotonic() - started
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode != 0 and "Traceback" not in result.stdout + result.stderr
    assert len(errors) == 1 and "workers cannot start" in errors[0] and '"nosuchdb" does not exist' in errors[0], errors
    assert wrong.split("@")[0].split(":")[-1] not in result.stderr  # the password is not echoed
    assert elapsed < 30, f"took {elapsed:.0f} s"


def _reviewing_under(raylet: int) -> bool:
    """Whether an actor started by that raylet is running a review now (Ray titles the process by its method)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if parent == raylet and b"ReviewWorker.review" in (stat.parent / "cmdline").read_bytes():
                return True
        except (OSError, ValueError, IndexError):
            continue
    return False


def test_a_node_lost_mid_batch_leaves_no_contract_waiting(tmp_path, postgres_store, ray_cluster):
    """Its raylet killed: the contract it held goes to a surviving actor (no CPU is free for a replacement, which Ray
    alone waited for forever), every row ends reviewed, and the batch ends. Last in this file: the cluster keeps a dead
    node."""
    store, inbox, data = postgres_store, tmp_path / "inbox", tmp_path / "data"
    added = subprocess.run([str(ROOT / "scripts" / "ray_cluster.sh"), "add-node", str(RAY_CLUSTER["folder"])],
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "RAY": str(ROOT / ".venv" / "bin" / "ray")})
    assert added.returncode == 0 and added.stdout.strip().isdigit(), added.stderr
    raylet = int(added.stdout.strip())
    _inbox_of_distinct_contracts(inbox, 5)
    env = {**os.environ, "CLAUSEFLOW_DATA_DIR": str(data), "CLAUSEFLOW_TODAY": "2026-11-23", "COLUMNS": "200"}
    driver = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "batch", str(inbox), "--engine", "ray", "--address",
                               ray_cluster, "--workers", "3", "--out", str(tmp_path / "t")], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 180
    while not _reviewing_under(raylet) and time.time() < deadline and driver.poll() is None:
        time.sleep(0.05)
    assert _reviewing_under(raylet), "the added node's actor never took a contract"
    os.kill(raylet, signal.SIGKILL)  # the node is gone, with its CPU and the actor mid-contract on it
    stdout, stderr = driver.communicate(timeout=300)

    rows = json.loads((tmp_path / "t" / "triage.json").read_text())
    assert len(rows) == 5 and "Traceback" not in stderr
    assert all(r["outcome"] == "awaiting_review" for r in rows), [(r["file"], r.get("reason")) for r in rows]
    assert "retried after their worker died" in stdout, stdout[-1500:]
    assert set(_agent_runs(store, data).values()) == {1}
