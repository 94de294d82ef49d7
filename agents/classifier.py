"""Classifier agent: contract type, parties, our side, inherent risk, and which functions must review.

Local engine: the title decides the type when it names one (it almost always does); otherwise the
keyword profile of the opening text. Parties come from the preamble's defined terms, and our side from
matching our own names (configuration) against them.
LLM backend: the model reads the opening (~1,500 tokens) and the headings, and answers in the same model.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field

from agents.schema import ContractProfile, ContractType, IntakeRequest, Party, RiskLevel, Side
from clause_library.playbook import ReviewFunction
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
_CUSTOMER_ROLES = r"customer|client|buyer|purchaser|licensee|subscriber|recipient|receiving party|distributor|reseller|controller"
_SUPPLIER_ROLES = r"supplier|vendor|provider|licensor|seller|contractor|consultant|disclosing party|processor|manufacturer|company"
_PREAMBLE_PARTY = re.compile(
    r"(?:\b(?i:between|and|by)\b[:\s]+)(?P<name>[A-Za-z0-9][\w.,&'’/ -]{2,80}?)\s*(?:,[^()]{0,200}?)?"
    r"\(\s*(?i:(?:hereinafter|herein)\s+(?:(?:referred\s+to|called)\s+)?(?:as\s+)?)?(?i:the\s+|each\s+a\s+|a\s+)?"
    r"[\"“'”]\s*(?i:the\s+)?(?P<role>[A-Za-z][\w .&-]{1,38}?)\s*[\"”'“]",
)


class ClassifierInput(BaseModel):
    document: SourceDocument
    our_names: list[str] = Field(description="names our organisation signs under")
    side: Literal["customer", "supplier"] | None = Field(default=None, description="our side, when the reviewer says it")


def classify(data: ClassifierInput) -> ContractProfile:
    document = data.document
    title = _title(document)
    contract_type, confidence, type_reason = _contract_type(title, document.text[:4000])
    parties = _parties(document.text[:3000], data.our_names)
    side, side_reason = _our_side(parties, document.text[:3000], contract_type)
    if data.side:
        side, side_reason = data.side, f"side {data.side}: given by the reviewer"
        parties = _mark_us_by_side(parties, data.side)
    functions, function_reasons = _review_functions(contract_type, document.text)
    risk, risk_reason = _inherent_risk(contract_type, document.text)
    counterparty = next((p.name for p in parties if not p.is_us), None)
    return ContractProfile(
        title=title,
        contract_type=contract_type,
        type_confidence=confidence,
        parties=parties,
        counterparty=counterparty,
        our_side=side,
        inherent_risk=risk,
        review_functions=functions,
        reasons=[type_reason, side_reason, risk_reason, *function_reasons],
    )


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
        if len(text) <= 150 and _NAMES_AN_AGREEMENT.search(text) and not text.lower().startswith(("source:", "table of contents")):
            return text
    for text in opening[:8]:
        if len(text) <= 120 and not _NOT_A_TITLE.search(text):
            return text
    return document.name


def _contract_type(title: str, opening: str) -> tuple[ContractType, float, str]:
    for contract_type, pattern in _TYPE_PATTERNS:
        if re.search(pattern, title, re.IGNORECASE):
            return contract_type, 0.95, f"type {contract_type}: the title '{title[:60]}' says so"
    counts = {t: len(re.findall(p, opening, re.IGNORECASE)) for t, p in _TYPE_PATTERNS}
    best = max(counts, key=lambda t: counts[t])
    if counts[best] == 0:
        return "other", 0.3, "type other: neither the title nor the opening names a known contract type"
    total = sum(counts.values())
    return best, round(min(0.9, 0.4 + 0.5 * counts[best] / total), 2), f"type {best}: most frequent type terms in the opening"


def _parties(preamble: str, our_names: list[str]) -> list[Party]:
    parties: list[Party] = []
    for match in _PREAMBLE_PARTY.finditer(preamble):
        name = match.group("name").strip(" ,")
        name = re.sub(r"^(?:(?:and|between|by)\s+)+", "", name, flags=re.IGNORECASE)
        if any(p.name == name for p in parties):
            continue
        is_us = any(n.lower() in name.lower() for n in our_names if n)
        role = re.sub(r"^(?i:the)\s+", "", match.group("role").strip())
        parties.append(Party(name=name, role=role, is_us=is_us))
        if len(parties) == 2:
            break
    return parties


def _our_side(parties: list[Party], preamble: str, contract_type: ContractType) -> tuple[Side, str]:
    us = next((p for p in parties if p.is_us), None)
    if contract_type == "nda" and re.search(r"\bmutual\b|each party (may|will) disclose", preamble, re.IGNORECASE):
        return "mutual", "side mutual: a mutual NDA"
    if us is None:
        return "unknown", "side unknown: none of our names appears among the parties"
    role = (us.role or "").lower()
    if re.search(_CUSTOMER_ROLES, role):
        return "customer", f"side customer: we are defined as '{us.role}'"
    if re.search(_SUPPLIER_ROLES, role):
        return "supplier", f"side supplier: we are defined as '{us.role}'"
    return "unknown", f"side unknown: our defined term '{us.role}' is not a known role"


def _mark_us_by_side(parties: list[Party], side: str) -> list[Party]:
    """The reviewer's word wins: the party whose defined role is that side's is us (when one is)."""
    roles = _CUSTOMER_ROLES if side == "customer" else _SUPPLIER_ROLES
    ours = [bool(p.role and re.search(roles, p.role.lower())) for p in parties]
    if sum(ours) != 1:
        return parties
    return [p.model_copy(update={"is_us": mine}) for p, mine in zip(parties, ours)]


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
        counterparty=next((p.name for p in answer.parties if not p.is_us), None), our_side=answer.our_side,
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
