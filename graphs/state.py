"""The graph's state. Values are plain JSON (pydantic `model_dump(mode="json")`) so checkpoints stay
readable and load in any later version; nodes validate them back into the agents' models."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


def merge_decisions(current: dict[str, Any] | None, update: dict[str, Any] | None) -> dict[str, Any]:
    """Later decisions on the same suggestion replace earlier ones (the audit log keeps every one)."""
    return {**(current or {}), **(update or {})}


def merge_usage(current: dict[str, Any] | None, update: dict[str, Any] | None) -> dict[str, Any]:
    """Token usage per agent; agents that run in parallel each add their own key."""
    return {**(current or {}), **(update or {})}


class ReviewState(TypedDict, total=False):
    # input
    document: dict
    base_docx_path: str
    output_dir: str
    our_names: list[str]
    side: str | None  # our side when the reviewer gave it (review --side, or the answer to "Which party are we?")
    suggestion_prefix: str  # "S" at first; "S2-" once the reviewer settled our side and the suggestions were redone
    redo_for_side: bool  # set by the answer to "Which party are we?" until the side-dependent agents ran again
    today: str
    spend: list[dict]
    performance: list[dict]
    request: dict | None  # the intake request (business context), when the review came through intake
    round_of: str | None  # the thread of the version we sent, when this is the counterparty's next round
    # agents' outputs (and, on the LLM backend, each agent's token usage)
    backend: str
    llm_usage: Annotated[dict[str, dict], merge_usage]
    llm_run: Annotated[dict[str, dict], merge_usage]  # per agent: the model, the output mode that worked, the prompt version
    model_notes: Annotated[list[str], operator.add]  # what the model confirmed, added or failed to answer, per agent
    profile: dict
    extraction: dict
    compliance: dict
    redlines: dict
    brief: dict
    # human review
    decisions: Annotated[dict[str, dict], merge_decisions]
    signed_off_by: str
    comments: dict[str, list[dict]]  # each suggestion's comment thread from the log, handed over at sign-off
    signed_off_at: str
    rounds: list[str]  # handed over at sign-off: the negotiation round this review answers, as report lines
    sign_off_steps_done: list[str]  # handed over at sign-off: the steps of a sequential sign-off, as report lines
    # finalisation
    outputs: dict
