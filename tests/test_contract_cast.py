"""The cast of a contract: who the parties are, read from the preamble (or the title, 'Party A:' labels or the
signature block) the way EDGAR paper writes it, and never a title, a recital, a date, a role word or ourselves.

The first tests are preambles in the shapes the issue lists; the last holds the reading to every CUAD train and dev
contract with checks written independently of the reader's own filters."""

from __future__ import annotations

import re

import pytest

from document_io.contract_cast import name_key, read_cast


def names(text: str) -> list[str]:
    return [p.name for p in read_cast(text).parties]


@pytest.mark.parametrize("preamble, expected", [
    ('This Agreement is made by and between Bluefly, Inc., a Delaware corporation ("Company"), and Jones Apparel Group '
     'Holdings, Inc. ("Distributor").', ["Bluefly, Inc.", "Jones Apparel Group Holdings, Inc."]),
    ('This Joint Venture Agreement is entered into among Alpha Corp. ("Alpha"), Beta LLC ("Beta") and Gamma Ltd. '
     '("Gamma").', ["Alpha Corp.", "Beta LLC", "Gamma Ltd."]),
    ("SUPPLY AGREEMENT between CREMER OLEO GmbH & Co KG, Glockengiesserwall 3, 20095 Hamburg — hereinafter referred to "
     "as Cremer — and Ultragenyx Pharmaceutical Inc, 60 Leveroni Court, Novato — hereinafter referred to as Ultragenyx —",
     ["CREMER OLEO GmbH & Co KG", "Ultragenyx Pharmaceutical Inc"]),
    ("Party A: Xi'an Zhonghong New Energy Technology Co., Ltd.\nParty B: Boxing County Chengli Gas Supply Co., Ltd.\n"
     "The parties agree as follows.", ["Xi'an Zhonghong New Energy Technology Co., Ltd.", "Boxing County Chengli Gas Supply Co., Ltd."]),
    ('THIS AGREEMENT is made between NANOPHASE TECHNOLOGIES CORPORATION, a Delaware corporation ("NTC"), and BASF '
     'Corporation ("BASF").', ["NANOPHASE TECHNOLOGIES CORPORATION", "BASF Corporation"]),
])
def test_parties_in_the_preamble_shapes_edgar_paper_uses(preamble, expected):
    assert names(preamble) == expected


def test_an_exhibit_cover_and_a_redaction_legend_before_the_preamble_are_not_parties():
    text = ("Exhibit 10.17\nCONFIDENTIAL TREATMENT REQUESTED BY THE COMPANY PURSUANT TO RULE 24B-2 OF THE SECURITIES AND "
            "EXCHANGE COMMISSION\nADVERTISING AGREEMENT\nThis Advertising Agreement is entered into as of January 1, 2015 "
            'by and between Acme Media, Inc. ("Acme") and Widget Works LLC ("Advertiser"). WHEREAS, Acme runs websites.')
    assert names(text) == ["Acme Media, Inc.", "Widget Works LLC"]


def test_a_signing_label_is_not_part_of_the_name_and_its_role_is_kept():
    """A statement of work signed 'Acceptance by Developer SEATTLE SOFTWARE DEVELOPERS, Inc.' and 'Acceptance by Client:
    PELICAN DELIVERS INC.' (CUAD train): the label is not the party, and Developer / Client say which side each is on."""
    text = ("STATEMENT OF WORK\nClient shall pay Developer the Fees.\nIN WITNESS WHEREOF, the Parties have executed this "
            "Agreement.\nAcceptance by Developer SEATTLE SOFTWARE DEVELOPERS, Inc. By: /s/ Julian Valentine\n"
            "Acceptance by Client: PELICAN DELIVERS INC. By: /s/ Dave Comeau\n")
    cast = read_cast(text)
    assert [(p.name, p.defined_terms) for p in cast.parties] == [
        ("SEATTLE SOFTWARE DEVELOPERS, Inc.", ["Developer"]), ("PELICAN DELIVERS INC.", ["Client"])]


def test_each_party_keeps_its_form_jurisdiction_and_defined_terms():
    cast = read_cast('This Distribution Agreement is made by and between Bluefly, Inc., a Delaware corporation '
                     '(hereinafter "Bluefly" or the "Company"), and Shipco Ltd., an English company ("Shipper").')
    bluefly, shipco = cast.parties
    assert (bluefly.entity_form, bluefly.jurisdiction) == ("Inc.", "Delaware")
    assert set(bluefly.defined_terms) >= {"Bluefly", "Company"} and shipco.defined_terms == ["Shipper"]


@pytest.mark.parametrize("ours, theirs", [
    ("Bluefly, Inc.", "Bluefly Incorporated"), ("ACME LTD", "Acme Limited"), ("The Widget Co.", "widget company"),
    ("Smith & Sons Corp.", "Smith and Sons Corporation"), ("Jones Apparel Group, Inc. d/b/a Jones NY", "Jones NY"),
])
def test_names_compare_without_case_punctuation_or_legal_form(ours, theirs):
    from document_io.contract_cast import name_variants

    assert name_key(theirs) in name_variants(ours)


# --- every CUAD train and dev contract -----------------------------------------------------------------------------

_ROLE_WORDS = {  # written down here, not taken from the reader, so the check does not share the reader's blind spots
    "company", "licensee", "licensor", "distributor", "supplier", "customer", "buyer", "seller", "party", "parties",
    "consultant", "client", "provider", "vendor", "purchaser", "manufacturer", "reseller", "agent", "franchisee",
    "franchisor", "sponsor", "contractor", "lessor", "lessee", "landlord", "tenant", "developer", "publisher", "owner",
    "affiliate", "recipient", "discloser", "endorser", "shipper", "carrier", "member", "members", "investor", "bank"}
_MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"


def what_is_wrong_with(name: str, title: str) -> str | None:
    """Why a filed party name is not a legal person, or None."""
    lowered = name.lower().strip(" .,")
    if not name or not (name[0].isupper() or name[0].isdigit() or re.match(r"[a-z]{1,3}[A-Z.-]|[a-z][\w-]*\.com\b", name)):
        return "does not start like a name"
    if len(name) > 120:
        return "a sentence, not a name"
    if lowered in _ROLE_WORDS or re.fullmatch(r"(?:the\s+)?(?:" + "|".join(_ROLE_WORDS) + r")", lowered):
        return "a role word"
    if re.search(r"\b(?:whereas|witnesseth|now,? therefore|recitals?)\b", lowered):
        return "a recital"
    if re.search(rf"\b{_MONTH}\s+\d|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|\bday of\b|\bentered into\b|\bdated\b", lowered):
        return "a date"
    if name_key(name) and name_key(name) == name_key(title) or re.search(r"\b(?:agreement|contract|amendment)\s*$", lowered):
        return "a title"
    if re.search(r"\b(?:rule 24b|exchange commission|confidential treatment|omitted|redacted)\b", lowered):
        return "an SEC legend"
    return None


def test_no_filed_party_or_counterparty_is_a_title_recital_date_role_word_or_ourselves(cuad_paper):
    from agents.classifier import ClassifierInput, classify

    problems = []
    for contract_id in cuad_paper.ids():
        document = cuad_paper.document(contract_id)
        profile = classify(ClassifierInput(document=document, our_names=[]))
        assert profile.counterparty is None  # no counterparty is filed until we know which party we are
        for party in profile.parties:
            if why := what_is_wrong_with(party.name, profile.title):
                problems.append(f"{contract_id[:50]}: party {party.name!r} is {why}")
        for us in profile.parties[:2]:  # each party in turn as us: the counterparty is the other one, never us
            filed = classify(ClassifierInput(document=document, our_names=[us.name]))
            if filed.counterparty is not None and name_key(filed.counterparty) == name_key(us.name):
                problems.append(f"{contract_id[:50]}: the counterparty is ourselves ({us.name!r})")
    assert problems == [], "\n".join(problems)
    assert len(cuad_paper.ids()) >= 400
