"""Classifier agent: contract type, parties, our side, inherent risk, and which functions must review.

Local engine: the title decides the type when it names one (it almost always does); otherwise the
keyword profile of the opening text. The parties are the contract's cast (document_io/contract_cast.py: legal names,
defined terms); each party's side of the deal is read from how the text uses its terms (document_io/party_roles.py:
who pays, who supplies, who is licensed); we are the party our names (configuration) match, and our side is its side.
LLM backend: the model reads the opening (~1,500 tokens) and the headings, and answers in the same model.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field

from agents.schema import ContractProfile, ContractType, IntakeRequest, Party, RiskLevel, Side
from clause_library.playbook import ReviewFunction
from document_io.contract_cast import CastParty, is_role_word, read_cast
from document_io.party_roles import deal_sides, matches_our_name
from document_io.models import SourceDocument
from model_backends.llm_client import LLMClient
from model_backends.prompt_templates import load_prompt
from model_backends.token_budget import truncate_to_tokens

# Most specific first: "Master Subscription Agreement" is SaaS, "Data Processing Addendum" is a DPA.
_TYPE_PATTERNS: list[tuple[ContractType, str]] = [
    ("dpa", r"data processing (agreement|addendum)|\bdpa\b"),
    ("nda", r"non-?disclosure|confidentiality agreement|\bnda\b|secrecy agreement"),
    ("sow", r"statement of work|\bsow\b|work order"),
    ("saas", r"software[- ]as[- ]a[- ]service|\bsaas\b|subscription|cloud services|hosting"),
    ("reseller", r"reseller|resale|value added"),
    ("distribution", r"distribut"),
    ("franchise", r"franchise"),
    ("joint_venture", r"joint venture|collaboration|strategic alliance"),
    ("supply", r"supply|manufactur|purchase agreement|procurement agreement|purchasing"),
    ("licence", r"licen[cs]e|licensing"),
    ("msa", r"master (services? |purchase |)agreement|master agreement"),
    ("services", r"services? agreement|consulting|outsourcing|maintenance|support agreement|development agreement|agency"),
    ("employment", r"employment"),
    ("lease", r"\blease\b"),
]
class ClassifierInput(BaseModel):
    document: SourceDocument
    our_names: list[str] = Field(description="names our organisation signs under")
    side: Literal["customer", "supplier"] | None = Field(default=None, description="our side, when the reviewer says it")


def classify(data: ClassifierInput) -> ContractProfile:
    document = data.document
    title = _title(document)
    cast = read_cast(document.contract_text())
    roles = [term for party in cast.parties for term in party.defined_terms]
    contract_type, confidence, type_reason = _contract_type(title, document.text[:4000], roles)
    parties = _parties(document.text, cast.parties, data.our_names)
    side, side_reason = _our_side(parties, data.our_names, document.text[:3000], contract_type)
    if data.side:
        parties, side_reason = _side_given(parties, data.side)
        side = data.side
    functions, function_reasons = _review_functions(contract_type, document.text)
    risk, risk_reason = _inherent_risk(contract_type, document.text)
    return ContractProfile(
        title=title,
        contract_type=contract_type,
        type_confidence=confidence,
        parties=parties,
        counterparty=counterparty_of(parties),
        our_side=side,
        inherent_risk=risk,
        review_functions=functions,
        reasons=[type_reason, side_reason, risk_reason, *function_reasons],
    )


def counterparty_of(parties: list[Party]) -> str | None:
    """The other side: the first party that is not us, once we know which party we are; otherwise nobody (the queue,
    the repository and spend matching never file ourselves, or a guess, as the counterparty)."""
    if not any(p.is_us for p in parties):
        return None
    return next((p.name for p in parties if not p.is_us), None)


class PartyNotFound(ValueError):
    """The named party is none of the contract's parties."""


def find_party(profile: ContractProfile, name: str) -> int:
    """The index of the party a reviewer names: by legal name (with or without its form, any case) or defined term."""
    from document_io.contract_cast import name_key

    key = name_key(name)
    for index, party in enumerate(profile.parties):
        if key and (key == name_key(party.name) or key in {name_key(t) for t in party.defined_terms}):
            return index
    listed = "; ".join(p.name for p in profile.parties) or "the preamble names none"
    raise PartyNotFound(f"{name!r} is not a party to this contract (the parties: {listed})")


def with_our_party(profile: ContractProfile, name: str, side: Side | None, answered_by: str) -> ContractProfile:
    """The reviewer's answer to "Which party are we?": that party is us, our side is the one they give or else the one
    the text gives that party, and the other party is the counterparty. Refused when neither says the side."""
    index = find_party(profile, name)
    ours = profile.parties[index]
    side = side or ours.side
    if side is None:
        raise ValueError(f"the text does not say which side of the deal {ours.name} is on (it neither clearly pays nor "
                         "clearly supplies); give the side too: customer or supplier")
    parties = [p.model_copy(update={"is_us": i == index}) for i, p in enumerate(profile.parties)]
    reason = f"side {side}: {answered_by} answered that we are {ours.name}"
    if ours.side and ours.side != side:
        reason += f" (the text reads {ours.name} as the {ours.side})"
    reasons = [r for r in profile.reasons if not r.startswith("side ")] + [reason]
    return profile.model_copy(update={"parties": parties, "our_side": side, "counterparty": counterparty_of(parties),
                                      "reasons": reasons})


def apply_intake(profile: ContractProfile, request: IntakeRequest) -> ContractProfile:
    """The request's answers on top of what the paper says: a counterparty the paper did not name, personal data
    raising the risk, and the routing policy (clause_library/routing.yaml) deciding who reviews and who signs off,
    each with its reason. The paper's own reading stays in `reasons` beside the policy's."""
    from clause_library.routing import RoutingFacts, route

    reasons = list(profile.reasons)
    counterparty = profile.counterparty
    if counterparty is None and request.supplier:
        counterparty = request.supplier
        reasons.append(f"counterparty {request.supplier}: from the request (the paper names no other party)")
    risk = profile.inherent_risk
    if request.personal_data and RISK_ORDER.index(risk) < RISK_ORDER.index("high"):
        risk = "high"
        reasons.append("risk high: the request says personal data is involved")
    routing = route(RoutingFacts(amount=request.amount, currency=request.currency, risk=risk, contract_type=profile.contract_type,
                                 category=request.category, personal_data=request.personal_data,
                                 security_relevant=request.security_relevant, our_side=profile.our_side))
    reasons += [f"routing {reason}" for reason in routing.reasons]
    return profile.model_copy(update={"counterparty": counterparty, "inherent_risk": risk, "reasons": reasons,
                                      "review_functions": routing.functions, "sign_off_steps": routing.sign_off})


RISK_ORDER = ["low", "medium", "high", "critical"]


_NAMES_AN_AGREEMENT = re.compile(
    r"\b(agreement|contract|licen[cs]e|addendum|terms and conditions|terms of service|order form|memorandum of understanding)\b",
    re.IGNORECASE)
_NOT_A_TITLE = re.compile(r"^\s*(exhibit|schedule|annex|appendix|attachment)?\s*[\dA-Z().]{0,12}\s*$|^source:|quicklinks|^page \d",
                          re.IGNORECASE)


def _title(document: SourceDocument) -> str:
    """The title: the first short paragraph near the top that names an agreement ("EXHIBIT 10.13 JOINT VENTURE
    AGREEMENT"), skipping exhibit labels, page numbers and filing stamps; else the first short paragraph."""
    opening = [p.text.strip() for p in document.paragraphs[:30] if p.text.strip()]
    for text in opening:
        short = len(text) <= 150 or (len(text) <= 250 and text.isupper())  # a capitalised title may name both parties
        if short and _NAMES_AN_AGREEMENT.search(text) and not text.lower().startswith(("source:", "table of contents")):
            return text
    for text in opening[:8]:
        if len(text) <= 120 and not _NOT_A_TITLE.search(text) and not re.match(r"(?:witnesseth|recitals?|background)\b", text, re.I):
            return text
    return document.name


# what the parties are called says what the deal is when the title does not: a "Distributor" distributes, a "Licensee"
# is licensed, a "Consultant" performs services (most specific first, as the title patterns)
_ROLE_TYPES: list[tuple[ContractType, set[str]]] = [
    ("nda", {"disclosing party", "receiving party", "discloser", "recipient"}),
    ("saas", {"host", "hosting provider", "subscriber"}),
    ("reseller", {"reseller", "value added reseller", "var"}),
    ("distribution", {"distributor", "dealer", "sub-distributor"}),
    ("franchise", {"franchisee", "franchisor"}),
    ("joint_venture", {"venturer", "joint venturer", "co-venturer", "collaborator", "alliance partner"}),
    ("supply", {"supplier", "manufacturer", "buyer", "purchaser", "seller", "vendor"}),
    ("licence", {"licensee", "licensor", "sublicensee", "sublicensor"}),
    ("services", {"consultant", "contractor", "service provider", "servicer", "provider", "adviser", "advisor", "agent",
                  "sales agent", "outsourcer", "transporter", "carrier", "shipper", "endorser", "talent", "sponsor"}),
    ("employment", {"employee", "executive", "employer"}),
    ("lease", {"landlord", "tenant", "lessor", "lessee"}),
]


def _type_from_roles(roles: list[str]) -> tuple[ContractType, str] | None:
    words = {re.sub(r"^the\s+", "", r.strip().lower()) for r in roles}
    for contract_type, names in _ROLE_TYPES:
        if found := sorted(words & names):
            return contract_type, found[0]
    return None


_OUTSIDE_THE_CATALOGUE = (r"\bguarant(?:y|ee)\b|capital\s+maintenance|intellectual\s+property\s+(?:agreement|matters|assignment)"
                          r"|\b(?:asset|stock|share|unit)\s+purchase|\bmerger\b|\b(?:loan|credit|security|pledge|escrow|"
                          r"separation|tax\s+(?:sharing|matters)|registration\s+rights|voting|employment|joint\s+filing)\s+agreement"
                          # a derivative (a yield maintenance or interest-rate cap, an ISDA confirmation) is not a services deal
                          r"|yield\s+maintenance|interest\s+rate\s+(?:swap|cap|protection)|\bISDA\b|\bswap\s+(?:agreement|transaction)"
                          # a fund's arrangement with its adviser about the fund's expenses or income delivers no services
                          r"|investment\s+income\s+maintenance|expense\s+(?:limitation|reimbursement|cap)\s+agreement|fee\s+waiver"
                          # an agreement that ends or settles another one needs none of a new deal's clauses
                          r"|\b(?:termination|settlement|release)\s+(?:and\s+release\s+)?agreement")


def _contract_type(title: str, opening: str, roles: list[str] = ()) -> tuple[ContractType, float, str]:
    """The title when it names a type; else what the parties are called (a "Distributor", a "Licensee"); else the type
    words most frequent in the opening."""
    if re.search(_OUTSIDE_THE_CATALOGUE, title, re.IGNORECASE):
        # A guarantee or an IP transfer is not a supply or services deal read from its words (nor a "capital
        # maintenance" agreement a maintenance one): the clauses a services contract needs (insurance, payment terms,
        # IP in deliverables) would be asked of it
        return "other", 0.85, f"type other: the title '{title[:60]}' names a kind of agreement outside the playbook's types"
    for contract_type, pattern in _TYPE_PATTERNS:
        if re.search(pattern, title, re.IGNORECASE):
            return contract_type, 0.95, f"type {contract_type}: the title '{title[:60]}' says so"
    if by_role := _type_from_roles(list(roles)):
        contract_type, role = by_role
        return contract_type, 0.8, f"type {contract_type}: a party is defined as the '{role.title()}'"
    counts = {t: len(re.findall(p, opening, re.IGNORECASE)) for t, p in _TYPE_PATTERNS}
    best = max(counts, key=lambda t: counts[t])
    if counts[best] == 0:
        return "other", 0.3, "type other: neither the title nor the opening names a known contract type"
    total = sum(counts.values())
    return best, round(min(0.9, 0.4 + 0.5 * counts[best] / total), 2), f"type {best}: most frequent type terms in the opening"


def _parties(text: str, cast: list[CastParty], our_names: list[str]) -> list[Party]:
    sides, evidence = deal_sides(text, cast)
    return [Party(name=party.name, role=_main_term(party.defined_terms), is_us=matches_our_name(party, our_names) is not None,
                  defined_terms=party.defined_terms, entity_form=party.entity_form, jurisdiction=party.jurisdiction,
                  side=side, side_evidence=found.reasons)
            for party, side, found in zip(cast, sides, evidence)]


def _main_term(terms: list[str]) -> str | None:
    """The term the redline should use for a party: its role word when it has one ('Licensee'), else its first term."""
    return next((t for t in terms if is_role_word(t)), terms[0] if terms else None)


def _our_side(parties: list[Party], our_names: list[str], preamble: str, contract_type: ContractType) -> tuple[Side, str]:
    if contract_type == "nda" and re.search(r"\bmutual\b|each party (may|will) disclose", preamble, re.IGNORECASE):
        return "mutual", "side mutual: a mutual NDA"
    us = [p for p in parties if p.is_us]
    if not us:
        names = "; ".join(n for n in our_names if n) or "none configured"
        found = ", ".join(p.name for p in parties) or "no party found in the preamble"
        return "unknown", f"side unknown: none of our names ({names}) is a party ({found})"
    sides = {p.side for p in us}
    if len(sides) == 1 and None not in sides:
        (side,) = sides
        why = "; ".join(us[0].side_evidence[:3])
        return side, f"side {side}: we are {us[0].name}, which the contract treats as the {side} ({why})"
    return "unknown", (f"side unknown: we are {us[0].name}, but the text does not say which side of the deal it is on"
                       " (it neither clearly pays nor clearly supplies)")


def _side_given(parties: list[Party], side: str) -> tuple[list[Party], str]:
    """The reviewer's word wins. When our names already found us, they stay us; otherwise the parties on the given
    side (read from the text) are marked as us. A reading that disagrees is said, not hidden."""
    if side not in ("customer", "supplier"):
        return parties, f"side {side}: given by the reviewer"
    us = [p for p in parties if p.is_us]
    if us:
        disagree = [p.name for p in us if p.side and p.side != side]
        note = f" (the text reads {', '.join(disagree)} as the {'supplier' if side == 'customer' else 'customer'})" if disagree else ""
        return parties, f"side {side}: given by the reviewer{note}"
    ours = [p.side == side for p in parties]
    if any(ours):
        marked = [p.model_copy(update={"is_us": mine}) for p, mine in zip(parties, ours)]
        return marked, f"side {side}: given by the reviewer; we are {', '.join(p.name for p in marked if p.is_us)}"
    return parties, f"side {side}: given by the reviewer (no party reads as the {side}, so no party is marked as us)"


def _review_functions(contract_type: ContractType, text: str) -> tuple[list[str], list[str]]:
    functions, reasons = ["legal"], ["legal reviews every contract"]
    lowered = text.lower()
    if contract_type in ("saas", "dpa") or re.search(r"personal data|security (incident|breach|measures)|data protection|soc 2|iso 27001", lowered):
        functions.append("security")
        reasons.append("security: the contract involves data protection or information security")
    if re.search(r"\bfees?\b|\binvoice|\bpayment|\bprice|usd|\$|€|£", lowered):
        functions.append("finance")
        reasons.append("finance: the contract sets fees, prices or payment terms")
    if contract_type in ("supply", "msa", "saas", "services", "sow", "distribution", "reseller", "licence") or "purchase order" in lowered:
        functions.append("procurement")
        reasons.append(f"procurement: a {contract_type} contract commits spend with a supplier")
    return functions, reasons


def _inherent_risk(contract_type: ContractType, text: str) -> tuple[RiskLevel, str]:
    lowered = text.lower()
    if contract_type in ("saas", "dpa") and "personal data" in lowered:
        return "high", "risk high: personal data is processed by a third party"
    if contract_type in ("msa", "saas", "supply", "licence", "distribution", "services", "reseller", "joint_venture", "franchise"):
        return "medium", f"risk medium: a {contract_type} commits money and liability"
    return "low", f"risk low: a {contract_type} has limited commercial exposure by nature"


# --- LLM backend ------------------------------------------------------------------------------------

OPENING_TOKENS = 1500  # title, parties, recitals and definitions: enough to type a contract and find the sides


class ClassifierAnswer(BaseModel):
    contract_type: ContractType
    parties: list[Party] = Field(max_length=12)
    our_side: Side
    inherent_risk: RiskLevel
    review_functions: list[ReviewFunction] = Field(max_length=4)
    reasons: list[Annotated[str, Field(max_length=400)]] = Field(max_length=8)
    addressed_to_ai: bool = Field(default=False, description="the contract holds text addressed to an AI or a reviewer")


def classify_with_llm(data: ClassifierInput, llm: LLMClient) -> ContractProfile:
    """The model sees the contract's opening and its headings, not the whole text."""
    document = data.document
    headings = [p.text[:80] for p in document.paragraphs if len(p.text) < 80]
    excerpt = truncate_to_tokens(document.text, OPENING_TOKENS) + "\n[headings]\n" + "\n".join(headings[:60])
    answer = llm.structured("classifier", load_prompt("classifier"), {
        "our_names": "; ".join(data.our_names), "contract_types": ", ".join(get_args(ContractType)),
        "contract_text": excerpt,
    }, ClassifierAnswer)
    reasons = list(answer.reasons)
    if answer.addressed_to_ai:
        reasons.append("the model reports text addressed to an AI or a reviewer inside the contract (not obeyed)")
    return ContractProfile(
        title=_title(document), contract_type=answer.contract_type, type_confidence=0.9, parties=answer.parties,
        counterparty=counterparty_of(answer.parties), our_side=answer.our_side,
        inherent_risk=answer.inherent_risk, review_functions=answer.review_functions or ["legal"], reasons=reasons,
    )


# below this the local type is a guess, and a model's answer that differs may replace it
LOCAL_TYPE_CONFIDENT = 0.6


def classify_hybrid(data: ClassifierInput, llm: LLMClient) -> tuple[ContractProfile, list[str]]:
    """The local profile, with the model as a second opinion: the local type stays unless the local engine was
    unsure, the side and parties stay (they come from our names and the defined roles, which the model may not
    know), and the model's reasons and disagreements are shown. No model answer leaves the local profile as it is."""
    local = classify(data)
    model, error = llm.second_opinion("classifier", lambda: classify_with_llm(data, llm))
    if model is None:
        return local, [f"classifier: no usable answer from the model ({error}); the local profile is used"]
    if model.contract_type == local.contract_type:
        profile = local.model_copy(update={"type_source": "both"})
        note = f"classifier: the model agrees the contract is {local.contract_type.upper()}"
    elif local.type_confidence < LOCAL_TYPE_CONFIDENT:
        profile = local.model_copy(update={"contract_type": model.contract_type, "type_source": "model",
                                           "reasons": [*local.reasons, f"the model says {model.contract_type}; the local "
                                                       f"engine was unsure ({local.contract_type}, {local.type_confidence:.0%})"]})
        note = f"classifier: type {model.contract_type.upper()} from the model (local engine unsure: {local.contract_type})"
    else:
        profile = local.model_copy(update={"reasons": [*local.reasons, f"the model said {model.contract_type}; kept "
                                                       f"{local.contract_type} ({local.type_confidence:.0%} from title and content)"]})
        note = f"classifier: the model said {model.contract_type.upper()}, kept {local.contract_type.upper()} (disagreement)"
    profile.reasons += [r for r in model.reasons if "addressed to an AI" in r and r not in profile.reasons]
    return profile, [note]
