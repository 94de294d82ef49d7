"""Shared resources of the offline engine: the clause library, its Chroma store, the embedder
and the clause model.

Built once per process (loading the ONNX model and opening Chroma take about a second) and handed to the
agents, which stay stateless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from clause_library.playbook import ClauseLibrary, default_library
from clause_library.vector_store import ClauseStore, Prototypes
from model_backends.clause_model import ClauseModel, shipped_model
from model_backends.embeddings import MiniLMEmbedder, get_embedder


@dataclass
class LocalEngine:
    data_dir: Path
    library: ClauseLibrary = field(default_factory=default_library)

    @cached_property
    def store(self) -> ClauseStore:
        store = ClauseStore(self.data_dir / "chroma")
        store.ensure_indexed(self.library)
        return store

    @cached_property
    def prototypes(self) -> Prototypes:
        return self.store.prototypes()

    @cached_property
    def clause_model(self) -> ClauseModel:
        return shipped_model()

    @property
    def embedder(self) -> MiniLMEmbedder:
        return get_embedder()
