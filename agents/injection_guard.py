"""Find text in a contract that talks to an AI model or a reviewer instead of to the parties.

Contract text is untrusted data. Such text is never obeyed: it is flagged so a human sees it, and the LLM
backend additionally passes the contract as delimited data. Hidden (w:vanish) text is flagged too, since
it is the usual way to smuggle instructions past a human reader.
"""

from __future__ import annotations

import re

from document_io.legal_text import sentence_spans
from agents.schema import InjectionFlag, Span
from document_io.models import SourceDocument

_PATTERNS = [
    (r"\b(ignore|disregard|forget|override)\b[^.]{0,40}\b(previous|prior|above|earlier|all|any|your|system)\b[^.]{0,30}\b(instructions?|prompts?|rules|guidelines|playbook)", "asks to ignore instructions"),
    (r"\b(you are|act as|pretend to be)\b[^.]{0,20}\b(an? )?(ai|assistant|language model|llm|chatbot|gpt)\b", "addresses an AI model"),
    (r"\b(system|developer) (prompt|message|instructions?)\b", "mentions a system prompt"),
    (r"\b(ai|llm|language model|model|assistant|reviewer|review tool|automated review)s?\b[^.]{0,40}\b(must|should|shall|will)\b( not)? (approve|flag|report|mark|treat|classify|rate|skip)", "instructs the reviewing tool"),
    (r"\bdo not (flag|report|mention|redline|highlight|escalate)\b", "asks not to flag"),
    (r"\b(approve|accept|sign off on) (this|the) (contract|agreement)\b[^.]{0,30}\b(without|as is|as-is|immediately)", "asks for approval without review"),
    (r"\brate (this|the) (contract|agreement)[^.]{0,20}\b(low|no)[ -]risk\b", "dictates the risk rating"),
]
_COMPILED = [(re.compile(p, re.IGNORECASE), why) for p, why in _PATTERNS]


def find_injections(document: SourceDocument) -> list[InjectionFlag]:
    flags: list[InjectionFlag] = []
    for paragraph in document.paragraphs:
        if not paragraph.text.strip():
            continue
        if paragraph.hidden:  # one flag for the whole paragraph, whatever it says
            flags.append(
                InjectionFlag(
                    span=Span.of(document, paragraph.start, paragraph.end),
                    reason="text is hidden (invisible in Word), a common way to plant instructions",
                )
            )
            continue
        for start, end in sentence_spans(paragraph.text):
            sentence = paragraph.text[start:end]
            for pattern, why in _COMPILED:
                if pattern.search(sentence):
                    flags.append(
                        InjectionFlag(
                            span=Span.of(document, paragraph.start + start, paragraph.start + end),
                            reason=f"text {why}; it was not followed",
                        )
                    )
                    break
    return flags
