"""The reviewer queue at 10,000 reviews: how long the page takes, for one client and for 20 at once.

    .venv/bin/python benchmarks/queue_page.py [--reviews 10000] [--clients 20]

Seeds the review index (the table the queue reads; no checkpoints are touched by the page) with synthetic reviews
and their clauses in one transaction, and a realistic decision log beside it (each review's row, five decisions and an
event each: the staleness check each request makes reads these), starts `app.py serve` on that data dir, logs a legal reviewer in over HTTP and times GET / and
a filtered, searched, sorted page: sequentially, then from 20 threads at once. Writes benchmarks/reports/queue-page.json.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import machine, write_report  # noqa: E402

FUNCTIONS = ["legal", "security", "finance", "procurement"]
TYPES = ["msa", "nda", "saas", "dpa", "supply", "licence", "services"]


def seed(data: Path, count: int) -> None:
    from graphs.configuration import ReviewConfig
    from graphs.review_index import IndexRow, ReviewIndex

    rng = random.Random(20261126)
    now = datetime.now(timezone.utc)
    rows = []
    for n in range(count):
        functions = sorted(rng.sample(FUNCTIONS, rng.randint(1, 3)))
        rows.append(IndexRow(
            thread_id=f"contract-{n:05d}-{rng.getrandbits(40):010x}", name=f"{rng.choice(TYPES)}_vendor_{n:05d}",
            short_id=f"{rng.getrandbits(32):08x}", contract_type=rng.choice(TYPES), counterparty=f"Vendor {n % 1700} Ltd",
            risk=rng.choice(["critical", "high", "high", "medium", "medium", "low"]), findings=rng.randint(0, 12),
            suggestions=rng.randint(0, 12), pending=rng.randint(0, 9), functions=functions, owners=functions[:1],
            status=rng.choice(["awaiting review"] * 6 + ["escalated", "signed off", "finalised", "finalised"]),
            notice_deadline=(now + timedelta(days=rng.randint(-30, 400))).date().isoformat() if rng.random() < 0.6 else None,
            assigned_to=rng.choice([None, None, "lee", "kim"]), created_at=(now - timedelta(days=rng.randint(0, 700))).isoformat()))
    # eight clauses a contract, from realistic clause sentences with the numbers varied
    clauses = {row.thread_id: [(category, 100 * k, 100 * k + len(text), text) for k, (category, text) in
                               enumerate(rng.sample(CLAUSES, 8))] for row in rows}
    store = ReviewConfig.from_env(data).audit_store
    index = ReviewIndex(store)
    for row in rows:
        row.version = DECISIONS_PER_REVIEW
    index.upsert_many(rows, clauses)
    seed_log(store, rows, rng)
    _, marks = index.changed_since_caught_up()  # the index is up to date: as after the service's catch-up
    if marks:
        index.advance(marks)
    assert index.stale() == [], "the seeded index should be caught up"
    return index


DECISIONS_PER_REVIEW = 5  # a realistic log: each review decided in about five entries


def seed_log(store, rows, rng) -> None:
    """The decision log beside the index: each review's row in `reviews`, five decisions each, and an event each
    (the staleness check reads these tables on every queue request)."""
    from graphs.audit_log import AuditLog

    log = AuditLog(store)
    with log.transaction() as db:
        db.executemany("INSERT INTO reviews VALUES (?,?,?,?,?,?,?,?,?,?,NULL)",
                       [(r.thread_id, r.name, f"/inbox/{r.name}.docx", r.short_id * 8, r.contract_type, r.counterparty,
                         r.risk, r.suggestions, r.created_at, "finalised" if r.status == "finalised" else "in_review")
                        for r in rows])
        db.executemany("INSERT INTO decisions (thread_id, suggestion_id, action, reviewer, decided_at) VALUES (?,?,?,?,?)",
                       [(r.thread_id, f"S{k + 1:02d}", rng.choice(["approve", "approve", "reject", "modify"]), "lee",
                         r.created_at) for r in rows for k in range(DECISIONS_PER_REVIEW)])
        db.executemany("INSERT INTO events (at, kind, actor, thread_id, detail) VALUES (?,?,?,?,?)",
                       [(r.created_at, "agents_run", "clauseflow", r.thread_id, None) for r in rows])


CLAUSES = [(category, text.format(n=n)) for n in (3, 12, 30, 45, 90) for category, text in [
    ("liability_cap", "Supplier's aggregate liability shall not exceed the fees paid in the {n} months preceding the claim."),
    ("uncapped_liability", "Nothing in this Agreement limits either party's liability for fraud, gross negligence or {n} other matters."),
    ("auto_renewal", "This Agreement renews automatically for successive {n} month terms unless either party gives notice."),
    ("payment_terms", "Customer shall pay each undisputed invoice within {n} days of receipt."),
    ("governing_law", "This Agreement is governed by the laws of the State of New York, clause {n}."),
    ("termination_for_convenience", "Either party may terminate this Agreement for convenience on {n} days' written notice."),
    ("confidentiality", "Each party shall keep the other's confidential information secret for {n} years."),
    ("audit_rights", "Customer may audit Supplier's records once every {n} months on reasonable notice."),
    ("exclusivity", "Customer shall buy the products exclusively from Supplier during the first {n} months."),
    ("data_protection", "Processor shall notify Controller of a personal data breach within {n} hours."),
]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def logged_in_opener(base: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    token = re.search(r'name="csrf" value="([^"]+)"', opener.open(base + "/login").read().decode()).group(1)
    body = urllib.parse.urlencode({"username": "lee", "password": "correct horse battery", "csrf": token}).encode()
    opener.open(base + "/login", data=body).read()
    return opener


def timed(opener, url: str) -> float:
    started = time.perf_counter()
    page = opener.open(url).read()
    elapsed = time.perf_counter() - started
    assert b'id="queue"' in page, "not the queue page"
    return elapsed


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(1000 * statistics.median(ordered), 1),
            "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1), "requests": len(ordered)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100, help="sequential requests per page kind")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="queue-bench-"))
    environment = {**os.environ, "CLAUSEFLOW_DATA_DIR": str(data)}
    started = time.perf_counter()
    index = seed(data, args.reviews)
    seeded = time.perf_counter() - started
    from graphs.review_index import QueueQuery

    searches = ["aggregate liability", "renews automatically", "personal data breach", "terminate convenience notice",
                "liability", "governed laws New York"]
    search_times = []
    for i in range(60):
        begun = time.perf_counter()
        index.search(searches[i % len(searches)], QueueQuery(status="all", risk="high" if i % 2 else None),
                     visible_functions=["legal", "finance"])
        search_times.append(time.perf_counter() - begun)
    subprocess.run([sys.executable, str(ROOT / "app.py"), "user", "add", "lee", "--functions", "legal", "finance",
                    "--password-stdin"], input="correct horse battery\n", text=True, env=environment, check=True,
                   capture_output=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "serve", "--port", str(port)], env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        pages = {"queue": base + "/", "filtered": base + "/?status=all&risk=high&q=Vendor%2012&sort=deadline&page=2"}
        opener = logged_in_opener(base)
        for url in pages.values():
            timed(opener, url)  # warm
        one_client = {kind: percentiles([timed(opener, url) for _ in range(args.requests)]) for kind, url in pages.items()}
        openers = [logged_in_opener(base) for _ in range(args.clients)]
        samples: list[float] = []
        lock = threading.Lock()

        def client(opener) -> None:
            mine = [timed(opener, pages["queue" if i % 2 == 0 else "filtered"]) for i in range(20)]
            with lock:
                samples.extend(mine)

        threads = [threading.Thread(target=client, args=(o,)) for o in openers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        concurrent = percentiles(samples)
    finally:
        server.terminate()
        server.wait(timeout=20)
    write_report("queue-page", {
        "machine": machine(), "reviews_indexed": args.reviews, "decisions_logged": args.reviews * DECISIONS_PER_REVIEW, "seed_seconds": round(seeded, 1),
        "one_client": one_client, f"{args.clients}_concurrent_clients": concurrent,
        "clause_search_in_process": {**percentiles(search_times), "clauses_indexed": 8 * args.reviews},
        "server": "app.py serve (uvicorn, one process)", "reader": "lee: legal + finance (sees ~75% of reviews)",
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
