"""Chroma as a server (CLAUSEFLOW_CHROMA_URL): a real `chroma run` started for these tests and stopped after; reviews,
library search and the repository's search by meaning go through it, with the embeddings computed on our side."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES, free_port
from test_review_cli import cli

CHROMA = Path(sys.executable).parent / "chroma"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """Chroma behind its token gate, started by the project's script (scripts/chroma_server.sh) and stopped after."""
    if not CHROMA.exists():
        pytest.fail("the chromadb package installs the `chroma` server command next to python; install.sh installs it")
    folder = tempfile.mkdtemp(prefix="clauseflow-chroma-")
    script = ROOT / "scripts" / "chroma_server.sh"
    started = subprocess.run([str(script), "start", folder, str(free_port())], capture_output=True, text=True,
                             timeout=120, env={**os.environ, "PYTHON": sys.executable})
    assert started.returncode == 0, started.stderr
    settings = dict(line.split("=", 1) for line in started.stdout.split())
    yield settings
    subprocess.run([str(script), "stop", folder], capture_output=True, timeout=60)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def on_server(chroma_server, monkeypatch, request):
    monkeypatch.setenv("CLAUSEFLOW_CHROMA_URL", chroma_server["CLAUSEFLOW_CHROMA_URL"])
    monkeypatch.setenv("CLAUSEFLOW_CHROMA_TOKEN", chroma_server["CLAUSEFLOW_CHROMA_TOKEN"])
    monkeypatch.setenv("CLAUSEFLOW_CHROMA_PREFIX", f"t{abs(hash(request.node.name)) % 10**8}_")
    return chroma_server["CLAUSEFLOW_CHROMA_URL"]


def test_the_server_answers_only_with_the_token_and_says_so_naming_chroma(on_server, monkeypatch, tmp_path):
    """chromadb 1.x's server has no authentication: it listens on loopback only, behind a gate that wants the token.
    Without it nothing can be read or written; the CLI names Chroma and its URL in one line."""
    import httpx

    create = {"name": "planted", "configuration": {}, "metadata": None, "get_or_create": True}
    collections = f"{on_server}/api/v2/tenants/default_tenant/databases/default_database/collections"
    for headers in ({}, {"X-Chroma-Token": "0" * 64}, {"Authorization": "Bearer wrong"}):
        assert httpx.post(collections, json=create, headers=headers).status_code == 401
        assert httpx.get(collections, headers=headers).status_code == 401
    token = {"X-Chroma-Token": os.environ["CLAUSEFLOW_CHROMA_TOKEN"]}
    assert "planted" not in httpx.get(collections, headers=token).text  # nothing was created by the refused calls

    monkeypatch.setenv("CLAUSEFLOW_CHROMA_TOKEN", "0" * 64)
    refused = cli("library", "search", "cap on liability", data_dir=tmp_path / "d", check=False)
    assert refused.returncode == 1 and refused.stderr.strip() == (
        f"error: the Chroma server at {on_server} refused us: the token was not accepted")
    monkeypatch.delenv("CLAUSEFLOW_CHROMA_TOKEN")
    assert "it needs CLAUSEFLOW_CHROMA_TOKEN" in cli("library", "search", "x", data_dir=tmp_path / "d", check=False).stderr
    monkeypatch.setenv("CLAUSEFLOW_CHROMA_URL", f"http://127.0.0.1:{free_port()}")
    away = cli("library", "search", "x", data_dir=tmp_path / "d", check=False)
    assert away.stderr.startswith("error: the Chroma server at http://127.0.0.1:") and "cannot be reached" in away.stderr
    assert len(away.stderr.splitlines()) == 1


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
