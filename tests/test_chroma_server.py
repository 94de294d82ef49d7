"""Chroma as a server (CLAUSEFLOW_CHROMA_URL): a real `chroma run` started for these tests and stopped after; reviews,
library search and the repository's search by meaning go through it, with the embeddings computed on our side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES, free_port, wait_until_answering
from test_review_cli import cli

CHROMA = Path(sys.executable).parent / "chroma"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    if not CHROMA.exists():
        pytest.fail("the chromadb package installs the `chroma` server command next to python; install.sh installs it")
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    server = subprocess.Popen([str(CHROMA), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until_answering(url + "/api/v2/heartbeat", server)
    yield url
    server.terminate()
    server.wait(timeout=20)


@pytest.fixture
def on_server(chroma_server, monkeypatch, request):
    monkeypatch.setenv("CLAUSEFLOW_CHROMA_URL", chroma_server)
    monkeypatch.setenv("CLAUSEFLOW_CHROMA_PREFIX", f"t{abs(hash(request.node.name)) % 10**8}_")
    return chroma_server


def _server_collections(url: str) -> dict[str, int]:
    from clause_library.chroma_client import http_client

    client = http_client()
    return {c.name: c.count() for c in client.list_collections()}


def test_a_review_indexes_the_library_on_the_server_and_nothing_in_the_data_folder(on_server, tmp_path):
    from clause_library.playbook import default_library
    from clause_library.vector_store import _entries, library_fingerprint

    data = tmp_path / "data"
    out = cli("review", str(SAMPLES / "saas_cloudnimbus.docx"), "--out", str(tmp_path / "out"), data_dir=data).stdout
    assert "S01" in out and "liability" in out.lower()
    library = default_library()
    name = f"{os.environ['CLAUSEFLOW_CHROMA_PREFIX']}approved_clauses_{library_fingerprint(library)}"
    assert _server_collections(on_server)[name] == len(_entries(library))
    assert not (data / "chroma" / "chroma.sqlite3").exists()  # the embedded store was never opened
    hits = cli("library", "search", "cap on the supplier's liability", data_dir=data).stdout
    assert "liability_cap" in hits


_ENSURE = """
import sys
from pathlib import Path
from clause_library.playbook import default_library
from clause_library.vector_store import ClauseStore
store = ClauseStore(Path(sys.argv[1]))
store.ensure_indexed(default_library())
print(len(store.prototypes().category_ids))
"""


def test_processes_building_the_same_library_version_on_the_server_at_once_all_get_it_complete(on_server, tmp_path):
    from clause_library.playbook import default_library
    from clause_library.vector_store import _entries

    workers = [subprocess.Popen([sys.executable, "-c", _ENSURE, str(tmp_path / f"d{n}")], cwd=ROOT, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(4)]
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr[-2000:]
        assert int(stdout.split()[-1]) == len(_entries(default_library()))


def test_the_repository_searches_by_meaning_through_the_server(on_server, tmp_path):
    folder, data = tmp_path / "executed", tmp_path / "data"
    folder.mkdir()
    for name in ("msa_orion.docx", "licence_quanta.docx"):
        (folder / name).write_bytes((SAMPLES / name).read_bytes())
    cli("import", str(folder), "--workers", "1", data_dir=data)
    hits = json.loads(cli("search", "who may hand the agreement over to another company", "--meaning", "--json",
                          data_dir=data).stdout)
    assert hits and hits[0]["similarity"] > 0.3
    prefix = os.environ["CLAUSEFLOW_CHROMA_PREFIX"]
    assert _server_collections(on_server)[f"{prefix}portfolio_clauses"] > 10
