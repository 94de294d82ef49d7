"""Run-time configuration: where durable state lives, who "we" are, and the review date.

Set by environment (CLAUSEFLOW_DATA_DIR, CLAUSEFLOW_OUR_NAMES, CLAUSEFLOW_TODAY, CLAUSEFLOW_DATABASE_URL) or by CLI
flags.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from document_io.loader import DEFAULT_MAX_BYTES
from graphs.database import is_database_url

DEFAULT_OUR_NAMES = ["Northwind Systems"]


class ReviewConfig(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)  # a database URL may carry a password

    data_dir: Path = Field(description="checkpoints, audit log, Chroma store and stored originals")
    our_names: list[str] = Field(default_factory=lambda: list(DEFAULT_OUR_NAMES))
    today: date = Field(default_factory=date.today, description="the date deadlines are counted from")
    max_bytes: int = DEFAULT_MAX_BYTES
    backend: Literal["local", "llm"] = Field(default="local", description="llm: agents call an OpenAI-compatible endpoint")
    side: Literal["customer", "supplier"] | None = Field(default=None, description="our side, overriding detection")
    database_url: str | None = Field(
        default_factory=lambda: os.environ.get("CLAUSEFLOW_DATABASE_URL") or None, validate_default=True,
        description="postgresql://…: checkpoints, decision log, accounts and review index in a shared PostgreSQL "
                    "database instead of SQLite files in data_dir")

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, url: str | None) -> str | None:
        if url is not None and not is_database_url(url):
            raise ValueError("CLAUSEFLOW_DATABASE_URL must be a postgresql:// URL")
        return url

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None, backend: str | None = None, side: str | None = None) -> ReviewConfig:
        """`backend` None: the LLM when OPENAI_API_KEY / OPENAI_BASE_URL (or CLAUSEFLOW_LLM_CONFIG) is set, else local."""
        from model_backends.llm_client import llm_configured

        names = os.environ.get("CLAUSEFLOW_OUR_NAMES")
        today = os.environ.get("CLAUSEFLOW_TODAY")
        url = os.environ.get("CLAUSEFLOW_DATABASE_URL") or None
        if url is not None and not is_database_url(url):  # said without the URL: it may carry a password
            scheme = url.split("://", 1)[0][:20] if "://" in url else "no scheme"
            raise ValueError(f"CLAUSEFLOW_DATABASE_URL must be a postgresql:// URL (it has {scheme!r})")
        return cls(
            data_dir=Path(data_dir or os.environ.get("CLAUSEFLOW_DATA_DIR") or "data").resolve(),
            our_names=[n.strip() for n in names.split(";")] if names else list(DEFAULT_OUR_NAMES),
            **({"today": date.fromisoformat(today)} if today else {}),
            backend=backend or os.environ.get("CLAUSEFLOW_BACKEND") or ("llm" if llm_configured() else "local"),
            side=side or os.environ.get("CLAUSEFLOW_SIDE") or None,
        )

    @property
    def checkpoint_path(self) -> Path:
        return self.data_dir / "checkpoints.sqlite"

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "reviews.sqlite"

    @property
    def audit_store(self) -> Path | str:
        """Where the decision log, review index and accounts live: the shared database, or a file in data_dir."""
        return self.database_url or self.audit_path

    @property
    def checkpoint_store(self) -> Path | str:
        return self.database_url or self.checkpoint_path

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"
