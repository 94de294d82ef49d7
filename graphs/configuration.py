"""Run-time configuration: where durable state lives, who "we" are, and the review date.

Set by environment (CLAUSEFLOW_DATA_DIR, CLAUSEFLOW_OUR_NAMES, CLAUSEFLOW_TODAY) or by CLI flags.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from document_io.loader import DEFAULT_MAX_BYTES

DEFAULT_OUR_NAMES = ["Northwind Systems"]


class ReviewConfig(BaseModel):
    data_dir: Path = Field(description="checkpoints, audit log, Chroma store and stored originals")
    our_names: list[str] = Field(default_factory=lambda: list(DEFAULT_OUR_NAMES))
    today: date = Field(default_factory=date.today, description="the date deadlines are counted from")
    max_bytes: int = DEFAULT_MAX_BYTES
    backend: Literal["local", "llm"] = Field(default="local", description="llm: agents call an OpenAI-compatible endpoint")
    side: Literal["customer", "supplier"] | None = Field(default=None, description="our side, overriding detection")

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None, backend: str | None = None, side: str | None = None) -> ReviewConfig:
        """`backend` None: the LLM when OPENAI_API_KEY / OPENAI_BASE_URL (or CLAUSEFLOW_LLM_CONFIG) is set, else local."""
        from model_backends.llm_client import llm_configured

        names = os.environ.get("CLAUSEFLOW_OUR_NAMES")
        today = os.environ.get("CLAUSEFLOW_TODAY")
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
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"
