"""The repository's clauses by meaning: a Chroma collection (data/portfolio_chroma) of every filed contract's clause
texts, embedded with the same offline MiniLM as the clause library, for search by meaning beside FTS5's words.

Derived data, kept in step with the repository by content: `catch_up` embeds the contracts filed (or re-filed)
since their vectors were written, under a file lock so two processes never write at once. Chroma's local mode
does not show one process's writes to a reader another process opened earlier, so a reader compares the
repository's vector version with the one it opened at and reopens its client when another process wrote since.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from document_io.file_locks import file_lock
from portfolio.records import WHOLE_TEXT
from portfolio.repository import Repository

COLLECTION = "portfolio_clauses"


class MeaningHit(BaseModel):
    contract_id: str
    category: str
    start: int
    end: int
    text: str
    similarity: float


class ClauseVectors:
    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._client = None
        self._collection = None
        self._opened_at: int | None = None

    def _open(self, version: int) -> None:
        from clause_library.chroma_client import chroma_url, collection_name, http_client, persistent_client
        from clause_library.vector_store import offline_embedding_function

        if self._client is not None:
            self._client.close()  # releases this path's shared system, so the next client reads the files afresh
        if chroma_url():  # a server: every client sees every write, the version check only costs a new client
            self._client = http_client()
        else:
            self._dir.mkdir(parents=True, exist_ok=True)
            with file_lock(self._dir / "open.lock", wait_s=120, busy="the clause vectors are being opened"):
                self._client = persistent_client(self._dir)
        self._collection = self._client.get_or_create_collection(
            collection_name(COLLECTION), embedding_function=offline_embedding_function(), metadata={"hnsw:space": "cosine"})
        self._opened_at = version

    def _current(self, repository: Repository):
        version = repository.vectors_version()
        if self._collection is None or version != self._opened_at:
            self._open(version)
        return self._collection

    def catch_up(self, repository: Repository) -> int:
        """Embed the clauses of every contract filed since its vectors were written; returns how many contracts."""
        stale = repository.stale_vectors()
        if not stale:
            return 0
        self._dir.mkdir(parents=True, exist_ok=True)
        with file_lock(self._dir / "write.lock", wait_s=600, busy="the clause vectors are being written"):
            collection = self._current(repository)
            stale = repository.stale_vectors()  # another process may have written them while this one waited
            for start in range(0, len(stale), 50):
                chunk = stale[start:start + 50]
                ids, documents, metadatas = [], [], []
                for contract_id, _ in chunk:
                    collection.delete(where={"contract_id": contract_id})
                    record = repository.contract(contract_id)
                    seen: set[tuple[int, int]] = set()
                    for clause in record.clauses if record else []:
                        if (clause.start, clause.end) in seen or len(clause.text) < 20 or clause.category == WHOLE_TEXT:
                            continue  # one vector per span (a clause in two categories is the same text); the
                            # uncategorised sentences are for word search: embedding them all costs minutes a batch
                        seen.add((clause.start, clause.end))
                        ids.append(f"{contract_id}:{clause.start}:{clause.end}")
                        documents.append(clause.text[:2000])
                        metadatas.append({"contract_id": contract_id, "category": clause.category, "start": clause.start,
                                          "end": clause.end})
                if ids:  # fixed ids: a second writer (another machine on the same server) overwrites, never doubles
                    collection.upsert(ids=ids, documents=documents, metadatas=metadatas)
                repository.mark_vectors(chunk)
            self._opened_at = repository.vectors_version()  # this client has seen its own writes
        return len(stale)

    def query(self, repository: Repository, text: str, limit: int = 200) -> list[MeaningHit]:
        collection = self._current(repository)
        if collection.count() == 0:
            return []
        found = collection.query(query_texts=[text], n_results=min(limit, collection.count()))
        return [MeaningHit(contract_id=m["contract_id"], category=m["category"], start=m["start"], end=m["end"], text=d,
                           similarity=round(1.0 - float(distance), 4))
                for d, m, distance in zip(found["documents"][0], found["metadatas"][0], found["distances"][0])]
