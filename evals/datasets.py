"""Labelled contracts for evaluation and training, behind one small adapter interface.

A dataset yields `LabelledContract`s: the contract text, its gold contract type when known, and per category
the labelled clause texts (an empty list means "labelled, and absent"). Adapters here:
  - `SamplesDataset`: the project's own samples (samples/labels.yaml, library taxonomy), always available;
  - `CuadDataset`: CUAD v1, either the published SQuAD-style JSON (CUAD_v1.json, train/test files) or
    master_clauses.csv + full_contract_txt/ (the layout in ../shared/datasets/cuad).
Another labelled set (ContractNLI, a firm's own) needs only a class with `name`, `taxonomy`, `categories`
and `contracts()`.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Protocol

import yaml
from pydantic import BaseModel

from agents.schema import ContractType

Split = Literal["train", "dev", "all"]
Taxonomy = Literal["cuad", "library"]
REPOSITORY = Path(__file__).resolve().parent.parent
SHARED_CUAD = REPOSITORY.parent / "shared" / "datasets" / "cuad"
DEV_FRACTION_PERCENT = 20


class DatasetUnavailable(RuntimeError):
    """The dataset's files are not where they were looked for."""


class LabelledContract(BaseModel):
    id: str
    title: str
    text: str
    contract_type: ContractType | None = None
    labels: dict[str, list[str]]
    answers: dict[str, str] = {}  # CUAD master_clauses.csv "<Category>-Answer" cells (normalised facts), when shipped


class Dataset(Protocol):
    name: str
    taxonomy: Taxonomy
    categories: list[str]

    def contracts(self, split: Split = "dev") -> Iterator[LabelledContract]: ...


def split_of(contract_id: str) -> Literal["train", "dev"]:
    """Deterministic split by a hash of the normalised id: the same contract is always on the same side."""
    digest = hashlib.sha1(_normalised_name(contract_id).encode()).digest()
    return "dev" if digest[0] * 100 // 256 < DEV_FRACTION_PERCENT else "train"


def _normalised_name(name: str) -> str:
    """The key the dev/train split hashes (unchanged, so no contract changes side)."""
    stem = re.sub(r"\.(pdf|txt|PDF|TXT)$", "", name.strip())
    return re.sub(r"[^A-Z0-9]", "", stem.upper())


def _file_key(name: str) -> str:
    """The key that pairs a label row with its text file, tolerant of what CUAD's CSV does to names: a stray quote
    after the extension ("…AGREEMENT.PDF'") and accents in another Unicode form ("LECLANCHÉ", composed or not)."""
    name = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    stem = re.sub(r"\.(pdf|txt)$", "", name.strip().strip("'\"").strip(), flags=re.IGNORECASE)
    return re.sub(r"[^A-Z0-9]", "", stem.upper())


# --- CUAD -------------------------------------------------------------------------------------------

# CUAD's file names end in the agreement's kind; map the kinds we have a contract type for.
_CUAD_TYPE_WORDS: list[tuple[str, ContractType]] = [
    ("NON-DISCLOSURE", "nda"), ("CONFIDENTIALITY AGREEMENT", "nda"),
    ("DISTRIBUT", "distribution"), ("RESELLER", "reseller"), ("FRANCHISE", "franchise"),
    ("JOINT VENTURE", "joint_venture"), ("HOSTING", "saas"), ("SUPPLY", "supply"), ("MANUFACTUR", "supply"),
    ("LICENS", "licence"), ("STATEMENT OF WORK", "sow"), ("MASTER SERVICES", "msa"),
    ("SERVICE", "services"), ("CONSULTING", "services"), ("OUTSOURCING", "services"), ("MAINTENANCE", "services"),
]


def cuad_contract_type(file_name: str) -> ContractType:
    kind = re.sub(r"\.(pdf|txt)$", "", file_name, flags=re.IGNORECASE).rsplit("-", 1)[-1].upper()
    for word, contract_type in _CUAD_TYPE_WORDS:
        if word in kind:
            return contract_type
    return "other"


class CuadDataset:
    """CUAD v1 from a folder holding CUAD_v1.json (or train/test JSON), or master_clauses.csv + full_contract_txt/."""

    name = "cuad"
    taxonomy: Taxonomy = "cuad"

    def __init__(self, root: Path | str = SHARED_CUAD) -> None:
        self.root = Path(root)
        self._json_files = sorted(self.root.glob("*.json")) if self.root.is_dir() else []
        self._csv = self.root / "master_clauses.csv"
        if not self._json_files and not (self._csv.is_file() and (self.root / "full_contract_txt").is_dir()):
            raise DatasetUnavailable(
                f"no CUAD found at {self.root}: expected CUAD_v1.json, or master_clauses.csv with full_contract_txt/ "
                "(python app.py eval download-cuad DIR fetches it where there is internet)"
            )
        self.categories = self._read_categories()

    def _read_categories(self) -> list[str]:
        if self._json_files:
            categories: list[str] = []
            for contract in self._json_contracts():
                for category in contract.labels:
                    if category not in categories:
                        categories.append(category)
            return categories
        with self._csv.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        return [c for c in header[1:] if not c.endswith("-Answer")]

    def contracts(self, split: Split = "dev") -> Iterator[LabelledContract]:
        source = self._json_contracts() if self._json_files else self._csv_contracts()
        for contract in source:
            if split == "all" or split_of(contract.id) == split:
                yield contract

    def skipped(self) -> list[str]:
        """What the CSV labels but this copy cannot serve, each with the reason: rows whose text is not shipped (the
        held-out part) and texts with no label row."""
        if self._json_files:
            return []
        texts = {_file_key(p.name): p.name for p in (self.root / "full_contract_txt").glob("*.txt")}
        with self._csv.open(newline="", encoding="utf-8") as handle:
            rows = {_file_key(row["Filename"]): row["Filename"] for row in csv.DictReader(handle)}
        return ([f"{name}: labelled, but its text is not in full_contract_txt/" for key, name in rows.items() if key not in texts]
                + [f"{name}: text without a label row" for key, name in texts.items() if key not in rows])

    def _csv_contracts(self) -> Iterator[LabelledContract]:
        texts = {_file_key(p.name): p for p in (self.root / "full_contract_txt").glob("*.txt")}
        with self._csv.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                path = texts.get(_file_key(row["Filename"]))
                if path is None:
                    continue  # a labelled row whose text is not shipped (the held-out part): listed by skipped()
                labels = {c: _literal_list(row.get(c, "")) for c in self.categories}
                answers = {c: row.get(f"{c}-Answer", "").strip() for c in self.categories if row.get(f"{c}-Answer", "").strip()}
                yield LabelledContract(
                    id=path.stem, title=path.stem, text=path.read_text(encoding="utf-8", errors="replace"),
                    contract_type=cuad_contract_type(path.name), labels=labels, answers=answers,
                )

    def _json_contracts(self) -> Iterator[LabelledContract]:
        seen: set[str] = set()
        for path in self._json_files:
            for item in json.loads(path.read_text(encoding="utf-8"))["data"]:
                if item["title"] in seen:
                    continue
                seen.add(item["title"])
                labels: dict[str, list[str]] = {}
                text = ""
                for paragraph in item["paragraphs"]:
                    text = paragraph["context"]
                    for qa in paragraph["qas"]:
                        category = _category_from_question_id(qa["id"])
                        labels[category] = [a["text"] for a in qa["answers"]]
                yield LabelledContract(
                    id=item["title"], title=item["title"], text=text,
                    contract_type=cuad_contract_type(item["title"]), labels=labels,
                )


def _category_from_question_id(question_id: str) -> str:
    # CUAD question ids are "<contract title>__<Category>"
    return question_id.rsplit("__", 1)[-1]


def _literal_list(cell: str) -> list[str]:
    cell = cell.strip()
    if not cell:
        return []
    try:
        value = ast.literal_eval(cell)
    except (ValueError, SyntaxError):
        return [cell]
    return [str(v) for v in value if str(v).strip()] if isinstance(value, list) else [str(value)]


# --- the project's samples --------------------------------------------------------------------------


class SamplesDataset:
    """The samples shipped in samples/: contract type (labels.yaml) and clause texts per library category
    (clause_labels.yaml)."""

    name = "samples"
    taxonomy: Taxonomy = "library"

    def __init__(self, folder: Path | str = REPOSITORY / "samples") -> None:
        self.folder = Path(folder)
        self._labels = yaml.safe_load((self.folder / "labels.yaml").read_text(encoding="utf-8"))
        self._clauses = yaml.safe_load((self.folder / "clause_labels.yaml").read_text(encoding="utf-8"))
        self.categories = sorted({c for labels in self._clauses.values() for c in labels})

    def contracts(self, split: Split = "all") -> Iterator[LabelledContract]:
        from document_io.loader import load_document

        for sample_id, entry in self._labels.items():
            document = load_document(self.folder / entry["files"][0])
            clauses = self._clauses.get(sample_id, {})
            yield LabelledContract(
                id=sample_id, title=document.name, text=document.text, contract_type=entry["contract_type"],
                labels={c: list(clauses.get(c, [])) for c in self.categories},
            )


def open_dataset(name: str, path: str | Path | None = None) -> Dataset:
    if name == "samples":
        return SamplesDataset(path) if path else SamplesDataset()
    if name == "cuad":
        return CuadDataset(path) if path else CuadDataset()
    raise ValueError(f"unknown dataset {name!r}; known: samples, cuad")
