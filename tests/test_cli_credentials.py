"""The CLI signs only as a proven person (issue #28): where reviewer accounts exist, deciding, signing off and marking
obligations need the person's password or personal API token, carry the page's rights, and the log records how the
person was authenticated. Each of these was possible on main before: `--reviewer ghost`, a security reviewer deciding
Legal's suggestion, and sign-off by the name of a sign-off holder alone."""

from __future__ import annotations

import json
import re

import pytest

from conftest import SAMPLES
from test_review_cli import _thread, cli

KIM = "kim's long password\n"  # legal, sign-off
SAM = "security first 123\n"  # security only


@pytest.fixture()
def reviewed(tmp_path):
    data = tmp_path / "data"
    thread = _thread(cli("review", str(SAMPLES / "msa_orion.docx"), "--out", str(tmp_path / "out"), data_dir=data).stdout)
    cli("user", "add", "kim", "--functions", "legal", "--roles", "sign-off", "--password-stdin", data_dir=data, stdin=KIM)
    cli("user", "add", "sam", "--functions", "security", "--password-stdin", data_dir=data, stdin=SAM)
    return data, thread


def _legal_suggestion(data, thread) -> str:
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService
    from web_app.accounts import owner_function

    status = ReviewService(ReviewConfig.from_env(data, "local")).status(thread)
    return next(s.id for s in status.redlines.suggestions if owner_function(s) == "legal")


def _history(data, thread) -> str:
    return cli("history", thread, data_dir=data).stdout


def test_without_a_credential_nothing_is_recorded(reviewed):
    data, thread = reviewed
    sid = _legal_suggestion(data, thread)
    bare = cli("decide", thread, "--reviewer", "kim", "--approve", sid, "--no-finalize", data_dir=data, check=False)
    assert bare.returncode == 2 and "needs kim's credential" in bare.stderr and "Traceback" not in bare.stderr
    ghost = cli("decide", thread, "--reviewer", "ghost", "--reject", sid, "--no-finalize", "--password-stdin",
                data_dir=data, stdin="anything at all here\n", check=False)
    assert ghost.returncode == 2 and "wrong reviewer name or password" in ghost.stderr
    wrong = cli("decide", thread, "--reviewer", "kim", "--reject", sid, "--no-finalize", "--password-stdin",
                data_dir=data, stdin="not kim's password\n", check=False)
    assert wrong.returncode == 2
    assert f": approve {sid}" not in _history(data, thread) and f": reject {sid}" not in _history(data, thread)


def test_the_cli_has_the_pages_rights(reviewed):
    data, thread = reviewed
    sid = _legal_suggestion(data, thread)
    refused = cli("decide", thread, "--reviewer", "sam", "--approve", sid, "--no-finalize", "--password-stdin",
                  data_dir=data, stdin=SAM, check=False)
    assert refused.returncode == 2 and f"{sid} is for legal" in refused.stderr and "nothing was recorded" in refused.stderr
    assert f"approve {sid}" not in _history(data, thread)


def test_a_proven_decision_and_sign_off_record_how_the_person_was_authenticated(reviewed):
    data, thread = reviewed
    sid = _legal_suggestion(data, thread)
    saved = cli("decide", thread, "--reviewer", "kim", "--approve", sid, "--no-finalize", "--password-stdin",
                data_dir=data, stdin=KIM)
    assert f"saved: approve {sid} by kim" in saved.stdout
    assert re.search(rf"kim: approve {sid}.* \[cli password\]", _history(data, thread))


def test_a_personal_api_token_acts_only_as_its_holder_and_ends_when_revoked(reviewed, monkeypatch):
    data, thread = reviewed
    sid = _legal_suggestion(data, thread)
    refused = cli("user", "token", "kim", "--password-stdin", data_dir=data, stdin="not kim's password\n", check=False)
    assert refused.returncode == 2
    issued = cli("user", "token", "kim", "--password-stdin", data_dir=data, stdin=KIM).stdout
    token = issued.strip().splitlines()[-1]
    assert token.startswith("cfk_")
    from graphs.configuration import ReviewConfig
    from web_app.accounts import Accounts

    with Accounts(ReviewConfig.from_env(data, "local").audit_store).read() as db:  # only a hash is kept
        rows = [tuple(r) for r in db.execute("SELECT * FROM api_tokens").fetchall()]
    assert rows and token not in json.dumps(rows)
    as_sam = cli("decide", thread, "--reviewer", "sam", "--approve", sid, "--no-finalize", "--token-stdin",
                 data_dir=data, stdin=token + "\n", check=False)
    assert as_sam.returncode == 2 and "it cannot act as sam" in as_sam.stderr
    saved = cli("decide", thread, "--approve", sid, "--no-finalize", "--token-stdin", data_dir=data, stdin=token + "\n")
    assert f"saved: approve {sid} by kim" in saved.stdout
    assert re.search(rf"kim: approve {sid}.* \[cli api token\]", _history(data, thread))
    cli("user", "revoke-tokens", "kim", data_dir=data)
    after = cli("decide", thread, "--reject", sid, "--no-finalize", "--token-stdin", data_dir=data, stdin=token + "\n",
                check=False)
    assert after.returncode == 2 and "not valid" in after.stderr


def test_without_accounts_the_cli_records_the_name_and_says_so(tmp_path):
    data = tmp_path / "data"
    thread = _thread(cli("review", str(SAMPLES / "msa_orion.docx"), "--out", str(tmp_path / "out"), data_dir=data).stdout)
    done = cli("decide", thread, "--reviewer", "Ann", "--approve-all", data_dir=data)
    assert done.stderr.count("no reviewer accounts exist") == 1
    assert re.search(r"Ann: approve S01.* \[no credential: no accounts\]", _history(data, thread))
