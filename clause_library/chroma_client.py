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


class ChromaUnavailable(RuntimeError):
    """The Chroma server could not be reached (perhaps for a moment); the message names it and its URL."""


class ChromaRefused(RuntimeError):
    """The Chroma server (its gate) refused our token: that does not pass by waiting."""


def http_client():
    """A client of the server at CLAUSEFLOW_CHROMA_URL, sending CLAUSEFLOW_CHROMA_TOKEN (the gate in front of the server
    refuses requests without it); checked with one heartbeat, so a server that is away or refuses the token is one
    line naming Chroma and its URL, not an HTTP library's error."""
    import chromadb
    from chromadb.config import Settings

    url = urlparse(chroma_url())
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError("CLAUSEFLOW_CHROMA_URL: give the Chroma server as http://host:port")
    token = os.environ.get("CLAUSEFLOW_CHROMA_TOKEN", "")
    port = url.port or (443 if url.scheme == "https" else 8000)
    shown = f"{url.scheme}://{url.hostname}:{port}"  # without any credentials the URL carried
    try:
        client = chromadb.HttpClient(host=url.hostname, port=port,
                                     ssl=url.scheme == "https", headers={"X-Chroma-Token": token} if token else None,
                                     settings=Settings(anonymized_telemetry=False))
        client.heartbeat()
    except Exception as exc:
        text = " ".join(str(exc).split())
        if "401" in text or "Unauthorized" in text or "token" in text.lower():
            raise ChromaRefused(f"the Chroma server at {shown} refused us: "
                                    f"{'the token was not accepted' if token else 'it needs CLAUSEFLOW_CHROMA_TOKEN'}") from None
        raise ChromaUnavailable(f"the Chroma server at {shown} cannot be reached: {text[:200] or type(exc).__name__}") from None
    return client


def persistent_client(directory: Path):
    import chromadb
    from chromadb.config import Settings

    return chromadb.PersistentClient(path=str(directory), settings=Settings(anonymized_telemetry=False, allow_reset=False))
