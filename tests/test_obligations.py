"""Obligations a contract manager can track: duties only (not rights, headings, warranties or boilerplate), owed by
the party the sentence binds, next due on the right day; and the judged fixture of 26 CUAD contracts
(evals/judgments/obligations.yaml) keeps its numbers."""

from __future__ import annotations

from datetime import date

import pytest

from agents.obligations import ObligationsInput, find_obligations
from agents.schema import ContractProfile, Party
from document_io.models import document_from_text

TODAY = date(2026, 12, 1)


def _profile(our_side: str = "customer") -> ContractProfile:
    return ContractProfile(
        title="Supply Agreement", contract_type="supply", type_confidence=0.9, our_side=our_side, inherent_risk="medium",
        counterparty="Cedar Components GmbH",
        review_functions=["legal"], reasons=[],
        parties=[Party(name="Northwind Systems, Inc.", role="Buyer", is_us=our_side == "customer", side="customer"),
                 Party(name="Cedar Components GmbH", role="Seller", is_us=our_side == "supplier", side="supplier")])


def _found(text: str, our_side: str = "customer"):
    return find_obligations(ObligationsInput(document=document_from_text(name="supply.txt", text=text),
                                             profile=_profile(our_side), today=TODAY))


def test_rights_headings_warranties_and_boilerplate_are_not_obligations():
    text = ("Buyer shall have the right to audit Seller's records once a year. "
            "NOTICES. All notices under this Agreement shall be in writing and delivered by hand or courier. "
            "Seller warrants that the goods will be delivered free of defects. "
            "Seller shall indemnify and hold Buyer harmless from claims and shall pay all costs of defence. "
            "Each party shall pay its own attorneys' fees. "
            "This Agreement shall be governed by the laws of Delaware. "
            "Seller shall not ship goods to any competitor of Buyer.")
    assert _found(text) == []


def test_the_owner_is_the_party_the_sentence_binds():
    text = ("Seller may invoice monthly and Buyer shall pay each invoice within thirty (30) days of receipt. "
            "Seller shall notify Buyer in writing of any defect within five (5) days of discovering it. "
            "Upon termination, each party shall return all Confidential Information of the other party. "
            "The Seller, in accordance with the Buyer's instructions, shall ship the goods to the port of destination.")
    owners = {o.kind: (o.owner_side, o.owner_name) for o in _found(text)}
    assert owners["payment"] == ("us", "Buyer")  # "Seller may invoice ... and Buyer shall pay": the buyer owes it
    assert owners["notice"] == ("them", "Seller")
    assert [o.owner_side for o in _found(text) if o.kind == "deliverable"] == ["both", "them"]
    assert {o.owner_side for o in _found(text, our_side="supplier") if o.kind == "notice"} == {"us"}  # sides follow ours


def test_a_monthly_duty_falls_due_fifteen_days_after_each_months_end_not_a_month_late():
    text = "Buyer shall pay the royalties within fifteen (15) days following the end of each calendar month."
    (payment,) = _found(text)
    assert (payment.recurrence, payment.offset_days, payment.due_date) == ("monthly", 15, date(2026, 12, 15))
    (fee,) = _found("Buyer is responsible for paying the recurring monthly fees by the 5th day of each month.")
    assert fee.due_date == date(2026, 12, 5)


def test_an_event_triggered_duty_is_filed_undated_and_list_items_bind_the_lead_ins_subject():
    text = ("With regard to Confidential Information, each Party hereby agrees to do the following:\na.\n"
            "Report to the other Party, in writing, any unauthorised disclosure within five (5) days of its discovery;\nb.\n"
            "Return to the other Party or destroy its Confidential Information within fifteen (15) days of termination.")
    found = _found(text)
    assert [(o.kind, o.owner_side, o.due_date, o.recurrence) for o in found] == [
        ("report", "both", None, "on event"), ("deliverable", "both", None, "on event")]


def test_a_condition_a_default_a_prohibition_or_a_prerequisite_is_no_duty_but_its_consequence_is():
    conditions = ("If, at any time during the term, Buyer shall enter into any agreement with a competitor of Seller, the "
                  "exclusivity ends. "
                  "Any of the following events shall be an event of default: (d) if Buyer shall, at any time, fail to pay any "
                  "invoice when due; or (e) Buyer shall become insolvent. "
                  "During the first year no Seller shall transfer any of the goods to a third party. "
                  "Seller, or its auditors, shall, upon two weeks' written notice, have the right to inspect Buyer's records. "
                  "To enroll in the supplier programme, Seller must submit a registration form. "
                  "Each Party shall then appoint one arbitrator within thirty (30) days.")
    assert _found(conditions) == []
    (consequence,) = _found("If a shipment arrives damaged, Seller shall refund the price within ten (10) days.")
    assert (consequence.kind, consequence.owner_side) == ("payment", "them")


def test_a_numbered_list_under_a_lead_in_binds_its_subject_and_a_duty_read_in_any_verb_form():
    text = ("SCHEDULE B The Seller shall perform the following services, all in accordance with this Agreement: 1.\n"
            "Maintain separate records for each shipment.\n"
            "2. Disburse or credit to Buyer all rebates earned in each quarter.\n"
            "3. Prepare, and transmit to Buyer periodic account statements showing the goods shipped.\n"
            "4. Term. This Agreement continues for two years.\n\n"
            "Seller is also responsible for removing and/or informing Buyer of any defective goods in stock. "
            "Seller agrees to sell to Buyer those goods which Buyer orders. "
            "Seller shall transmit to Buyer such reports as are necessary to enable Buyer to comply with customs law.")
    found = [(o.kind, o.owner_name) for o in _found(text)]
    assert found == [("payment", "Seller"), ("report", "Seller"), ("deliverable", "Seller"), ("deliverable", "Seller"),
                     ("report", "Seller")]


def test_the_judged_obligations_keep_their_numbers(cuad_paper):
    """In-sample (train and dev were read while the reader was written): a regression guard, not the held-out figure."""
    from evals.obligations_eval import load_cases, run_obligations_eval

    cases = load_cases()
    assert len(cases) >= 20 and sum(len(c.duties) for c in cases) >= 100
    texts = {i: cuad_paper.contract(i).text for i in {c.contract for c in cases}}
    report = run_obligations_eval(cases, texts)
    for split in ("train", "dev"):
        scores = report.by_split[split]
        assert scores["recall"] >= 0.70 and scores["precision"] >= 0.85 and scores["due_right"] >= 0.90, (split, scores)
