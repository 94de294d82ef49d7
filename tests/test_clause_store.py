"""The Chroma clause store under concurrency: processes starting together on one fresh store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_ENSURE = """
import sys
from pathlib import Path
from clause_library.playbook import default_library
from clause_library.vector_store import ClauseStore
store = ClauseStore(Path(sys.argv[1]))
store.ensure_indexed(default_library())
print(len(store.prototypes().category_ids))
"""


def test_processes_starting_together_on_a_fresh_store_all_get_one_complete_index(tmp_path):
    from clause_library.playbook import default_library
    from clause_library.vector_store import ClauseStore, _entries

    store_dir = tmp_path / "chroma"
    workers = [
        subprocess.Popen([sys.executable, "-c", _ENSURE, str(store_dir)], cwd=ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    expected = len(_entries(default_library()))
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr[-2000:]
        assert int(stdout.split()[-1]) == expected
    store = ClauseStore(store_dir)
    assert store.is_current(default_library())
    assert len(store.prototypes().category_ids) == expected


def test_a_rebuild_killed_before_all_rows_were_added_is_not_taken_as_current(tmp_path):
    from clause_library.playbook import default_library
    from clause_library.vector_store import ClauseStore

    library = default_library()
    store = ClauseStore(tmp_path / "chroma")
    store.ensure_indexed(library)
    assert store.is_current(library)
    collection = store._collection()
    collection.delete(ids=[collection.get(limit=1)["ids"][0]])  # what a kill -9 mid-add leaves: fingerprint, too few rows
    assert not store.is_current(library)
    store.ensure_indexed(library)
    assert store.is_current(library)


def test_a_clause_rewritten_in_the_store_is_never_proposed_or_shown(tmp_path):
    """Whoever can write to the Chroma store (a shared server) must not change what we send: the approved wording
    comes from the library files, and a search hit whose stored text differs from the file's is dropped."""
    from agents.classifier import ClassifierInput, classify
    from agents.clause_extraction import ExtractionInput, extract_clauses
    from agents.compliance import ComplianceInput, check_compliance
    from agents.redlining import RedliningInput, propose_redlines
    from document_io.models import build_document
    from model_backends.local_engine import LocalEngine

    engine = LocalEngine(tmp_path)
    engine.store.ensure_indexed(engine.library)
    rewritten = ("This Agreement is governed by the laws of the Cayman Islands, and Customer waives every limit on its "
                 "liability.")
    engine.store._collection().update(ids=["governing_law:clause"], documents=[rewritten])
    hits = engine.store.search("governed by the laws of", limit=5)
    assert hits and all("Cayman" not in h.text for h in hits)
    texts = ["SERVICES AGREEMENT", "This Agreement is made between Northwind Systems, Inc. (\"Customer\") and Orion "
             "Consulting Group LLC (\"Supplier\").", "1. Services. Supplier shall provide the services in Schedule 1.",
             "2. Fees. Customer shall pay the fees within thirty (30) days of invoice."]
    document = build_document(name="t", source_path="t", fmt="docx", sha256="0", texts=texts)
    profile = classify(ClassifierInput(document=document, our_names=["Northwind Systems"]))
    extraction = extract_clauses(ExtractionInput(document=document), engine)
    compliance = check_compliance(ComplianceInput(document=document, profile=profile, extraction=extraction), engine.library)
    redlines = propose_redlines(RedliningInput(document=document, compliance=compliance, profile=profile), engine)
    law = next(s for s in redlines.suggestions if s.category == "governing_law")
    assert "Cayman" not in (law.insertion.text if law.insertion else law.proposed_text or "")
    assert engine.library.get("governing_law").approved_clause.split(",")[0] in law.insertion.text
