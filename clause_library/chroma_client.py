"""Which Chroma the project talks to: the embedded store in the data folder (the default), or a Chroma server when
CLAUSEFLOW_CHROMA_URL is set (http://host:port), shared by every process and machine that points at it. Either way
the embeddings are computed on the client side by the project's offline MiniLM, never by the server."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse


def chroma_url() -> str | None:
    return os.environ.get("CLAUSEFLOW_CHROMA_URL") or None


def collection_name(base: str) -> str:
    """Several deployments (or test runs) can share one server: CLAUSEFLOW_CHROMA_PREFIX keeps their names apart."""
    prefix = os.environ.get("CLAUSEFLOW_CHROMA_PREFIX", "")
    return f"{prefix}{base}" if prefix else base


def http_client():
    import chromadb
    from chromadb.config import Settings

    url = urlparse(chroma_url())
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"CLAUSEFLOW_CHROMA_URL={chroma_url()!r}: give the server as http://host:port")
    return chromadb.HttpClient(host=url.hostname, port=url.port or (443 if url.scheme == "https" else 8000),
                               ssl=url.scheme == "https", settings=Settings(anonymized_telemetry=False))


def persistent_client(directory: Path):
    import chromadb
    from chromadb.config import Settings

    return chromadb.PersistentClient(path=str(directory), settings=Settings(anonymized_telemetry=False, allow_reset=False))
