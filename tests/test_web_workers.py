"""`app.py serve --workers 2`: several worker processes over one data folder. A session made on one worker is valid
on every other, and decisions posted at once through different workers are all saved, once each; on SQLite files and
on PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from conftest import ROOT, SAMPLES, app_env, free_port, records_on, wait_until_answering
from test_review_cli import cli
from test_web_decisions import Client

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def workers(request, tmp_path_factory):
    data = tmp_path_factory.mktemp("workers")
    records_on(request, data)
    threads = []
    for sample in ("saas_cloudnimbus.docx", "msa_orion.docx"):
        out = cli("review", str(SAMPLES / sample), "--out", str(data / "out"), data_dir=data).stdout
        threads.append(re.search(r"thread (\S+) ·", out).group(1))
    cli("user", "add", "lee", "--functions", "legal", "security", "finance", "procurement", "--password-stdin",
        data_dir=data, stdin=PASSWORD + "\n")
    port = free_port()
    env = app_env(data)
    server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "serve", "--port", str(port), "--workers", "2"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    wait_until_answering(base + "/health", server)
    yield {"base": base, "data": data, "threads": threads, "server": server}
    server.terminate()
    server.wait(timeout=20)


def _pids_answering(base: str, requests: int = 120) -> set[str]:
    pids: set[str] = set()

    def ask():
        for _ in range(requests // 8):
            pids.add(urllib.request.urlopen(base + "/health", timeout=10).read().decode().split()[-1])

    askers = [threading.Thread(target=ask) for _ in range(8)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    return pids


def test_two_workers_answer_and_a_session_from_one_is_valid_on_the_other(workers):
    import psutil

    children = psutil.Process(workers["server"].pid).children(recursive=True)
    assert len([c for c in children if "python" in c.name().lower()]) >= 2
    # both workers take connections, once both are up (the parent answers /health as soon as the first one is)
    deadline, seen = time.monotonic() + 60, set()
    while len(seen) < 2 and time.monotonic() < deadline:
        seen |= _pids_answering(workers["base"])
    assert len(seen) == 2, seen
    lee = Client(workers["base"])
    assert lee.log_in("lee", PASSWORD)[0] == 200
    for _ in range(30):  # a fresh connection each time: the workers take turns, the session holds on every one
        status, page = lee.get("/")
        assert status == 200 and "lee" in page and 'id="login"' not in page


def test_decisions_posted_at_once_through_several_workers_are_all_saved_once(workers):
    base = workers["base"]
    jobs = []
    for thread in workers["threads"]:
        client = Client(base)
        client.log_in("lee", PASSWORD)
        _, page = client.get(f"/reviews/{thread}")
        for sid in re.findall(r'<div class="card[^"]*" id="(S\d+)"', page):
            jobs.append((client, thread, sid))
    answers = []

    def decide(client, thread, sid):
        values = client.form_values(f"/reviews/{thread}")
        answers.append(client.post(f"/reviews/{thread}/decide", {**values, "suggestion_id": sid, "action": "reject",
                                                                   "comment": f"worker test {sid}"})[0])

    posting = [threading.Thread(target=decide, args=job) for job in jobs]
    for poster in posting:
        poster.start()
    for poster in posting:
        poster.join(timeout=120)
    assert answers and all(code == 200 for code in answers), answers
    for thread in workers["threads"]:
        history = cli("history", thread, data_dir=workers["data"]).stdout
        for _, t, sid in (j for j in jobs if j[1] == thread):
            assert history.count(f"lee: reject {sid} ") + history.count(f"lee: reject {sid}\n") == 1, (sid, history)
