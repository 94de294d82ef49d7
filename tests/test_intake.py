"""Intake and routing: each threshold of the routing policy, the policy as data, and a request that changes what the
agents check (data-protection terms when personal data is involved; a cap below the stated amount)."""

from __future__ import annotations

import pytest
from conftest import SAMPLES
from test_review_cli import cli

from clause_library.routing import RoutingFacts, load_policy, route


def _facts(**fields) -> RoutingFacts:
    return RoutingFacts(**({"risk": "medium", "contract_type": "msa", "our_side": "customer"} | fields))


@pytest.mark.parametrize("amount, currency, finance", [
    (24_999, "USD", False), (25_000, "USD", True),  # spend-25k: at the threshold it applies
    (23_000, "EUR", False), (23_200, "EUR", True),  # EUR at the policy's rate, 1.08
    (None, "USD", False), (None, "XYZ", False),  # no amount: nothing to weigh, whatever the currency
])
def test_the_spend_threshold_routes_to_finance_and_procurement(amount, currency, finance):
    routing = route(_facts(amount=amount, currency=currency, our_side="mutual", contract_type="nda"))
    assert ("finance" in routing.functions) is finance and ("procurement" in routing.functions) is finance


def test_an_amount_in_a_currency_without_a_rate_is_refused_not_routed_past_finance(tmp_path):
    """SEK 5,000,000 is about USD 480k: routing it as if it were no amount would skip finance silently."""
    with pytest.raises(ValueError, match="no exchange rate for SEK"):
        route(_facts(amount=5_000_000, currency="SEK"))
    refused = cli("intake", str(SAMPLES / "nda_bluepeak.docx"), "--requester", "Sam Sales", "--amount", "5000000",
                  "--currency", "SEK", "--out", str(tmp_path / "out"), data_dir=tmp_path / "data", check=False)
    assert refused.returncode == 2 and "no exchange rate for SEK" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr


@pytest.mark.parametrize("amount, steps", [(249_999, ["legal"]), (250_000, ["legal", "finance"])])
def test_the_sign_off_threshold_adds_finance_after_legal(amount, steps):
    assert route(_facts(amount=amount)).sign_off == steps


def test_personal_data_security_types_and_our_side_each_route_with_their_reason():
    plain = route(_facts(contract_type="nda", our_side="mutual"))
    assert plain.functions == ["legal"] and plain.sign_off == ["legal"]
    personal = route(_facts(contract_type="nda", our_side="mutual", personal_data=True))
    assert "security" in personal.functions and any(r.startswith("personal-data:") for r in personal.reasons)
    assert route(_facts(contract_type="nda", our_side="mutual", security_relevant=True)).functions == ["legal", "security"]
    assert "security" in route(_facts(contract_type="saas", our_side="mutual")).functions
    assert "procurement" in route(_facts(contract_type="supply")).functions  # we buy under it
    assert "procurement" not in route(_facts(contract_type="supply", our_side="supplier")).functions


@pytest.mark.parametrize("risk, steps", [("medium", ["legal"]), ("high", ["security", "legal"]), ("critical", ["security", "legal"])])
def test_high_risk_personal_data_puts_security_before_legal(risk, steps):
    assert route(_facts(contract_type="nda", our_side="mutual", personal_data=True, risk=risk)).sign_off == steps


def test_every_applying_chain_keeps_its_order_in_the_merged_sign_off():
    routing = route(_facts(amount=400_000, personal_data=True, risk="high", contract_type="saas"))
    assert routing.sign_off == ["security", "legal", "finance"]  # security before legal, legal before finance
    assert {"security", "legal", "finance"} <= set(routing.functions)  # every signer sees the contract


def test_the_policy_is_data_editing_the_yaml_changes_routing_and_bad_policies_are_refused(tmp_path):
    path = tmp_path / "routing.yaml"
    path.write_text((load_policy().model_dump_json()), encoding="utf-8")  # JSON is YAML
    edited = load_policy(path).model_dump()
    edited["review"].append({"id": "category-marketing", "when": {"category": ["marketing"]}, "functions": ["finance"],
                             "reason": "marketing spend is watched by finance"})
    import yaml

    path.write_text(yaml.safe_dump(edited), encoding="utf-8")
    facts = _facts(category="marketing", contract_type="nda", our_side="mutual")
    assert "finance" in route(facts, load_policy(path)).functions and "finance" not in route(facts).functions
    edited["sign_off"].append({"id": "backwards", "steps": ["finance", "legal"], "reason": "conflicts with finance-over-250k"})
    path.write_text(yaml.safe_dump(edited), encoding="utf-8")
    with pytest.raises(ValueError, match="both ways"):
        route(_facts(amount=300_000), load_policy(path))
    edited["review"][0]["when"] = {"amount_over": 5}  # a condition the policy does not know
    path.write_text(yaml.safe_dump(edited), encoding="utf-8")
    with pytest.raises(ValueError):
        load_policy(path)


def test_intake_routes_the_review_and_the_request_changes_what_compliance_checks(tmp_path):
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    data = tmp_path / "data"
    out = cli("intake", str(SAMPLES / "msa_orion.docx"), "--requester", "Dana Ops", "--supplier", "Orion", "--amount", "300000",
              "--purpose", "customer analytics", "--personal-data", "--out", str(tmp_path / "out"), data_dir=data).stdout
    assert "requested by Dana Ops · USD 300,000 · personal data" in out and "sign-off: security → legal → finance" in out
    thread = out.split("thread ")[1].split(" ")[0]
    status = ReviewService(ReviewConfig.from_env(data, "local")).status(thread)
    assert status.request.requester == "Dana Ops" and status.profile.sign_off_steps == ["security", "legal", "finance"]
    assert status.profile.review_functions == ["legal", "security", "finance", "procurement"]
    dpa = next(s for s in status.redlines.suggestions if s.category == "data_protection")
    assert dpa.kind == "insert" and "personal data" in dpa.insertion.text  # an MSA has no DPA terms; the request needs them
    from portfolio.repository import Repository

    cli("renewals", data_dir=data)  # the repository files the review, request included
    assert Repository(data / "portfolio.sqlite").contract(status.document.sha256).request.purpose == "customer analytics"
    plain = cli("review", str(SAMPLES / "msa_orion.docx"), "--out", str(tmp_path / "out2"), data_dir=tmp_path / "plain").stdout
    assert "data_protection" not in plain  # without the request, an MSA is not asked for DPA terms


def test_a_cap_below_the_stated_amount_is_a_finding_citing_the_cap(tmp_path):
    contract = tmp_path / "hosting_terms.txt"
    contract.write_text(
        "HOSTING SERVICES AGREEMENT\n\nThis Hosting Services Agreement is made between Acme Hosting Inc. (the \"Supplier\") "
        "and Northwind Systems (the \"Customer\").\n\n1. Fees. Customer shall pay the fees set out in the order form within "
        "thirty (30) days of invoice.\n\n2. Liability. In no event shall Supplier's aggregate liability under this Agreement "
        "exceed USD 50,000.\n\n3. Governing law. This Agreement is governed by the laws of the State of Delaware.\n",
        encoding="utf-8")
    out = cli("intake", str(contract), "--requester", "Sam Buyer", "--amount", "200000", "--out", str(tmp_path / "out"),
              data_dir=tmp_path / "data").stdout
    assert "Liability cap below the contract's value" in out and "USD 50,000" in out
    bad = cli("intake", str(contract), "--requester", "Sam", "--currency", "dollars", data_dir=tmp_path / "data", check=False)
    assert bad.returncode == 2 and "not valid" in bad.stderr and "Traceback" not in bad.stderr


def test_a_sequential_sign_off_is_signed_in_order_by_each_function_and_only_the_last_finalises(tmp_path):
    data = tmp_path / "data"
    password = "a long enough password\n"
    for name, functions in (("sue", ["security"]), ("lee", ["legal"]), ("fin", ["finance", "procurement"])):
        cli("user", "add", name, "--functions", *functions, "--roles", "sign-off", "--password-stdin", data_dir=data, stdin=password)
    out = cli("intake", str(SAMPLES / "msa_orion.docx"), "--requester", "Dana Ops", "--amount", "300000", "--personal-data",
              "--out", str(tmp_path / "out"), data_dir=data).stdout
    thread = out.split("thread ")[1].split(" ")[0]

    def decide(name: str, *flags: str, check: bool = True):
        return cli("decide", thread, "--reviewer", name, *flags, "--password-stdin", data_dir=data, stdin=password, check=check)

    for name in ("sue", "fin"):  # each function approves what it owns
        decide(name, "--approve-all", "--no-finalize")
    early = decide("lee", "--approve-all", check=False)
    assert early.returncode == 1 and "the next sign-off is security's (step 1 of 3)" in early.stderr  # decisions kept
    assert "saved: approve" in early.stdout
    first = decide("sue")
    assert "signed off for security by sue (step 1 of 3); legal signs next" in first.stdout
    late = decide("fin", "--reject", "S01", check=False)  # S01 is finance's
    assert late.returncode == 1 and "sue signed off for security on these decisions" in late.stderr  # nothing changes now
    assert "signed off for legal by lee (step 2 of 3); finance signs next" in decide("lee").stdout
    refused = decide("sue", check=False)
    assert refused.returncode == 1 and "the next sign-off is finance's" in refused.stderr
    done = decide("fin").stdout
    assert "finalised" in done.lower() and "redlined.docx" in done
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    report = open(ReviewService(ReviewConfig.from_env(data, "local")).status(thread).outputs["report_md"], encoding="utf-8").read()
    assert "## Request" in report and "**Requested by:** Dana Ops" in report and "**Amount:** USD 300,000" in report
    assert "sign-off step: security: sue" in report and "sign-off step: legal: lee" in report
    history = cli("history", thread, data_dir=data).stdout
    assert history.index("step 1 (security)") < history.index("step 2 (legal)") < history.index("sign_off")
