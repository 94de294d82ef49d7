from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
TODAY = date(2026, 11, 23)
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    from model_backends.local_engine import LocalEngine

    return LocalEngine(tmp_path_factory.mktemp("engine"))


@pytest.fixture(scope="session")
def labels():
    import yaml

    return yaml.safe_load((SAMPLES / "labels.yaml").read_text())


def run_agents(path: Path, engine):
    """The five agents in graph order, without the graph: for agent-level assertions."""
    from agents.classifier import ClassifierInput, classify
    from agents.clause_extraction import ExtractionInput, extract_clauses
    from agents.compliance import ComplianceInput, check_compliance
    from agents.redlining import RedliningInput, propose_redlines
    from agents.renewal_leverage import RenewalInput, analyse_renewal
    from document_io.loader import load_document

    document = load_document(path)
    profile = classify(ClassifierInput(document=document, our_names=["Northwind Systems"]))
    extraction = extract_clauses(ExtractionInput(document=document), engine)
    compliance = check_compliance(ComplianceInput(document=document, profile=profile, extraction=extraction), engine.library)
    redlines = propose_redlines(RedliningInput(document=document, compliance=compliance, profile=profile), engine)
    brief = analyse_renewal(RenewalInput(document=document, extraction=extraction, today=TODAY))
    return document, profile, extraction, compliance, redlines, brief
