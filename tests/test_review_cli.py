"""The whole review through the CLI, each step in a new process: park at interrupt, decide, resume, finalise."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile

import pytest
from lxml import etree

from conftest import ROOT, SAMPLES, app_env
from document_io.wordml import W_NS


def cli(*args, data_dir, stdin: str | None = None, check: bool = True, env: dict | None = None):
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args], cwd=ROOT, env=app_env(data_dir) | (env or {}), input=stdin or "",
        capture_output=True, text=True, timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}: {result.stderr}\n{result.stdout[-2000:]}")
    return result


def _thread(stdout: str) -> str:
    return re.search(r"thread (\S+) ·", stdout).group(1)


@pytest.fixture(scope="module")
def parked(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    out = tmp_path_factory.mktemp("out")
    result = cli("review", str(SAMPLES / "msa_orion.docx"), "--out", str(out), data_dir=data)
    return data, out, result.stdout


def test_review_prints_suggestions_with_citations_and_parks(parked):
    data, out, stdout = parked
    assert "type MSA" in stdout and "Orion Consulting Group LLC" in stdout
    assert "S01" in stdout and "cites" in stdout and "[-ten-]{+thirty+}" in stdout
    assert "5 suggestion(s), 5 pending" in stdout
    assert not any(out.iterdir())  # nothing finalised before the human decides


def test_decide_in_new_processes_then_finalise(parked):
    data, out, stdout = parked
    thread = _thread(stdout)
    again = cli("review", str(SAMPLES / "msa_orion.docx"), "--out", str(out), data_dir=data)
    assert "already under review" in again.stdout and _thread(again.stdout) == thread

    first = cli("decide", thread, "--approve", "S01", "--reviewer", "Alice Lee", data_dir=data)
    assert "3 pending" not in first.stdout and "4 pending" in first.stdout
    assert not any(out.iterdir())

    final = cli(
        "decide", thread, "--reviewer", "Alice Lee", "--approve", "S04", "--reject", "S02", "--escalate", "S03",
        "--modify", "S05", "This Agreement shall be governed by the laws of the State of Delaware.", data_dir=data,
    )
    assert "finalised" not in final.stdout and "escalated: S03" in final.stdout  # escalation blocks sign-off
    assert "saved: escalate S03 by Alice Lee" in final.stdout and not any(out.iterdir())
    signed = cli("decide", thread, "--reviewer", "Pat Procurement", "--reject", "S03", "--comment", "keep their cap",
                 data_dir=data)
    assert "finalised" in signed.stdout
    docx_path = out / "msa_orion.redlined.docx"
    report = json.loads((out / "msa_orion.review.json").read_text())
    assert report["decisions"]["S03"]["action"] == "reject" and report["decisions"]["S03"]["reviewer"] == "Pat Procurement"
    assert report["decisions"]["S01"]["reviewer"] == "Alice Lee" and report["signed_off_by"] == "Pat Procurement"
    assert report["profile"]["contract_type"] == "msa" and report["overall_risk"] == "critical"
    markdown = (out / "msa_orion.review.md").read_text()
    assert "Key dates" in markdown and "Renewal brief" in markdown and "> Customer's liability" in markdown

    with zipfile.ZipFile(io.BytesIO(docx_path.read_bytes())) as package:
        root = etree.fromstring(package.read("word/document.xml"))
    deleted = ["".join(d.itertext()) for d in root.iter(f"{{{W_NS}}}del")]
    inserted = ["".join(i.itertext()) for i in root.iter(f"{{{W_NS}}}ins")]
    assert "ten" in deleted and "thirty" in inserted  # S01 approved
    assert " not" in inserted  # S04 approved
    assert "Delaware" in "".join(inserted)  # S05 modified
    assert not any("limited as set out" in i for i in inserted)  # S03 escalated, then rejected: not applied
    assert not any("one" == i for i in inserted)  # S02 rejected
    # each tracked change is authored by whoever decided it, not by the one who signed off
    assert {d.get(f"{{{W_NS}}}author") for d in root.iter(f"{{{W_NS}}}ins")} == {"Alice Lee"}

    history = cli("history", thread, data_dir=data).stdout.splitlines()
    assert [line.split(": ", 1)[1] for line in history][:3] == ["agents-run", "approve S01 [no credential: no accounts]",
                                                                "approve S04 [no credential: no accounts]"]
    assert len(history) == 9  # the agents' run, six decisions (S03 twice), the sign-off and the finalisation
    assert "Pat Procurement: sign-off" in history[-2] and "Pat Procurement: finalised" in history[-1]
    refused = cli("decide", thread, "--approve", "S01", data_dir=data, check=False)
    assert refused.returncode == 1 and "already finalised" in refused.stderr


def test_interactive_decisions_one_at_a_time(tmp_path):
    out = tmp_path / "out"
    parked = cli("review", str(SAMPLES / "dpa_medisafe.pdf"), "--out", str(out), data_dir=tmp_path)
    thread = _thread(parked.stdout)
    # S01 approve, S02 skip, then quit: S01 is kept durably, nothing finalised
    asked = cli("decide", thread, "-i", "--reviewer", "Bo", data_dir=tmp_path, stdin="a\n\ns\nq\n").stdout
    assert "[a]pprove [m]odify [r]eject [e]scalate [s]kip [q]uit" in asked  # brackets are not eaten as markup
    status = cli("show", thread, data_dir=tmp_path).stdout
    assert "[approve by Bo]" in status and "1 pending" in status
    done = cli("decide", thread, "-i", "--reviewer", "Bo", data_dir=tmp_path, stdin="m\nNew audit clause.\nour text\nr\n\n")
    assert "finalised" in done.stdout
    assert (out / "dpa_medisafe.redlined.docx").exists()


def test_library_commands(tmp_path):
    assert "indexed" in cli("library", "index", data_dir=tmp_path).stdout
    hits = cli("library", "search", "invoices payable within thirty days", data_dir=tmp_path).stdout.splitlines()
    assert "payment_terms" in hits[0]


def test_markup_in_file_names_is_printed_as_text_and_one_id_twice_is_refused(tmp_path):
    import shutil

    odd = tmp_path / "[bold red]offer[blink] terms.docx"
    shutil.copyfile(SAMPLES / "nda_bluepeak.docx", odd)
    parked = cli("review", str(odd), "--out", str(tmp_path / "out"), data_dir=tmp_path)
    assert "[bold red]offer[blink] terms" in parked.stdout
    thread = _thread(parked.stdout)
    refused = cli("decide", thread, "--approve", "S01", "--reject", "S01", data_dir=tmp_path, check=False)
    assert refused.returncode == 1 and "S01 named more than once" in refused.stderr
    assert "version 0" in cli("show", thread, data_dir=tmp_path).stdout  # nothing was recorded


def test_choosing_the_fallback_wording_is_a_modify_applied_as_a_tracked_change(tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    reviewed = cli("review", str(SAMPLES / "saas_cloudnimbus.docx"), "--out", str(out), data_dir=data)
    thread = _thread(reviewed.stdout)
    renewal = re.search(r"(S\d\d)\s+\w+\s+auto_renewal", reviewed.stdout).group(1)
    assert f"fallback if refused (--fallback {renewal})" in reviewed.stdout
    no_fallback = re.search(r"(S\d\d)\s+\w+\s+price_escalation", reviewed.stdout).group(1)  # a deletion: no numeric rung
    refused = cli("decide", thread, "--fallback", no_fallback, data_dir=data, check=False)
    assert refused.returncode == 1 and "has no fallback wording" in refused.stderr
    cli("decide", thread, "--fallback", renewal, "--comment", "they refused one year", "--reviewer", "Ann", "--no-finalize",
        data_dir=data)
    final = cli("decide", thread, "--approve-all", "--reviewer", "Ann", data_dir=data)
    assert "finalised" in final.stdout
    with zipfile.ZipFile(out / "saas_cloudnimbus.redlined.docx") as package:
        root = etree.fromstring(package.read("word/document.xml"))
    inserted = ["".join(i.itertext()) for i in root.iter(f"{{{W_NS}}}ins")]
    deleted = ["".join(d.itertext()) for d in root.iter(f"{{{W_NS}}}del")]
    assert "two" in inserted and "2" in inserted and "five" in deleted and "5" in deleted  # word by word
    accepted = ["".join(t.text or "" for t in p.iter(f"{{{W_NS}}}t")) for p in root.iter(f"{{{W_NS}}}p")]
    # with the changes accepted the clause reads at the fallback, not the preferred "one (1) year periods"
    assert any("renew for successive two (2) year periods" in text for text in accepted)
    history = cli("history", thread, data_dir=data).stdout
    assert f"Ann: modify {renewal}" in history and "(playbook fallback: they refused one year)" in history
