"""Evaluation: CUAD's metrics against hand-computed values, the dataset adapters, and `eval` / `train` end to end
on a tiny CUAD-format set the tests write themselves."""

from __future__ import annotations

import csv
import json

import pytest
from test_review_cli import cli  # noqa: E402

from evals.datasets import SHARED_CUAD, CuadDataset, DatasetUnavailable, SamplesDataset, cuad_contract_type, split_of
from evals.metrics import PresenceCounts, Prediction, jaccard, score_question, summarise


def test_jaccard_is_on_lower_cased_word_sets_without_punctuation():
    assert jaccard("The cat sat.", "the cat ran") == 0.5
    assert jaccard("Governed by the laws of Delaware;", "governed by the laws of delaware") == 1.0
    assert jaccard("a b", "c d") == 0.0


def test_precision_recall_curve_and_aupr_match_a_hand_computation():
    q1 = score_question("A", [Prediction(category="A", text="alpha beta gamma delta", score=0.9),
                              Prediction(category="A", text="zeta eta", score=0.8)], ["alpha beta gamma delta"])
    q2 = score_question("A", [Prediction(category="A", text="one two three", score=0.7),
                              Prediction(category="A", text="seven eight", score=0.95)], ["one two three", "four five six"])
    # thresholds 0.95 / 0.9 / 0.8 / 0.7 give (P, R) = (0, 0) (1/2, 1/3) (1/3, 1/3) (1/2, 2/3);
    # precision made non-increasing in recall is 1/2 throughout, so AUPR = 1/2 * 2/3 = 1/3
    summary = summarise([q1, q2], operating_threshold=0.75)
    assert summary.labelled == 3
    assert summary.aupr == pytest.approx(1 / 3, abs=1e-4)
    assert summary.max_recall == pytest.approx(2 / 3, abs=1e-4)
    assert summary.precision_at_80_recall is None  # recall never reaches 80%: "not reached", not 0%
    # at 0.75: one labelled clause found (0.9), two unmatched predictions above (0.95, 0.8)
    assert (summary.precision, summary.recall, summary.f1) == pytest.approx((1 / 3, 1 / 3, 1 / 3), abs=1e-4)


def test_precision_at_recall_and_the_parties_substring_rule():
    perfect = score_question("A", [Prediction(category="A", text="x y", score=0.5)], ["x y"])
    assert summarise([perfect]).precision_at_90_recall == 1.0 and summarise([perfect]).aupr == 1.0
    party = score_question("Parties", [Prediction(category="Parties", text='Acme Corp. ("Supplier") and Beta LLC ("Buyer")', score=0.6)],
                           ["Acme Corp.", "Gamma Inc."])
    assert party.gold_found_at == [0.6, float("-inf")]
    strict = score_question("Parties", [Prediction(category="Parties", text='Acme Corp. ("Supplier") and Beta LLC ("Buyer")', score=0.6)],
                            ["Acme Corp.", "Gamma Inc."], strict=True)
    assert strict.gold_found_at == [float("-inf"), float("-inf")]  # strict: the sentence is not the name


def test_cuad_label_rows_find_their_texts_despite_quotes_and_accent_forms_and_the_rest_is_listed(tmp_path):
    import unicodedata

    from evals.datasets import CuadDataset

    folder = tmp_path / "cuad"
    (folder / "full_contract_txt").mkdir(parents=True)
    composed = unicodedata.normalize("NFC", "LECLANCHÉ S.A. - JOINT DEVELOPMENT AGREEMENT")
    (folder / "full_contract_txt" / f"{unicodedata.normalize('NFD', composed)}.txt").write_text("Text one.")
    (folder / "full_contract_txt" / "KALLO_2011-EX-10.1-STRATEGIC ALLIANCE AGREEMENT.txt").write_text("Text two.")
    (folder / "full_contract_txt" / "ORPHAN-EX-10.9-SUPPLY AGREEMENT.txt").write_text("Text three.")
    with (folder / "master_clauses.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Filename", "Parties", "Parties-Answer"])
        writer.writerow([f"{composed}.PDF", "[]", ""])
        writer.writerow(["KALLO_2011-EX-10.1-STRATEGIC ALLIANCE AGREEMENT.PDF'", "[]", ""])  # a stray quote, as in CUAD
        writer.writerow(["HELD_OUT-EX-10.4-LICENSE AGREEMENT.PDF", "[]", ""])
    dataset = CuadDataset(folder)
    assert len(list(dataset.contracts("all"))) == 2
    assert sorted(line.split(":")[0] for line in dataset.skipped()) == ["HELD_OUT-EX-10.4-LICENSE AGREEMENT.PDF",
                                                                         "ORPHAN-EX-10.9-SUPPLY AGREEMENT.txt"]


def test_presence_f1():
    counts = PresenceCounts()
    for predicted, labelled in [(True, True), (True, False), (False, True), (False, False), (True, True)]:
        counts.add(predicted, labelled)
    assert counts.f1 == pytest.approx(2 * 2 / (2 * 2 + 1 + 1), abs=1e-4)


def test_presence_needs_the_right_place_and_the_curve_is_the_one_the_aupr_integrates():
    from evals.datasets import LabelledContract
    from evals.runner import ContractResult, RunSettings, score_run
    from evals.solvers import SolverOutput

    law = "This Agreement is governed by the laws of the State of New York."
    contracts = [LabelledContract(id=f"c{i}", title="", text=law, labels={"Governing Law": [law]}) for i in range(2)]
    right = Prediction(category="Governing Law", text=law, score=0.9)
    wrong = Prediction(category="Governing Law", text="Each party shall keep the other's information confidential.", score=0.9)
    results = {"c0": ContractResult(contract_id="c0", gold_type=None, output=SolverOutput(predictions=[right])),
               "c1": ContractResult(contract_id="c1", gold_type=None, output=SolverOutput(predictions=[wrong]))}
    settings = RunSettings(dataset="t", taxonomy="cuad", split="all", backend="local", categories=["Governing Law"])
    report = score_run(contracts, results, settings, {"Governing Law": 0.5})
    # "present" in the wrong place is not a hit: one true positive, one false positive, one missed clause
    assert report.presence_f1 == pytest.approx(2 / (2 + 1 + 1), abs=1e-4)
    precisions = [p for _, p in report.curve_points]
    assert precisions == sorted(precisions, reverse=True) and list(report.category_curves) == ["Governing Law"]


def test_cuad_file_names_give_contract_types():
    assert cuad_contract_type("ACME_01_01_2020-EX-10.1-DISTRIBUTOR AGREEMENT.txt") == "distribution"
    assert cuad_contract_type("X-EX-10.2-SOFTWARE LICENSE AND MAINTENANCE AGREEMENT.PDF") == "licence"
    assert cuad_contract_type("X-EX-10.3-SPONSORSHIP AGREEMENT.txt") == "other"


def _tiny_cuad(folder):
    """Three contracts in CUAD's csv + txt layout; file names in the csv differ in case and extension, as in CUAD."""
    texts = {
        "ALPHA_2020-EX-10.1-SUPPLY AGREEMENT": ("SUPPLY AGREEMENT   This Supply Agreement is made between Alpha Metals Inc. (\"Supplier\") and Beta Foods LLC (\"Buyer\").   "
                                                "Governing Law. This Agreement shall be governed by the laws of the State of Delaware.   "
                                                "Assignment. Neither party may assign this Agreement without the prior written consent of the other party."),
        "GAMMA_2019-EX-10.2-LICENSE AGREEMENT": ("LICENSE AGREEMENT   Gamma Soft Ltd (\"Licensor\") grants Delta Corp (\"Licensee\") a licence.   "
                                                 "This Agreement is governed by the laws of England and Wales.   Payment is due within 30 days."),
        "EPSILON_2018-EX-10.3-SERVICES AGREEMENT": ("SERVICES AGREEMENT   Epsilon Services Inc. will provide services to Zeta Inc.   "
                                                    "This Agreement shall be governed by New York law.   Zeta Inc. may not assign\nthis Agreement without consent."),
    }
    labels = {
        "ALPHA_2020-EX-10.1-SUPPLY AGREEMENT": {"Governing Law": ["This Agreement shall be governed by the laws of the State of Delaware."],
                                                "Anti-Assignment": ["Neither party may assign this Agreement without the prior written consent of the other party."],
                                                "Parties": ["Alpha Metals Inc.", "Beta Foods LLC"]},
        "GAMMA_2019-EX-10.2-LICENSE AGREEMENT": {"Governing Law": ["This Agreement is governed by the laws of England and Wales."],
                                                 "Parties": ["Gamma Soft Ltd", "Delta Corp"]},
        "EPSILON_2018-EX-10.3-SERVICES AGREEMENT": {"Governing Law": ["This Agreement shall be governed by New York law."],
                                                    "Anti-Assignment": ["Zeta Inc. may not assign this Agreement without consent."],
                                                    "Parties": ["Epsilon Services Inc.", "Zeta Inc."]},
    }
    (folder / "full_contract_txt").mkdir(parents=True)
    categories = ["Parties", "Governing Law", "Anti-Assignment"]
    with (folder / "master_clauses.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Filename"] + [c for category in categories for c in (category, f"{category}-Answer")])
        for name, text in texts.items():
            (folder / "full_contract_txt" / f"{name}.txt").write_text(text)
            row = [name.lower() + ".pdf"]
            for category in categories:
                row += [repr(labels[name].get(category, [])), "Yes" if labels[name].get(category) else "No"]
            writer.writerow(row)
    return categories


def test_cuad_adapter_reads_the_csv_layout(tmp_path):
    categories = _tiny_cuad(tmp_path)
    dataset = CuadDataset(tmp_path)
    assert dataset.categories == categories
    contracts = list(dataset.contracts("all"))
    assert [c.contract_type for c in contracts] == ["supply", "licence", "services"]
    assert contracts[1].labels["Anti-Assignment"] == [] and contracts[0].labels["Parties"] == ["Alpha Metals Inc.", "Beta Foods LLC"]
    assert {c.id for c in dataset.contracts("train")} | {c.id for c in dataset.contracts("dev")} == {c.id for c in contracts}
    with pytest.raises(DatasetUnavailable, match="no CUAD found"):
        CuadDataset(tmp_path / "nowhere")


def test_eval_and_train_end_to_end_resumable_and_comparable(tmp_path):
    _tiny_cuad(tmp_path / "cuad")
    run = tmp_path / "run"
    first = cli("eval", "--dataset-path", str(tmp_path / "cuad"), "--split", "all", "--out", str(run), data_dir=tmp_path / "data")
    assert "ALL (pooled)" in first.stdout and "0.478" in first.stdout  # the CUAD paper's reference beside ours
    report = json.loads((run / "report.json").read_text())
    assert report["contracts"] == 3 and report["overall"]["labelled"] == 11
    assert report["contract_type_accuracy"] == 1.0 and report["grounding_rate"] == 1.0
    governing = next(c for c in report["categories"] if c["category"] == "Governing Law")
    assert governing["curve"]["max_recall"] == 1.0  # the shipped head finds all three governing-law clauses
    assert (run / "pr_curve.png").read_bytes()[:4] == b"\x89PNG" and "| Governing Law |" in (run / "report.md").read_text()

    # resumable: a rerun solves nothing again; a line cut short by an interruption is redone once
    lines = (run / "predictions.jsonl").read_text().splitlines()
    (run / "predictions.jsonl").write_text("\n".join(lines[:2]) + "\n" + lines[2][:40])
    cli("eval", "--dataset-path", str(tmp_path / "cuad"), "--split", "all", "--out", str(run), data_dir=tmp_path / "data")
    rows = (run / "predictions.jsonl").read_text().splitlines()
    assert rows[2] == lines[2][:40]  # the cut line stays (nothing is deleted) and is skipped when read
    ids = [json.loads(line)["contract_id"] for line in rows if line != lines[2][:40]]
    assert sorted(ids) == sorted({json.loads(line)["contract_id"] for line in lines})
    assert json.loads((run / "report.json").read_text())["overall"] == report["overall"]

    only = cli("eval", "--dataset-path", str(tmp_path / "cuad"), "--split", "all", "--categories", "governing law",
               "--out", str(tmp_path / "run2"), data_dir=tmp_path / "data")
    assert "Anti-Assignment" not in only.stdout
    compared = cli("eval", "compare", str(run / "report.json"), str(tmp_path / "run2" / "report.json"), data_dir=tmp_path / "data")
    assert "Governing Law" in compared.stdout and "Δ AUPR" in compared.stdout

    trained = cli("train", "--dataset-path", str(tmp_path / "cuad"), "--out", str(tmp_path / "model.npz"), data_dir=tmp_path / "data")
    assert "wrote" in trained.stdout
    from model_backends.clause_model import ClauseModel

    model = ClauseModel.load(tmp_path / "model.npz")
    assert model.categories == ["Parties", "Governing Law", "Anti-Assignment"] and model.text_weights.shape[1] == 3
    assert model.text_vocabulary.vocabulary and "train split" in model.trained_on


def test_samples_dataset_holds_clause_labels_that_are_in_the_documents():
    dataset = SamplesDataset()
    contracts = list(dataset.contracts())
    assert len(contracts) == 6 and "governing_law" in dataset.categories
    for contract in contracts:
        for quotes in contract.labels.values():
            for quote in quotes:
                assert " ".join(quote.split()) in " ".join(contract.text.split())


@pytest.mark.skipif(not SHARED_CUAD.is_dir(), reason="../shared/datasets/cuad is not here")
def test_shared_cuad_loads_with_a_deterministic_split_and_locatable_labels():
    from document_io.legal_text import QuoteLocator

    dataset = CuadDataset()
    assert len(dataset.categories) == 41
    contracts = list(dataset.contracts("all"))
    assert len(contracts) > 350
    dev = [c for c in contracts if split_of(c.id) == "dev"]
    assert 0.12 < len(dev) / len(contracts) < 0.28
    located = total = 0
    for contract in contracts[:60]:
        locator = QuoteLocator(contract.text)
        for quotes in contract.labels.values():
            for quote in quotes:
                total += 1
                located += locator.find(quote) is not None
    assert located / total > 0.9  # measured 93%: the rest are labels CUAD stitched from pieces


def test_eval_on_the_llm_backend_counts_tokens_and_grounding_and_compares_with_local(tmp_path, monkeypatch):
    from scripted_openai import ORION_PROFILE, ScriptedOpenAI, agent_of, contract_block, numbered_sentences

    def responder(request):
        if agent_of(request) == "classifier":
            text = contract_block(request)
            kind = "supply" if "SUPPLY" in text else "licence" if "LICENSE" in text else "services"
            return {"json": {**ORION_PROFILE, "contract_type": kind}}
        numbered = numbered_sentences(request)
        clauses = [{"category": "Governing Law", "sentence": n} for n, line in numbered.items() if "governed" in line]
        clauses += [{"category": "Anti-Assignment", "sentence": n} for n, line in numbered.items() if "assign" in line]
        return {"json": {"clauses": clauses + [{"category": "Governing Law", "sentence": len(numbered) + 3}]}}  # not sent

    _tiny_cuad(tmp_path / "cuad")
    with ScriptedOpenAI(responder) as server:
        for name, value in {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k", "CLAUSEFLOW_LLM_MODEL": "scripted-model"}.items():
            monkeypatch.setenv(name, value)
        cli("eval", "--dataset-path", str(tmp_path / "cuad"), "--split", "all", "--backend", "llm",
            "--out", str(tmp_path / "llm"), data_dir=tmp_path / "data")
    report = json.loads((tmp_path / "llm" / "report.json").read_text())
    assert report["settings"]["backend"] == "llm:scripted-model"
    assert report["tokens_per_contract"] > 0 and report["contract_type_accuracy"] == 1.0
    assert report["grounding_rate"] == pytest.approx(5 / 8, abs=1e-3)  # 5 real quotes, 3 invented (one per contract)
    by_category = {c["category"]: c for c in report["categories"]}
    assert by_category["Governing Law"]["presence_f1"] == 1.0 and by_category["Governing Law"]["curve"]["recall"] == 1.0
    cli("eval", "--dataset-path", str(tmp_path / "cuad"), "--split", "all", "--out", str(tmp_path / "local"), data_dir=tmp_path / "data")
    compared = cli("eval", "compare", str(tmp_path / "local" / "report.json"), str(tmp_path / "llm" / "report.json"),
                   "--markdown", str(tmp_path / "compare.md"), "--plot", str(tmp_path / "overlay.png"), data_dir=tmp_path / "data")
    table = (tmp_path / "compare.md").read_text()
    assert "llm:scripted-model" in compared.stdout and "A: local" in table and "B: llm" in table
    for row in ("tokens / contract", "grounding", "type accuracy", "cost / contract", "ALL strict"):
        assert f"| {row} |" in table
    assert "| grounding | 100.0% | 62.5% |" in table
    assert (tmp_path / "overlay.png").read_bytes()[:4] == b"\x89PNG"
    # a report of another split is refused; one over fewer categories is compared on the common ones, with a warning
    other = json.loads((tmp_path / "llm" / "report.json").read_text())
    other["settings"]["split"] = "dev"
    (tmp_path / "other.json").write_text(json.dumps(other))
    refused = cli("eval", "compare", str(tmp_path / "local" / "report.json"), str(tmp_path / "other.json"),
                  data_dir=tmp_path / "data", check=False)
    assert refused.returncode == 2 and "different splits" in refused.stdout
    other["settings"]["split"] = "all"
    other["settings"]["categories"] = ["Governing Law"]
    other["categories"] = [c for c in other["categories"] if c["category"] == "Governing Law"]
    other["contracts"] = 2
    (tmp_path / "other.json").write_text(json.dumps(other))
    warned = cli("eval", "compare", str(tmp_path / "local" / "report.json"), str(tmp_path / "other.json"),
                 "--markdown", str(tmp_path / "warned.md"), data_dir=tmp_path / "data")
    assert "different numbers of contracts (3 vs 2)" in warned.stdout and "different categories" in warned.stdout
    assert "| Anti-Assignment |" not in (tmp_path / "warned.md").read_text()
    with ScriptedOpenAI(responder) as server:  # the hybrid, as a review on the LLM backend runs: never below local
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        cli("eval", "--dataset-path", str(tmp_path / "cuad"), "--split", "all", "--backend", "hybrid",
            "--out", str(tmp_path / "hybrid"), data_dir=tmp_path / "data")
    local, hybrid = (json.loads((tmp_path / run / "report.json").read_text()) for run in ("local", "hybrid"))
    assert hybrid["settings"]["backend"] == "hybrid:scripted-model"
    assert hybrid["overall"]["aupr"] >= local["overall"]["aupr"]
    assert hybrid["contract_type_accuracy"] == local["contract_type_accuracy"] and hybrid["grounding_rate"] < 1.0


def _healthy_model(request):
    """A stand-in model for the tiny CUAD set: a services contract, governing law where a sentence says "governed"."""
    from scripted_openai import ORION_PROFILE, agent_of, numbered_sentences

    if agent_of(request) == "classifier":
        return {"json": {**ORION_PROFILE, "contract_type": "services"}}
    numbered = numbered_sentences(request)
    return {"json": {"clauses": [{"category": "Governing Law", "sentence": n} for n, s in numbered.items() if "governed" in s]}}


def test_an_eval_records_a_contract_the_model_fails_on_goes_on_and_a_rerun_tries_it_again(tmp_path, monkeypatch):
    from scripted_openai import ScriptedOpenAI, agent_of, contract_block

    def failing_on_gamma(request):
        if "Gamma Soft" in contract_block(request):
            return {"status": 403, "message": "this key may not use the model"}  # not retried, not a missing feature
        return _healthy_model(request)

    _tiny_cuad(tmp_path / "cuad")
    run = ("eval", "--dataset-path", str(tmp_path / "cuad"), "--split", "all", "--backend", "llm", "--out", str(tmp_path / "llm"))
    for name, value in {"OPENAI_API_KEY": "k", "CLAUSEFLOW_LLM_MODEL": "scripted-model"}.items():
        monkeypatch.setenv(name, value)
    with ScriptedOpenAI(failing_on_gamma) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        first = cli(*run, data_dir=tmp_path / "data")
    report = json.loads((tmp_path / "llm" / "report.json").read_text())
    assert report["contracts"] == 2 and len(report["failed"]) == 1
    assert report["failed"][0].startswith("GAMMA") and "refused the request (HTTP 403)" in report["failed"][0]
    assert "failed:" in first.stdout and report["failed_tokens"] == 0 and "scripted-model at http" in report["model_version"]
    with ScriptedOpenAI(_healthy_model) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        cli(*run, data_dir=tmp_path / "data")
        contracts_asked = {contract_block(r)[:40] for r in server.requests if agent_of(r) == "classifier"}
    report = json.loads((tmp_path / "llm" / "report.json").read_text())
    assert report["contracts"] == 3 and report["failed"] == []
    assert len(contracts_asked) == 1  # only the failed contract was asked again


def test_a_hybrid_eval_on_a_dead_model_says_so_exits_non_zero_and_a_rerun_asks_the_model_again(tmp_path, monkeypatch):
    """An HTML page on every call used to give local's scores, no failure and a rerun that asked nothing."""
    from scripted_openai import ScriptedOpenAI

    _tiny_cuad(tmp_path / "cuad")
    run = ("eval", "--dataset-path", str(tmp_path / "cuad"), "--split", "all", "--backend", "hybrid", "--out",
           str(tmp_path / "hybrid"))
    config = tmp_path / "llm.yaml"
    config.write_text("max_attempts: 2\nretry_initial_s: 0.01\nretry_max_s: 0.02\n")
    for name, value in {"OPENAI_API_KEY": "k", "CLAUSEFLOW_LLM_MODEL": "scripted-model",
                        "CLAUSEFLOW_LLM_CONFIG": str(config)}.items():
        monkeypatch.setenv(name, value)
    with ScriptedOpenAI(lambda request: {"text": "<html><body>Bad Gateway</body></html>"}) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        dead = cli(*run, data_dir=tmp_path / "data", check=False)
    report = json.loads((tmp_path / "hybrid" / "report.json").read_text())
    assert dead.returncode == 1 and "the model answered 0 of 3 contracts" in dead.stdout
    assert report["model_asked"] == 3 and len(report["model_failed"]) == 3
    with ScriptedOpenAI(_healthy_model) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        alive = cli(*run, data_dir=tmp_path / "data")
        asked = len(server.requests)
    report = json.loads((tmp_path / "hybrid" / "report.json").read_text())
    assert asked > 0 and report["model_failed"] == [] and "the model answered 3 of 3 contracts" in alive.stdout
