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
