"""The execution copy and executed paper, on real parts: LibreOffice prints the agreed DOCX (every change accepted),
pyHanko signs it with keys from a throwaway CA in the routing order and validates it, and `app.py import` files a
signed PDF as executed with its signers and its review, a tampered or untrusted one as "signature invalid"."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from conftest import SAMPLES
from signing_keys import PASSPHRASE, TestAuthority
from test_review_cli import cli

from agents.schema import Decision
from document_io.pdf_signatures import check_signatures

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (install.sh installs it)")
JANE = "Jane Roe <jane@orion.example>"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    data = tmp_path_factory.mktemp("execution")
    keys = TestAuthority(data / "keys")
    stranger = TestAuthority(data / "elsewhere", "Someone Else Root")
    (data / "signing.yaml").write_text(yaml.safe_dump({
        "trust_roots": [str(keys.root_pem.relative_to(data))],
        "signatories": {"legal": {"name": "Dana Legal", "pkcs12": str(keys.issue("legal", "Dana Legal", "dana@northwind.example")),
                                  "passphrase_env": "TEST_LEGAL_P12"}},
        "counterparty_keys": {"jane@orion.example": {"pkcs12": str(keys.issue("jane", "Jane Roe", "jane@orion.example")),
                                                     "passphrase_env": "TEST_LEGAL_P12"}},
    }), encoding="utf-8")
    config = ReviewConfig.from_env(data, "local")
    service = ReviewService(config)
    status = service.start(SAMPLES / "msa_orion.docx", data / "out")
    now = datetime.now(timezone.utc)
    service.decide(status.thread_id, [Decision(suggestion_id=s.id, action="approve", reviewer="lee", decided_at=now)
                                      for s in status.redlines.suggestions])
    before = cli("execute", status.thread_id, "--counterparty-signer", JANE, "--reviewer", "lee", data_dir=data,
                 check=False, env={"TEST_LEGAL_P12": PASSPHRASE})
    service.finalise(status.thread_id, "lee")
    run = cli("execute", status.thread_id, "--counterparty-signer", JANE, "--reviewer", "lee", data_dir=data,
              env={"TEST_LEGAL_P12": PASSPHRASE})
    pdf = Path(next(line.split(": ", 1)[1] for line in run.stdout.splitlines() if line.startswith("execution copy: ")))
    return {"data": data, "keys": keys, "stranger": stranger, "thread": service.status(status.thread_id), "run": run,
            "before": before, "pdf": pdf, "service": service}


def test_an_unagreed_review_is_not_executed(executed):
    assert executed["before"].returncode == 2 and "not agreed yet" in executed["before"].stderr


def test_execute_signs_in_routing_order_and_pyhanko_validates_both_signatures(executed):
    report = check_signatures(executed["pdf"].read_bytes(), [executed["keys"].root_pem.read_bytes()])
    assert report.valid, report.problem
    assert [s.signer for s in report.signatures] == ["Dana Legal", "Jane Roe"]  # ours (legal), then theirs
    assert [s.field for s in report.signatures] == ["Signature1_legal", "Signature2_counterparty"]
    assert report.signatures[1].signer_email == "jane@orion.example"
    logged = executed["service"].audit.events(thread_id=executed["thread"].thread_id, kind="signature")
    assert len(logged) == 2 and '"name":"Dana Legal"' in logged[0].detail and '"name":"Jane Roe"' in logged[1].detail


def test_the_execution_copy_carries_the_agreed_text_not_the_deletions(executed):
    from pypdf import PdfReader

    text = " ".join(" ".join(page.extract_text() for page in PdfReader(str(executed["pdf"])).pages).split())
    status = executed["thread"]
    edited = next(s for s in status.redlines.suggestions if s.kind == "edit" and s.edits)
    quote, start = edited.citation.quote, edited.citation.start
    agreed = quote
    for edit in sorted(edited.edits, key=lambda e: -e.start):  # the cited clause as approved
        agreed = agreed[:edit.start - start] + edit.new_text + agreed[edit.end - start:]
    assert " ".join(agreed.split()) in text and " ".join(quote.split()) not in text
    assert "Signed for Orion Consulting Group LLC by Jane Roe" in text


def test_execute_files_the_signed_copy_as_executed_with_its_signers_and_its_review(executed):
    run = executed["run"].stdout
    assert "filed: executed, signed by Dana Legal, Jane Roe; the agreed copy of review" in run
    from graphs.configuration import ReviewConfig
    from portfolio.review_sync import open_repository

    repository = open_repository(ReviewConfig.from_env(executed["data"], "local"))
    import hashlib

    copy = repository.contract(hashlib.sha256(executed["pdf"].read_bytes()).hexdigest())
    assert copy.status == "executed" and copy.thread_id == executed["thread"].thread_id
    assert [s.signer for s in copy.signatures] == ["Dana Legal", "Jane Roe"]
    reviewed = repository.contract(executed["thread"].document.sha256)
    assert reviewed.status == "superseded"  # its renewals and duties now come from the executed copy alone


def test_a_tampered_copy_is_filed_as_signature_invalid_changed_after_signing(executed, tmp_path):
    signed = bytearray(executed["pdf"].read_bytes())
    import re

    start = next(m.end() for m in re.finditer(rb"(?<!end)stream\r?\n", bytes(signed)))
    at = start + 20  # a byte of the first page's content stream, inside the signed range
    signed[at] = ord("X") if signed[at] != ord("X") else ord("Y")
    tampered = tmp_path / "msa_executed_copy.pdf"
    tampered.write_bytes(bytes(signed))
    run = cli("import", str(tampered), "--workers", "1", data_dir=executed["data"])
    assert "signature invalid:" in run.stdout and "changed after signing" in run.stdout


def test_a_copy_signed_by_a_key_nobody_trusts_is_filed_as_signature_invalid(executed, tmp_path):
    from document_io.pdf_signatures import SignatureBlock, SignerKey, sign_pdf

    unsigned = tmp_path / "fresh"
    unsigned.mkdir()
    key = SignerKey(name="Mallory", pkcs12=executed["stranger"].issue("mallory", "Mallory"), passphrase=PASSPHRASE)
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(str(executed["pdf"])).pages:  # the same words, re-made without the signatures
        writer.add_page(page)
    with open(unsigned / "plain.pdf", "wb") as handle:
        writer.write(handle)
    forged = sign_pdf((unsigned / "plain.pdf").read_bytes(), key,
                      SignatureBlock(field="Forged", box=(60, 60, 290, 130), reason="x", on_behalf_of="Northwind"))
    (unsigned / "plain.pdf").unlink()
    (unsigned / "forged.pdf").write_bytes(forged)
    run = cli("import", str(unsigned), "--workers", "1", data_dir=executed["data"])
    assert "signature invalid:" in run.stdout and "does not chain to a trusted root" in run.stdout
    assert "the agreed copy of review" in run.stdout  # matched by its words all the same


# Runs app.py with one function of the signing path replaced by one that SIGKILLs the process on its n-th call:
# a kill -9 at an exact point, injected from outside the code under test.
_KILLED_RUN = """
import os, signal, sys
sys.path.insert(0, {root!r})
import graphs.execution as execution
target, nth = {target!r}, {nth}
original = getattr(execution, target) if target != "record_event" else None
calls = []

def dying(*args, **kwargs):
    calls.append(1)
    if len(calls) == nth:
        if target == "write_atomically":
            original(*args, **kwargs)  # the signed PDF is on disk; the kill comes before its signature is logged
        os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **kwargs)

setattr(execution, target, dying)
import app
sys.exit(app.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("target, nth, sample", [("sign_pdf", 2, "nda_bluepeak.docx"),  # during the second signature: resumed
                                                 ("write_atomically", 3, "licence_quanta.docx")])  # second on disk, not logged:
# started over (a first signature on disk but not logged is the same path, one step earlier)
def test_kill_9_while_signing_then_a_rerun_ends_with_each_signature_once_in_order(executed, target, nth, sample):
    import subprocess
    import sys

    from conftest import ROOT, app_env

    from graphs.execution import execution_pdf_path

    data, service = executed["data"], executed["service"]
    status = service.start(SAMPLES / sample, data / f"out-{target}-{nth}")
    service.decide(status.thread_id, [Decision(suggestion_id=s.id, action="reject", reviewer="lee",
                                               decided_at=datetime.now(timezone.utc)) for s in status.redlines.suggestions])
    service.finalise(status.thread_id, "lee")
    args = ["execute", status.thread_id, "--counterparty-signer", JANE, "--reviewer", "lee"]
    env = app_env(data) | {"TEST_LEGAL_P12": PASSPHRASE}
    killed = subprocess.run([sys.executable, "-c", _KILLED_RUN.format(root=str(ROOT), target=target, nth=nth), *args],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr
    again = cli(*args, data_dir=data, env={"TEST_LEGAL_P12": PASSPHRASE})
    assert "filed: executed, signed by Dana Legal, Jane Roe" in again.stdout
    pdf = execution_pdf_path(service.status(status.thread_id)).read_bytes()
    report = check_signatures(pdf, [executed["keys"].root_pem.read_bytes()])
    assert report.valid and [s.signer for s in report.signatures] == ["Dana Legal", "Jane Roe"]
    logged = [e.detail for e in service.audit.events(thread_id=status.thread_id, kind="signature")]
    import json

    if target == "sign_pdf":  # resumed from the logged first signature, not signed again
        assert len(logged) == 2
    final_chain = [json.loads(d) for d in logged][-2:]
    assert [s["signatory"]["step"] for s in final_chain] == [0, 1]
    import hashlib

    assert final_chain[-1]["pdf_sha256"] == hashlib.sha256(pdf).hexdigest()  # the log names the PDF on disk


def _time_stamp_authority(keys: TestAuthority):
    """An RFC 3161 time-stamp authority over HTTP on 127.0.0.1 (pyHanko's test stamper behind a real server)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from asn1crypto import tsp
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    stamper = DummyTimeStamper(*keys.issue_time_stamp_authority())
    asked = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            asked.append(self.headers["Content-Type"])
            answer = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, asked


def test_with_a_tsa_configured_every_signature_carries_a_trusted_rfc3161_time_stamp(tmp_path, monkeypatch):
    from graphs.configuration import ReviewConfig
    from graphs.execution import Counterparty, SigningSetup, execute
    from graphs.review_service import ReviewService

    keys = TestAuthority(tmp_path / "keys")
    server, asked = _time_stamp_authority(keys)
    try:
        setup = SigningSetup(trust_roots=[keys.root_pem], tsa_url=f"http://127.0.0.1:{server.server_address[1]}/",
                             signatories={"legal": {"name": "Dana Legal", "pkcs12": keys.issue("legal", "Dana Legal"),
                                                    "passphrase_env": None}},
                             counterparty_keys={"jane@orion.example": {"pkcs12": keys.issue("jane", "Jane Roe")}})
        for entry in (setup.signatories["legal"], setup.counterparty_keys["jane@orion.example"]):
            entry.passphrase_env = "TEST_TSA_P12"
        monkeypatch.setenv("TEST_TSA_P12", PASSPHRASE)
        service = ReviewService(ReviewConfig.from_env(tmp_path / "data", "local"))
        status = service.start(SAMPLES / "nda_bluepeak.docx", tmp_path / "out")
        service.decide(status.thread_id, [Decision(suggestion_id=s.id, action="reject", reviewer="lee",
                                                   decided_at=datetime.now(timezone.utc)) for s in status.redlines.suggestions])
        service.finalise(status.thread_id, "lee")
        done = execute(service, status.thread_id, setup=setup, our_name="Northwind Systems", actor="lee",
                       counterparty=Counterparty(name="Jane Roe", email="jane@orion.example"))
    finally:
        server.shutdown()
    # over HTTP, at least one stamp per signature (pyHanko also asks once to size the signature's space)
    assert len(asked) >= 2 and set(asked) == {"application/timestamp-query"}
    report = check_signatures(done.pdf.read_bytes(), [keys.root_pem.read_bytes()])
    assert report.valid, report.problem
    assert all(s.time_stamped and s.signed_at is not None for s in report.signatures)


def test_a_signatory_the_deployment_holds_no_key_for_signs_elsewhere_and_their_copy_is_filed_on_import(executed, tmp_path):
    from document_io.pdf_signatures import SignatureBlock, SignerKey, sign_pdf
    from graphs.execution import execution_pdf_path

    data, service = executed["data"], executed["service"]
    status = service.start(SAMPLES / "saas_cloudnimbus.docx", data / "out-awaiting")
    service.decide(status.thread_id, [Decision(suggestion_id=s.id, action="approve", reviewer="lee",
                                               decided_at=datetime.now(timezone.utc)) for s in status.redlines.suggestions])
    service.finalise(status.thread_id, "lee")
    run = cli("execute", status.thread_id, "--counterparty-signer", "Bob Buyer <bob@cloudnimbus.example>", "--reviewer",
              "lee", data_dir=data, env={"TEST_LEGAL_P12": PASSPHRASE})
    assert "signed 1: Dana Legal" in run.stdout and "awaiting: Bob Buyer <bob@cloudnimbus.example>" in run.stdout
    ours = execution_pdf_path(service.status(status.thread_id)).read_bytes()
    assert [s.signer for s in check_signatures(ours, [executed["keys"].root_pem.read_bytes()]).signatures] == ["Dana Legal"]
    # their e-signature service adds their signature to the PDF we sent, and it comes back by mail
    bob = SignerKey(name="Bob Buyer", pkcs12=executed["keys"].issue("bob", "Bob Buyer", "bob@cloudnimbus.example"),
                    passphrase=PASSPHRASE)
    theirs = sign_pdf(ours, bob, SignatureBlock(field="BobSignature", box=(310, 410, 540, 485), reason="agreed",
                                                on_behalf_of="CloudNimbus"))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "CloudNimbus - completed.pdf").write_bytes(theirs)
    filed = cli("import", str(inbox), "--workers", "1", data_dir=data)
    assert f"executed, signed by Dana Legal, Bob Buyer; the agreed copy of review {status.thread_id}" in filed.stdout


def test_the_counterparty_page_shows_the_executed_copy_with_its_signers_and_the_review_it_supersedes(executed):
    from fastapi.testclient import TestClient

    from graphs.configuration import ReviewConfig
    from web_app.accounts import Accounts
    from web_app.server import create_app

    config = ReviewConfig.from_env(executed["data"], "local")
    accounts = Accounts(config.audit_store)
    if accounts.user("pia") is None:
        accounts.add_user("pia", "a long enough password 1", ["legal", "procurement"], ["all-contracts"])
    client = TestClient(create_app(config))
    page = client.get("/login")
    import re

    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    form = {"username": "pia", "password": "a long enough password 1"} | ({"csrf": csrf.group(1)} if csrf else {})
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    from urllib.parse import quote

    shown = client.get(f"/counterparties/{quote('orion consulting group')}")
    assert shown.status_code == 200, shown.text[:300]
    assert "signed by Dana Legal, Jane Roe" in shown.text and "superseded" in shown.text
