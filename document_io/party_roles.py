"""Which side of the deal each party is on, read from how the contract uses its defined terms.

A party that pays, buys, orders or is licensed is on the customer side; one that is paid, supplies, delivers,
performs, manufactures or grants the licence is on the supplier side. The defined term itself is a hint only when
it is a word that says so ("Licensor", "Distributor"); "Company" or a short name ("Dexcel") says nothing, and then
only the verbs decide. When the evidence does not separate the parties, the side stays unknown: the reviewer is
asked, never guessed for.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, Field

from document_io.contract_cast import CastParty, name_key

DealSide = Literal["customer", "supplier"]

# defined terms that say which side a party is on
SUPPLIER_WORDS = {"supplier", "vendor", "provider", "service provider", "licensor", "seller", "contractor", "subcontractor",
                  "consultant", "manufacturer", "franchisor", "developer", "processor", "lessor", "landlord", "talent",
                  "endorser", "agent", "sales agent", "programmer", "producer", "publisher", "carrier", "transporter",
                  "host", "hosting provider", "maker", "distributor's supplier", "sublicensor", "outsourcer", "servicer",
                  "administrator", "advisor", "adviser", "manager", "operator", "broker", "dealer manager", "underwriter",
                  "cmo", "reseller's supplier", "trademark licensor", "content provider", "disclosing party", "discloser"}
CUSTOMER_WORDS = {"customer", "client", "buyer", "purchaser", "licensee", "sublicensee", "distributor", "reseller", "dealer",
                  "franchisee", "subscriber", "sponsor", "lessee", "tenant", "controller", "user", "end user", "member",
                  "shipper", "affiliate", "network affiliate", "recipient", "receiving party",
                  "advertiser", "marketer", "retailer", "importer", "fund", "issuer", "trust"}
NEUTRAL_WORDS = {"company", "party", "partner", "investor", "bank", "lender", "borrower", "corporation", "entity",
                 "holder", "institution", "university", "sponsor company", "collaborator", "co-owner", "guarantor",
                 "executive", "employee", "employer", "individual", "covenanter", "principal", "owner", "seller party", "participant", "club", "team", "station", "parent"}
ROLE_WORDS = SUPPLIER_WORDS | CUSTOMER_WORDS | NEUTRAL_WORDS

_HINT_WEIGHT = 4.0
_MONEY_WEIGHT = 3.0
_GOODS_WEIGHT = 2.0
SETTLED_MARGIN = 1.0  # how much more one party must look like the supplier than the other (chosen on train)

# words that may stand between a party's name and its verb: "Licensee shall promptly pay", "Supplier hereby agrees to supply"
_BETWEEN = (r"(?:(?:shall|will|must|may|should|agrees?\s+to|undertakes?\s+to|covenants\s+to|is\s+to|are\s+to|does|do|hereby|"
            r"also|further|promptly|itself|directly|timely|exclusively|solely|then|thereafter|be\s+entitled\s+to|"
            r"continues?\s+to|is\s+responsible\s+for|will\s+be\s+responsible\s+for|wishes\s+to|desires\s+to|intends\s+to|"
            r"is\s+willing\s+to|has\s+agreed\s+to|would\s+like\s+to)\s+){0,4}")
_PAYS = r"(?:pay|purchase|buy|order|reimburse|remit|compensate|fund)"
_SUPPLIES = (r"(?:provide|supply|supplie|deliver|manufacture|produce|perform|render|furnish|sell|develop|host|maintain|design|install|"
             r"ship|make\s+available|grant|licen[cs]e(?=\w*\s+(?:\w+\s+){0,4}to\b)|support|fabricate|build|construct|endorse|appear|broadcast|transport|"
             r"process|package|service|operate|repair|train|consult)")
# 'provide certain financial sponsorship, including fees to Allied': providing money is paying
_MONEY_OBJECT = re.compile(r"^\W*(?:(?:certain|the|all|any|such|its|additional|annual|monthly)\s+)*(?:financial|funding|funds|fees?|"
                           r"payments?|compensation|consideration|monies|money|royalt\w+|sponsorship\s+fees?)\b", re.IGNORECASE)
# payments that are not the price of the deal: costs, damages, taxes, insurance a supplier buys for itself
_NOT_THE_PRICE = re.compile(r"^\W*(?:(?:for|all|any|the|its|their|such|own|reasonable|out-of-pocket|applicable|sufficient|"
                            r"and|or|of)\s+)*(?:costs?|expenses?|taxes|damages|compensation\s+for|penalt\w+|fines?|interest|"
                            r"insurance|materials?|components?|ingredients?|packaging|raw|parts|supplies|equipment|inventory|attorneys|legal|"
                            r"liquidated|indemn\w+|losses|claims?)\b", re.IGNORECASE)
# what every party provides or grants to the other, which says nothing about who supplies the deal
_NOT_THE_DEAL = re.compile(r"^\W*(?:(?:the|any|such|all|prompt|prior|reasonable|written|a|an|its|their|to|each|other|party|"
                           r"copies\s+of|a\s+copy\s+of)\s+)*(?:notice|notices|notification|information|copies|copy|reports?|"
                           r"consent|approval|waiver|access|cooperation|assistance|comments|feedback|evidence|details|data|"
                           r"records|certificates?|written|its\s+obligations|obligations|such\s+other|further|documents?)\b",
                           re.IGNORECASE)


class PartyEvidence(BaseModel):
    supplier: float = 0.0
    customer: float = 0.0
    reasons: list[str] = Field(default_factory=list)

    @property
    def net(self) -> float:
        """Positive: looks like the supplier; negative: like the customer."""
        return self.supplier - self.customer


def hint_of(term: str) -> DealSide | None:
    word = re.sub(r"^the\s+", "", term.strip().lower())
    word = word[:-1] if word.endswith("s") and word[:-1] in ROLE_WORDS else word
    if word in SUPPLIER_WORDS:
        return "supplier"
    if word in CUSTOMER_WORDS:
        return "customer"
    return None


def party_aliases(party: CastParty) -> list[str]:
    """What the text may call the party: its defined terms, its name with and without the legal form, and the name's
    first word when that word is a name ('Cremer' for 'CREMER OLEO GmbH & Co KG'), not a word like 'National'."""
    from document_io.contract_cast import _ENTITY_FORM_AT_END, _GENERIC_WORDS, is_role_word

    names = [*party.defined_terms, party.name]
    short = _ENTITY_FORM_AT_END.sub("", party.name).strip(" ,")
    if short and short != party.name:
        names.append(short)
    first = re.match(r"[A-Za-z][\w&'’.-]{3,}", party.name)
    if first and len(party.name.split()) > 1:
        word = first.group(0).rstrip(".,")
        if word.lower() not in _GENERIC_WORDS and not is_role_word(word) and word.lower() not in _COMMON_FIRST_WORDS:
            names.append(word)
    # a name or term in capitals is also written in title case in the body ('GARMAN' → 'Garman')
    names += [n.title() for n in names if n.isupper() and len(n) > 3]
    return [n for n in dict.fromkeys(n.strip() for n in names) if len(n) >= 2]


_COMMON_FIRST_WORDS = {"national", "international", "american", "united", "global", "general", "first", "great", "north",
                       "south", "east", "west", "central", "pacific", "atlantic", "royal", "standard", "advanced", "applied",
                       "digital", "medical", "financial", "capital", "energy", "china", "beijing", "shanghai", "shenzhen",
                       "new", "federal", "mutual", "premier", "universal", "integrated", "strategic", "world", "euro"}


def _alias_pattern(aliases: list[str]) -> re.Pattern:
    """Defined terms are matched with their capital ("Company", not "a company"); a leading "the" is optional."""
    alternatives = "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:[Tt]he\s+)?(?:{alternatives})(?![\w-])")


def weigh_parties(text: str, parties: list[CastParty]) -> list[PartyEvidence]:
    """For each party, how much the text makes it look like the supplier and like the customer."""
    evidence = [PartyEvidence() for _ in parties]
    if not parties:
        return evidence
    aliases = [party_aliases(p) for p in parties]
    shared = {a for i, names in enumerate(aliases) for a in names
              if any(a in other for j, other in enumerate(aliases) if j != i)}
    patterns = [_alias_pattern([a for a in names if a not in shared] or names) for names in aliases]
    for index, party in enumerate(parties):
        for term in party.defined_terms:
            if hint := hint_of(term):
                setattr(evidence[index], hint, getattr(evidence[index], hint) + _HINT_WEIGHT)
                evidence[index].reasons.append(f"defined as '{term}'")
                break
    counts = [[0, 0, 0, 0] for _ in parties]  # pays, is paid, supplies, is supplied
    for index, pattern in enumerate(patterns):
        alias = pattern.pattern
        subject = re.compile(rf"{alias}(?!['’]s)\s+{_BETWEEN}(?P<verb>{_PAYS}|{_SUPPLIES})(?:s|es|ed|ing)?\b(?P<rest>[^.;]{{0,40}})")
        for match in subject.finditer(text):
            verb = match.group("verb").lower()
            if re.fullmatch(_PAYS, verb) or _MONEY_OBJECT.match(match.group("rest")):
                counts[index][0] += not _NOT_THE_PRICE.match(match.group("rest"))
            elif not _NOT_THE_DEAL.match(match.group("rest")):
                counts[index][2] += 1
        receives_money = re.compile(rf"\b(?:pay|paid|payable|remit|compensate)\w*\s+(?P<what>(?:\w+\s+){{0,6}}?)to\s+{alias}|"
                                    rf"\b(?:pay|compensate)(?:s|ing)?\s+{alias}\b")
        counts[index][1] += sum(1 for m in receives_money.finditer(text) if not _NOT_THE_PRICE.match(m.group("what") or ""))
        receives_goods = re.compile(rf"\b(?:grants?|licen[cs]es?|sells?|supplies|supply|delivers?|provides?|furnish\w*|"
                                    rf"render\w*|perform\w*|sold|delivered|provided|granted|licensed)\s+(?P<what>(?:\w+\s+){{0,6}}?)to\s+{alias}")
        counts[index][3] += sum(1 for m in receives_goods.finditer(text) if not _NOT_THE_DEAL.match(m.group("what")))
    for index, (pays, paid, supplies, supplied) in enumerate(counts):
        item = evidence[index]
        item.customer += _MONEY_WEIGHT * _damped(pays) + _GOODS_WEIGHT * _damped(supplied)
        item.supplier += _MONEY_WEIGHT * _damped(paid) + _GOODS_WEIGHT * _damped(supplies)
        for count, what in ((pays, "pays or buys"), (paid, "is paid"), (supplies, "supplies or performs"), (supplied, "is supplied or licensed")):
            if count:
                item.reasons.append(f"{what} ({count}×)")
    return evidence


def _damped(count: int) -> float:
    return math.log2(1 + count)


def deal_sides(text: str, parties: list[CastParty]) -> tuple[list[DealSide | None], list[PartyEvidence]]:
    """Each party's side, or None where the evidence does not separate it from the others."""
    evidence = weigh_parties(text, parties)
    sides: list[DealSide | None] = [None] * len(parties)
    if len(parties) < 2:
        if parties and (hint := next((hint_of(t) for t in parties[0].defined_terms if hint_of(t)), None)):
            sides[0] = hint
        return sides, evidence
    nets = [e.net for e in evidence]
    top, bottom = max(range(len(nets)), key=nets.__getitem__), min(range(len(nets)), key=nets.__getitem__)
    if nets[top] - nets[bottom] < SETTLED_MARGIN:
        return sides, evidence
    for index, net in enumerate(nets):
        if nets[top] - net < SETTLED_MARGIN / 2 and net > 0:
            sides[index] = "supplier"
        elif net - nets[bottom] < SETTLED_MARGIN / 2 and net < nets[top]:
            sides[index] = "customer"
    sides[top], sides[bottom] = "supplier", "customer"
    return sides, evidence


# --- our names ------------------------------------------------------------------------------------------


def matches_our_name(party: CastParty, our_names: list[str]) -> str | None:
    """The one of our names this party is (legal name with or without its form, a d/b/a, or a defined term that is
    a name and not a role word), or None."""
    keys = set(party.keys)
    terms = {name_key(t) for t in party.defined_terms}
    for ours in our_names:
        key = name_key(ours)
        if not key:
            continue
        if key in keys or key in terms:
            return ours
    return None


def our_parties(parties: list[CastParty], our_names: list[str]) -> list[int]:
    """Indexes of the parties that are us. A defined term shared by several parties ('Zynga' for two Zynga companies)
    marks all of them."""
    return [i for i, p in enumerate(parties) if matches_our_name(p, our_names)]
