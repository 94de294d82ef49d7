"""Where CUAD's labelled quotes lie in a document as the pipeline reads it (rebuilt as DOCX and loaded, so line breaks
and spaces differ from the dataset's text): the spans a finding is scored against."""

from __future__ import annotations

from document_io.legal_text import QuoteLocator
from document_io.models import SourceDocument
from evals.datasets import LabelledContract

MAX_PLACES_PER_QUOTE = 3  # a quote that recurs (a heading, a defined term) counts in its first few places only


def labelled_spans(document: SourceDocument, contract: LabelledContract, category: str,
                   locator: QuoteLocator | None = None) -> list[tuple[int, int]]:
    quotes = next((q for name, q in contract.labels.items() if name.lower() == category.lower()), [])
    locator = locator or QuoteLocator(document.text)
    return [span for quote in quotes for span in locator.find_all(quote)[:MAX_PLACES_PER_QUOTE]]
