"""Answers that parse but say nothing about this contract: a small model handing back the prompt's example answer
(type "msa" with Acme Widgets, "Spend fell 20%" on a contract with no spend data). Such an answer is invalid, like
malformed JSON: asked again, then reported as unusable, never merged into a review."""

from __future__ import annotations

import re

_DISTINCTIVE = 12  # shorter strings ("msa", "preferred") are a schema's vocabulary, not the example's content


def _leaves(value, key: str = "") -> list[tuple[str, str]]:
    """(key, text) of every string in a JSON value."""
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, k)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item, key)]
    return [(key, value)] if isinstance(value, str) else []


_SUFFIXES = re.compile(r"\b(inc|incorporated|ltd|limited|llc|llp|plc|gmbh|ag|corp|corporation|co|sa|bv)\b")


def _normal(text: str) -> str:
    """Lower case, punctuation and company suffixes gone: "Northwind Systems, Inc." is "northwind systems"."""
    return " ".join(_SUFFIXES.sub(" ", re.sub(r"[^\w%]+", " ", text.lower())).split())


def copied_example(answer: dict, example: dict | None, sent_text: str) -> str | None:
    """Why `answer` is the example rather than a reading of the contract, or None. Text the example shares with
    what was sent (a party named in the contract, the approved clause) is no sign of copying."""
    if not example:
        return None
    if answer == example:
        return "the answer is the prompt's example"
    sent = _normal(sent_text)
    distinctive = [(k, _normal(t)) for k, t in _leaves(example) if len(t) >= _DISTINCTIVE and _normal(t) not in sent]
    if not distinctive:
        return None
    given = {_normal(t) for _, t in _leaves(answer)}
    copied = [(k, t) for k, t in distinctive if t in given]
    if not copied:
        return None
    # a copied name or figure is a fact this contract does not state; so is most of the example at once
    if any(k == "name" or re.search(r"\d", t) for k, t in copied) or (len(copied) >= 2 and 2 * len(copied) >= len(distinctive)):
        return f"the answer repeats the prompt's example (“{copied[0][1][:60]}”), which this contract does not say"
    return None
