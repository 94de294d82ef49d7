"""The injection guard's recall and false-positive rate:

    python benchmarks/injection_guard.py

- on the labelled corpus (tests/fixtures/injection_corpus.yaml), each item planted as one paragraph of a short
  contract: the in-sample set the guard was built from, and two held-out batches written afterwards;
- on real paper: every CUAD contract (no planted text), as re-flowed paragraphs; a flag there is a false positive.

Writes benchmarks/reports/injection-guard.json; the README quotes it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import write_report  # noqa: E402

from agents.injection_guard import find_injections  # noqa: E402
from document_io.models import build_document  # noqa: E402

_AROUND = ["SERVICES AGREEMENT", "The Supplier shall provide the Services described in Schedule 1.", None,
           "This Agreement is governed by the laws of England."]


def flagged(text: str) -> bool:
    texts = [text if t is None else t for t in _AROUND]
    return bool(find_injections(build_document(name="t", source_path="t", fmt="docx", sha256="0", texts=texts)))


def rates(attacks: list[str], benign: list[str]) -> dict:
    missed = [a for a in attacks if not flagged(a)]
    false = [b for b in benign if flagged(b)]
    return {"attacks": len(attacks), "recall": round(1 - len(missed) / len(attacks), 3), "benign": len(benign),
            "false_positive_rate": round(len(false) / len(benign), 3), "missed": missed, "false_positives": false}


def cuad_false_positives() -> dict:
    from evals.cuad_docx import reflowed_paragraphs
    from evals.datasets import CuadDataset

    started, contracts, flagged_contracts, examples = time.perf_counter(), 0, 0, []
    for contract in CuadDataset().contracts("all"):
        document = build_document(name=contract.id, source_path=contract.id, fmt="docx", sha256="0",
                                  texts=reflowed_paragraphs(contract.text))
        flags = find_injections(document)
        contracts += 1
        if flags:
            flagged_contracts += 1
            examples += [f"{contract.id[:50]}: {f.span.quote[:160]}" for f in flags[:2]]
    return {"contracts": contracts, "contracts_with_a_flag": flagged_contracts,
            "seconds_per_contract": round((time.perf_counter() - started) / max(contracts, 1), 3), "examples": examples}


def main() -> None:
    corpus = yaml.safe_load((ROOT / "tests" / "fixtures" / "injection_corpus.yaml").read_text(encoding="utf-8"))
    report = {
        "in_sample": rates(corpus["attacks"], corpus["benign"]),
        "held_out_1_after_its_fixes": rates(corpus["heldout_attacks"], corpus["heldout_benign"]),
        "held_out_2": rates(corpus["heldout2_attacks"], corpus["heldout2_benign"]),
        # measured once before its two false positives were fixed: recall 0.675 (27 of 40, 7 of 8 non-English), false
        # positives 0.02 (2 of 100); this run is after the fix, so its false positives are in sample
        "held_out_3_after_its_fixes": rates(corpus["heldout3_attacks"], corpus["heldout3_benign"]),
        "cuad_real_paper": cuad_false_positives(),
    }
    write_report("injection-guard", report, shown={k: {x: y for x, y in v.items() if x not in ("missed", "false_positives", "examples")}
                                           for k, v in report.items()})

if __name__ == "__main__":
    main()
