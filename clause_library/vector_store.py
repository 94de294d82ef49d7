"""The approved clauses in a persistent Chroma collection, embedded with the offline MiniLM model.

Chroma's default embedding function downloads an ONNX model, so this store always passes its own
(registered so Chroma can rebuild it from the collection's config) — on create and on every get.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clause_library.playbook import ClauseLibrary
from document_io.file_locks import file_lock

COLLECTION = "approved_clauses"


def _embedding_function_class():
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    @register_embedding_function
    class OfflineMiniLM(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Embeddings:
            from model_backends.embeddings import get_embedder

            return [row for row in get_embedder().embed(list(input))]

        @staticmethod
        def name() -> str:
            return "clauseflow-offline-minilm"

        def get_config(self) -> dict:
            return {}

        @staticmethod
        def build_from_config(config: dict) -> OfflineMiniLM:
            return OfflineMiniLM()

    return OfflineMiniLM


_EMBEDDING_CLASS = None


def offline_embedding_function():
    global _EMBEDDING_CLASS
    if _EMBEDDING_CLASS is None:
        _EMBEDDING_CLASS = _embedding_function_class()
    return _EMBEDDING_CLASS()


@dataclass(frozen=True)
class LibraryHit:
    category_id: str
    kind: str  # "approved_clause" | "description" | "sentence"
    text: str
    similarity: float


@dataclass(frozen=True)
class Prototypes:
    """All indexed texts with their vectors, for fast in-memory scoring of many document sentences."""

    category_ids: list[str]
    vectors: np.ndarray


def library_fingerprint(library: ClauseLibrary) -> str:
    digest = hashlib.sha256()
    for category in sorted(library.categories.values(), key=lambda c: c.id):
        digest.update(category.model_dump_json().encode())
    return digest.hexdigest()[:16]


def _entries(library: ClauseLibrary) -> list[tuple[str, str, str, str]]:
    """(id, category, kind, text) for everything indexed: the clause, its sentences and its description."""
    rows = []
    for category in library.categories.values():
        rows.append((f"{category.id}:clause", category.id, "approved_clause", category.approved_clause))
        rows.append((f"{category.id}:description", category.id, "description", f"{category.label}. {category.description}"))
        sentences = [s for s in re.split(r"(?<=[.;])\s+", category.approved_clause) if len(s) > 30]
        for n, sentence in enumerate(sentences if len(sentences) > 1 else []):
            rows.append((f"{category.id}:sentence:{n}", category.id, "sentence", sentence))
    return rows


class ClauseStore:
    """The approved clauses in Chroma. Embedded (the default): one collection in the data folder, rebuilt when the
    library changes. On a server (CLAUSEFLOW_CHROMA_URL): one collection per library version, named by its
    fingerprint and filled with upserts of fixed ids, so any number of processes on any machines can build it at
    once without deleting each other's work."""

    def __init__(self, directory: Path) -> None:
        from clause_library.chroma_client import chroma_url, http_client, persistent_client

        self._path = directory
        self._server = chroma_url() is not None
        self._name = COLLECTION
        self._embedding = offline_embedding_function()
        if self._server:
            self._client = http_client()
            return
        directory.mkdir(parents=True, exist_ok=True)
        with self._rebuild_lock():  # opening a fresh store creates its tables; two processes at once collide
            self._client = persistent_client(directory)

    def _collection(self, create: bool = False):
        if create:
            return self._client.get_or_create_collection(
                self._name, embedding_function=self._embedding, metadata={"hnsw:space": "cosine"}
            )
        return self._client.get_collection(self._name, embedding_function=self._embedding)

    def is_current(self, library: ClauseLibrary) -> bool:
        try:
            collection = self._collection()
        except Exception:  # collection does not exist yet
            return False
        # The fingerprint is set when the collection is created, before its rows are added, so a
        # store another process is still filling is not yet current: the row count must match too.
        return (collection.metadata or {}).get("library_fingerprint") == library_fingerprint(
            library
        ) and collection.count() == len(_entries(library))

    def _rebuild_lock(self):
        # Two processes starting on a fresh or outdated store (two batches on one inbox) would both
        # create its tables, or both delete and create the collection, and one fails. One does it, the other waits.
        return file_lock(self._path / "rebuild.lock", wait_s=300, busy=f"the clause store at {self._path} is being rebuilt")

    def index(self, library: ClauseLibrary) -> int:
        """(Re)build the collection from the YAML library; returns the number of indexed texts."""
        if self._server:
            return self._fill_versioned(library)
        with self._rebuild_lock():
            return self._rebuild(library)

    def _versioned(self, library: ClauseLibrary) -> None:
        """On a server: this library version's own collection."""
        from clause_library.chroma_client import collection_name

        self._name = collection_name(f"{COLLECTION}_{library_fingerprint(library)}")

    def _fill_versioned(self, library: ClauseLibrary) -> int:
        fingerprint = library_fingerprint(library)
        self._versioned(library)
        collection = self._client.get_or_create_collection(
            self._name, embedding_function=self._embedding,
            metadata={"hnsw:space": "cosine", "library_fingerprint": fingerprint})
        rows = _entries(library)
        collection.upsert(ids=[r[0] for r in rows], documents=[r[3] for r in rows],
                          metadatas=[{"category": r[1], "kind": r[2]} for r in rows])
        return len(rows)

    def _rebuild(self, library: ClauseLibrary) -> int:
        try:
            self._client.delete_collection(COLLECTION)
        except Exception:  # nothing to delete on first run
            pass
        collection = self._client.create_collection(
            COLLECTION,
            embedding_function=self._embedding,
            metadata={"hnsw:space": "cosine", "library_fingerprint": library_fingerprint(library)},
        )
        rows = _entries(library)
        collection.add(
            ids=[r[0] for r in rows],
            documents=[r[3] for r in rows],
            metadatas=[{"category": r[1], "kind": r[2]} for r in rows],
        )
        return len(rows)

    def ensure_indexed(self, library: ClauseLibrary) -> None:
        if self._server:
            self._versioned(library)
            if not self.is_current(library):
                self._fill_versioned(library)
            return
        # Checked under the lock too: a process that looks at a collection another is still filling
        # can keep a broken reader for it ("Error creating hnsw segment reader").
        with self._rebuild_lock():
            if not self.is_current(library):
                self._rebuild(library)

    def search(self, text: str, *, limit: int = 5, category: str | None = None,
               library: ClauseLibrary | None = None) -> list[LibraryHit]:
        """The library's texts nearest in meaning. Chroma only ranks: each hit's text is the library file's own for that
        row, and a row whose stored text differs from the file's (a client that can write to a shared Chroma server
        rewrote it) is dropped, never shown or used."""
        from clause_library.playbook import default_library

        texts = {row[0]: row[3] for row in _entries(library or default_library())}
        collection = self._collection()
        where = {"category": category} if category else None
        result = collection.query(query_texts=[text], n_results=limit, where=where)
        hits = []
        for row_id, doc, meta, distance in zip(result["ids"][0], result["documents"][0], result["metadatas"][0],
                                               result["distances"][0]):
            if texts.get(row_id) != doc:
                continue  # not the approved text: changed in the store, or from another library version
            hits.append(LibraryHit(meta["category"], meta["kind"], texts[row_id], round(1.0 - float(distance), 4)))
        return hits

    def prototypes(self) -> Prototypes:
        result = self._collection().get(include=["embeddings", "metadatas"])
        if not result["metadatas"]:
            raise RuntimeError(f"the clause store at {self._path} is empty; run `python app.py library index`")
        return Prototypes(
            category_ids=[m["category"] for m in result["metadatas"]],
            vectors=np.asarray(result["embeddings"], dtype=np.float32),
        )
