"""Compliance agent: the contract against the playbook rules, and spend against the executed terms.

- required clauses for the contract type that extraction did not find → "missing" findings;
- numeric thresholds and allowed jurisdictions, measured inside the clauses of their category;
- forbidden terms, searched in the whole contract (they hide outside their natural section);
- the one-sided terms a lawyer flags first (agents/risk_terms.py), each read for whom it weighs on;
- text that tries to instruct the reviewing tool (from extraction) → security findings;
- with purchase orders / invoices: spend over the contract's annual fees, invoices without a PO.
Every finding cites the sentence it is about as a verified span.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from pydantic import BaseModel, Field

from document_io.clause_frames import MUTUAL as MUTUAL_FRAME
from document_io.clause_frames import limits_liability
from document_io.legal_text import sentence_spans
from agents.injection_guard import CONCEALED_RULE
from agents.schema import (ComplianceReport, ContractProfile, ExtractionResult, Finding, IntakeRequest, RiskLevel, Span,
                           SpendCheck, SpendRecord)
from clause_library.playbook import SEVERITY_ORDER, ClauseLibrary, Severity, applies_to_us
from clause_library.risk_terms import default_risk_terms
from clause_library.rule_engine import RuleHit, evaluate
from document_io.models import SourceDocument

_CORE_CATEGORIES = {"limitation_of_liability", "liability_cap", "governing_law", "data_protection", "confidentiality"}
_MONEY = re.compile(r"(?:USD|US\$|\$|EUR|€|GBP|£)\s?(?P<amount>\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{2})?")


class ComplianceInput(BaseModel):
    document: SourceDocument
    profile: ContractProfile
    extraction: ExtractionResult
    spend: list[SpendRecord] = Field(default_factory=list)
    request: IntakeRequest | None = Field(default=None, description="the business context from intake, when there was one")


def load_spend(path: Path) -> list[SpendRecord]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [SpendRecord.model_validate({k: (v or None) for k, v in row.items()}) for row in csv.DictReader(handle)]


def check_compliance(data: ComplianceInput, library: ClauseLibrary) -> ComplianceReport:
    document, extraction = data.document, data.extraction
    our_side = data.profile.our_side
    findings: list[Finding] = []
    findings += _missing_clauses(data, library)
    if our_side == "unknown":
        findings.append(_side_unknown(data))
    seen: set[tuple[str, int, int]] = set()
    for category in library.categories.values():
        for rule in category.playbook.rules:
            if not applies_to_us(rule.side, our_side) or data.profile.contract_type in rule.not_for:
                continue
            if rule.kind == "forbidden_pattern":
                scopes = [(p.start, p.text, "local") for p in document.paragraphs if p.text.strip()]
            else:
                scopes = [(c.span.start, c.span.quote, c.source) for c in extraction.of_category(category.id)]
            for offset, text, found_by in scopes:
                for hit in evaluate(rule, text, offset):
                    key = (rule.id, hit.start, hit.end)
                    if hit.is_violation and key not in seen and _acts_as_rule_needs(rule, document, hit, data.profile) and not (
                            rule.one_sided_only and _we_have_it_too(rule, document, data.profile)):
                        seen.add(key)
                        accepted = hit.position == "fallback" and _fallback_accepted(rule, document, hit, data.profile)
                        findings.append(_rule_finding(document, category, hit, accepted).model_copy(update={"found_by": found_by}))
    findings += _risk_terms_not_yet_raised(data, library, findings)
    findings += _their_deletions(data)
    findings = _no_cap_needed_by_us(data, library, findings)
    for flag in extraction.injection_flags:
        if flag.concealed:
            title = "Text hidden from a reader"
            explanation = (f"This text is {flag.reason}. It reads: “{_clipped(flag.span.quote)}”. Whatever it says, a "
                           "hidden term binds whoever signs as if it were visible; propose deleting it, and if it is meant, "
                           "it must be written where both sides can read it.")
        else:
            title = "Instructions aimed at the review tool found in the contract"
            explanation = (f"The contract contains text that {flag.reason.removeprefix('text ')}. Contract text is "
                           "treated as data only; a human should decide whether this text stays.")
        findings.append(
            Finding(
                id="",
                source="security",
                rule_id=CONCEALED_RULE if flag.concealed else None,
                category="prompt_injection",
                severity="high",
                position=None,
                title=title,
                explanation=explanation,
                citation=flag.span,
                escalate_to="legal",
            )
        )
    findings.sort(key=lambda f: (f.citation.start, f.category))
    for number, finding in enumerate(findings, start=1):
        finding.id = f"F{number:02d}"
        finding.citation.verify(document)
        if finding.position != "missing" and (changed := document.revisions_touching(finding.citation.start, finding.citation.end)):
            finding.counterparty_change = "; ".join(dict.fromkeys(r.describe() for r in changed))
    if data.request is not None and data.request.amount:
        findings += _cap_below_amount(data)
    return ComplianceReport(findings=findings, spend_checks=_spend_checks(data) if data.spend else [])


WALK_AWAYS_FOR_CRITICAL = 3


def overall_risk(profile: ContractProfile, compliance: ComplianceReport) -> RiskLevel:
    """The worst finding, the contract's inherent risk, and: three or more walk-away hits at once are critical."""
    worst = max((SEVERITY_ORDER[f.severity] for f in compliance.findings), default=0)
    if sum(f.position == "walk_away" for f in compliance.findings) >= WALK_AWAYS_FOR_CRITICAL:
        worst = SEVERITY_ORDER["critical"]
    from_findings = {4: "critical", 3: "high", 2: "medium"}.get(worst, "low")
    levels = ["low", "medium", "high", "critical"]
    return max(profile.inherent_risk, from_findings, key=levels.index)  # type: ignore[return-value]


# what a cap would protect a customer from: an indemnity or an uncapped or fixed liability of ours
_OUR_OPEN_LIABILITY = ("risk.indemnity_by_us", "risk.uncapped_liability", "risk.liquidated_damages")


def _no_cap_needed_by_us(data: ComplianceInput, library: ClauseLibrary, findings: list[Finding]) -> list[Finding]:
    """As the customer, a contract with no cap or exclusion leaves the supplier's liability to us unlimited, which favours
    us; a cap matters only when we carry an open-ended liability of our own (an indemnity, an uncapped or liquidated
    liability). Without one, the missing cap is a note, not a question (judged trivial 6 times in 8 on CUAD train
    reviews; the two useful ones were contracts where we indemnify)."""
    if data.profile.our_side != "customer":
        return findings
    ours = any(f.severity != "info" and f.position != "missing" and (
        f.rule_id in _OUR_OPEN_LIABILITY or f.category in ("indemnification", "limitation_of_liability", "liability_cap"))
        for f in findings)
    if ours:
        return findings
    out = []
    for finding in findings:
        category = library.categories.get(finding.category)
        if finding.position == "missing" and category is not None and limits_liability(category.approved_clause):
            finding = finding.model_copy(update={
                "severity": "info", "escalate_to": None,
                "explanation": f"The contract has no {category.label.lower()} clause, so the supplier's liability to us is "
                "not limited either; nothing in it gives us an open-ended liability of our own (no indemnity by us, no "
                "uncapped or liquidated liability) that a cap would protect. Noted, nothing to ask."})
        out.append(finding)
    return out


_WEIGHTY = re.compile(r"\b(?:secur\w*|data|confidential\w*|indemn\w*|insur\w*|warrant\w*|liab\w*|audit\w*|comply|"
                      r"complian\w*|protect\w*|backup\w*|privacy|personal)\b", re.IGNORECASE)


def _their_deletions(data: ComplianceInput) -> list[Finding]:
    """The other side's tracked deletions that take away what they owed us or what protected us ("Provider shall
    maintain appropriate security measures"): a finding on their change, asking for the words back. Read from the
    deleted sentence's own frame; a deletion in a comment, header or footer, or of a duty of ours, is not one."""
    from document_io.clause_frames import frame_of

    if not any(p.is_us for p in data.profile.parties):
        return []
    ours = {p.name for p in data.profile.parties if p.is_us}
    cast = data.profile.cast()
    findings = []
    for revision in data.document.revisions:
        words = revision.text.split()
        paragraph = data.document.paragraph_at(revision.start)
        if revision.kind != "deletion" or len(words) < 5 or not paragraph.is_contract_text:
            continue
        for start, end in sentence_spans(revision.text):
            deleted = " ".join(revision.text[start:end].split())
            frame = frame_of(deleted, cast)
            theirs = frame.bound not in (None, MUTUAL_FRAME) and frame.bound not in ours and frame.modality in (
                "obligation", "prohibition")
            protects_us = frame.beneficiary in ours
            if not (theirs or protects_us):
                continue
            who = frame.bound if theirs else "the other side"
            findings.append(Finding(
                id="", source="compliance", rule_id="their_deletion", category="their_changes",
                severity="high" if _WEIGHTY.search(deleted) else "medium", position=None,
                title=f"They deleted {'a duty of theirs' if theirs else 'a protection of ours'}",
                explanation=f"The other side's tracked change ({revision.describe()}) deletes “{_clipped(deleted)}”, "
                            f"{'a duty ' + who + ' owed us' if theirs else 'a term that protected us'}. Reject the deletion, "
                            "or ask what replaces it.",
                citation=Span.of(data.document, paragraph.start, paragraph.end) if paragraph.end > paragraph.start
                else Span.of(data.document, revision.start, revision.end),
                escalate_to="legal", counterparty_change=revision.describe()))
    return findings


def _clipped(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def _risk_terms_not_yet_raised(data: ComplianceInput, library: ClauseLibrary, raised: list[Finding]) -> list[Finding]:
    """The risk terms, less those a playbook rule of the same kind already raised on the same text."""
    from agents.risk_terms import find_risk_terms

    same_kind = {c.id: (c.cuad_category or c.id).lower() for c in library.categories.values()}
    terms = {t.id: t for t in default_risk_terms().terms}
    out = []
    for finding in find_risk_terms(data.document, data.profile):
        term = terms[finding.rule_id.removeprefix("risk.")]
        kind = (term.cuad_category or term.id).lower()
        if not any((same_kind.get(f.category) == kind or f.category in term.covered_by)
                   and f.citation.start < finding.citation.end and finding.citation.start < f.citation.end
                   for f in raised if f.position != "missing"):
            out.append(finding)
    return out


def _side_unknown(data: ComplianceInput) -> Finding:
    why = next((r.removeprefix("side unknown: ") for r in data.profile.reasons if r.startswith("side unknown")),
               "it is not known which party we are")
    first = next(p for p in data.document.paragraphs if p.text.strip())
    return Finding(
        id="", source="compliance", rule_id="our_side.unknown", category="our_side", severity="medium", position=None,
        title="Which party are we? Side-dependent checks were skipped",
        explanation=f"Our side is not settled: {why}. Positions such as a liability cap or payment days protect one "
        "side; none was applied and no side-dependent edit is proposed. Say which party we are ('Which party are we?' "
        "at the top of the review page, or `decide THREAD --our-party NAME`); the side-dependent checks then run. "
        "CLAUSEFLOW_OUR_NAMES with our legal name settles it for every later review.",
        citation=Span.of(data.document, first.start, first.end), escalate_to="legal",
    )


def _present_anywhere(document: SourceDocument, category, pending: list[tuple[int, int]] = ()) -> bool:
    """A clause the extractor did not pick out may still be there (a schedule, odd numbering, a rephrased heading):
    a heading naming the category, or a sentence with one of its signals, anywhere in the document counts."""
    heading = re.compile(rf"^\s*(?:(?:section|article|clause)\s+)?[\d.()a-z]*\s*(?:{category.heading})\b", re.IGNORECASE)
    # a run-in heading opens a long paragraph: "11.6 Insurance. Each Party shall maintain ..."
    run_in = re.compile(rf"^\s*(?:(?:section|article|clause)\s+)?[\d.()a-z]*\s*(?:{category.heading})\w*\s*[.:\-–—]\s", re.IGNORECASE)
    # a numbered section title inside a paragraph a filing ran together: "... own account. 18.12 Insurance Philips shall"
    numbered = re.compile(rf"(?:^|[.;:]\s+)\d{{1,2}}(?:\.\d{{1,2}})+\.?\s+(?:{category.heading})\w*\b", re.IGNORECASE)
    signals = [re.compile(s, re.IGNORECASE) for s in (*category.signals, *category.presence)]
    for paragraph in (p for p in document.paragraphs if p.is_contract_text  # not a comment, header or footer
                      and not any(a <= p.start and p.end <= b for a, b in pending)):  # nor wholly their insertion
        if heading.match(paragraph.text) and (len(paragraph.text) < 400 or run_in.match(paragraph.text)):
            return True
        if numbered.search(paragraph.text):
            return True
        if any(signal.search(paragraph.text) for signal in signals):
            return True
    return False


def _given_only_by_us(data: ComplianceInput, category) -> str | None:
    """For a clause that protects us only when the other side gives it (an indemnity, insurance, a warranty): the
    sentence of the only such clause when every one the contract has is given by us alone ("Buyer shall defend,
    indemnify and hold harmless Supplier"), else None. Not settled (our side unknown, nobody named) counts as theirs."""
    allowed = category.playbook.protects_when_acting
    if not allowed or not any(p.is_us for p in data.profile.parties):
        return None
    signals = [re.compile(s, re.IGNORECASE) for s in category.signals]
    spans = [(c.span.start, c.span.end) for c in data.extraction.clauses if c.category == category.id]
    contract = data.document.contract_text()
    for start, end in sentence_spans(contract):
        sentence = contract[start:end]
        if any((m := signal.search(sentence)) for signal in signals):
            spans.append((start + m.start(), start + m.end()))
    if not spans:
        return None
    actors = [(_actor(data, start, end), start, end) for start, end in spans]
    ours = [(start, end) for actor, start, end in actors if actor == "us"]
    if ours and not any(actor in (*allowed, "unknown") for actor, _, _ in actors):
        return " ".join(_sentence_around(data.document, *ours[0]).quote.split())
    return None


def _actor(data: ComplianceInput, start: int, end: int) -> str:
    """Who acts in the sentence around a hit; a binding sentence whose actor the frames cannot name ("8.7 The Repairer
    shall ... maintain ... insurance" with no "Repairer" in the cast) is "unknown", not nobody: it may be theirs. A
    heading ("10. Indemnification by Buyer.") binds nobody."""
    actor = who_acts(data.document, start, end, data.profile)
    if actor == "nobody" and re.search(r"\b(?:shall|will|must|agrees?|undertakes?|covenants?)\b",
                                       _sentence_around(data.document, start, end).quote, re.IGNORECASE):
        return "unknown"
    return actor


def _missing_clauses(data: ComplianceInput, library: ClauseLibrary) -> list[Finding]:
    # a clause that is wholly their tracked insertion, pending acceptance, is their proposal: it is reviewed like any
    # other text, but does not make the clause present (accepting it is the reviewer's decision, not the review's)
    insertions = [(r.start, r.end) for r in data.document.revisions if r.kind == "insertion"]
    # a clause only the model found never closes a missing-clause finding: a person (or the local engine) does;
    # the finding says what the model found, for the reviewer to check
    present = {c.category for c in data.extraction.clauses if c.source != "model"
               and not any(s <= c.span.start and c.span.end <= e for s, e in insertions)}
    model_found = {c.category: c for c in data.extraction.clauses if c.source == "model"}
    anchor = _insertion_anchor(data.document, data.extraction)
    findings = []
    required = library.required_for(data.profile.contract_type)
    personal_data = data.request is not None and data.request.personal_data
    if personal_data and "data_protection" in library.categories and library.categories["data_protection"] not in required:
        required.append(library.categories["data_protection"])  # the request says personal data: DPA terms are needed
    for category in required:
        if not applies_to_us(category.playbook.required_side, data.profile.our_side):
            continue
        rule = category.playbook.not_required_when
        contract = data.document.contract_text()
        if rule and re.search(rule, contract, re.IGNORECASE):
            continue  # e.g. a royalty-free licence needs no payment terms
        needed_when = category.playbook.required_when.get(data.profile.contract_type)
        if needed_when and not re.search(needed_when, contract, re.IGNORECASE) and not personal_data:
            continue  # e.g. a consultant who never touches our data or premises needs no insurance clause
        only_ours = _given_only_by_us(data, category)
        if not only_ours and (category.id in present or _present_anywhere(data.document, category, insertions)):
            continue
        findings.append(
            Finding(
                id="",
                source="compliance",
                rule_id=f"{category.id}.required",
                category=category.id,
                severity="high" if category.id in _CORE_CATEGORIES else "medium",
                position="missing",
                title=f"No {category.label.lower()} clause" + (" protecting us" if only_ours else ""),
                explanation=(f"The request (by {data.request.requester}) says personal data is involved, so the contract "
                             if personal_data and category.id == "data_protection" and data.profile.contract_type not in
                             category.playbook.required_for else f"A {data.profile.contract_type.upper()} ")
                + f"must contain a {category.label.lower()} clause "
                + (f"protecting us (the only one here is given by us: \u201c{only_ours[:120]}\u201d) " if only_ours else "")
                + f"(playbook: {category.playbook.preferred}). The approved clause can be inserted after the cited paragraph."
                + (f" The model also found a possible {category.label.lower()} clause: \u201c{_clipped(model_found[category.id].span.quote)}\u201d"
                   " — if it is one, reject this suggestion." if category.id in model_found else ""),
                citation=anchor,
                expected=category.playbook.preferred,
                escalate_to=category.playbook.escalate_to,
            )
        )
    return findings


_BODY_ENDS = re.compile(
    r"^\s*(?:in witness whereof|signed(?: by| for|,)|for and on behalf of|agreed and accepted|signature(?:s| page)?\b|"
    r"executed (?:by|as)|(?:by|name|title|signature)\s*:\s*_{3,}|"
    r"(?:schedule|exhibit|annex|appendix|attachment|addendum)\s*(?:[A-Z0-9]{1,4}\b|[ivx]+\b)?\s*(?:[-–—:.]|$))",
    re.IGNORECASE,
)


def body_end(document: SourceDocument) -> int:
    """Index of the first paragraph after the operative terms: the signature block or the first schedule /
    exhibit heading (past the opening fifth, so a table of contents does not count)."""
    # headers, footers, notes, comments and text boxes follow the body paragraphs: never part of the body
    paragraphs = [p for p in document.paragraphs if p.part == "body"]
    for paragraph in paragraphs[max(1, len(paragraphs) // 5):]:
        if _BODY_ENDS.match(paragraph.text) and len(paragraph.text) < 200:
            return paragraph.index
    return len(paragraphs)


def _insertion_anchor(document: SourceDocument, extraction: ExtractionResult) -> Span:
    """New clauses go after the last body paragraph: before signature blocks, schedules and exhibits, and after a
    paragraph of text rather than a heading."""
    end = body_end(document)
    body = [p for p in document.paragraphs[:end]
            if len(p.text.strip()) >= 40 and not p.hidden and not p.in_table and "___" not in p.text]
    complete = [p for p in body if _ends_a_clause(document, p)]
    paragraph = (complete or body or [p for p in document.paragraphs if p.text.strip() and p.part == "body"])[-1]
    return Span.of(document, paragraph.start, paragraph.end)


def _ends_a_clause(document: SourceDocument, paragraph) -> bool:
    """A paragraph that ends a sentence and is not continued by the next one (a clause a filing or a page break cut
    in two continues in lower case): a new clause after it does not split anything."""
    if not re.search(r"[.;:!?)\]\"”']\s*$", paragraph.text):
        return False
    following = next((p.text.strip() for p in document.paragraphs[paragraph.index + 1:] if p.text.strip()), "")
    return not re.match(r"^(?:\d+\s+)?[a-z]", following)


def who_acts(document: SourceDocument, start: int, end: int, profile: ContractProfile) -> str:
    """'us', 'them', 'mutual' or 'nobody': who acts in the clause around [start, end) - gives the notice, pays, has its
    liability capped - read from the clause's frame (document_io/clause_frames.py); 'unknown' while our side is."""
    from document_io.clause_frames import MUTUAL, acting_party

    sentence = _sentence_around(document, start, end)
    parties = profile.cast()
    actor = acting_party(sentence.quote, start - sentence.start, parties)
    if actor is None:
        return "nobody"
    if actor == MUTUAL:
        return "mutual"
    if not any(p.is_us for p in profile.parties):
        return "unknown"
    return "us" if any(p.is_us and p.name == actor for p in profile.parties) else "them"


def _acts_as_rule_needs(rule, document: SourceDocument, hit: RuleHit, profile: ContractProfile) -> bool:
    """A rule that protects one direction applies only where the clause runs that way: the notice we must give, not
    the one they give us; their cap, not ours."""
    if rule.acting is None:
        return True
    return who_acts(document, hit.start, hit.end, profile) in rule.acting


def _we_have_it_too(rule, document: SourceDocument, profile: ContractProfile) -> bool:
    """The same term running the other way somewhere in the contract: their right given to us or to either party too,
    or - for a rule on what we do - their matching indemnity of us ('8.1 Indemnification by APOLLO ... 8.2
    Indemnification by ESTABLISHMENT'). Then ours is not one-sided."""
    other_way = ("them", "mutual") if rule.acting == ["us"] else ("us", "mutual")
    contract = document.contract_text()
    return any(who_acts(document, _verb_of(contract, start, end), end, profile) in other_way
               for start, end in _every_match(rule.pattern, contract))


def _verb_of(text: str, start: int, end: int) -> int:
    """Just after the match's modal ("Buyer may| terminate"): the party who acts is the one named before it."""
    modal = re.search(r"\b(?:may|shall|will|must|is|are|agrees?)\b", text[start:end], re.IGNORECASE)
    return start + modal.end() if modal else start


def _every_match(pattern: str, text: str):
    """Every match, overlapping ones too: "Supplier may terminate ..., and Buyer may terminate it ..." holds two rights
    though the first match runs to the end of the sentence."""
    regex, position = re.compile(pattern, re.IGNORECASE), 0
    while (m := regex.search(text, position)) is not None:
        yield m.start(), m.end()
        position = m.start() + 1


def _fallback_accepted(rule, document: SourceDocument, hit: RuleHit, profile: ContractProfile) -> bool:
    if isinstance(rule.fallback_accepted, bool):
        return rule.fallback_accepted
    return who_acts(document, hit.start, hit.end, profile) in rule.fallback_accepted


def _rule_finding(document: SourceDocument, category, hit: RuleHit, fallback_accepted: bool = False) -> Finding:
    rule = hit.rule
    severity: Severity = rule.severity
    escalate = None
    if hit.position == "fallback":
        severity = "info" if fallback_accepted else "low"
    elif hit.position == "walk_away":
        # Critical is kept for walk-aways on the terms that decide exposure (liability, our data, indemnities);
        # any other walk-away is at least high. So risk separates contracts instead of calling every one critical.
        severity = "critical" if category.playbook.core_exposure else max(rule.severity, "high", key=SEVERITY_ORDER.get)
        escalate = category.playbook.escalate_to
        if rule.asks_only(hit.measured):
            severity = "medium"
    positions = rule.ladder or category.playbook  # a rule for one side argues its own ladder
    ladder = {
        "fallback": f"on our fallback rung ({positions.fallback.rstrip('.')}); accepted as it stands, noted" if fallback_accepted
        else f"acceptable only as our fallback ({positions.fallback.rstrip('.')})",
        "beyond_fallback": f"worse than our fallback ({positions.fallback.rstrip('.')})",
        "walk_away": f"at our walk-away point ({positions.walk_away.rstrip('.')})",
    }[hit.position]
    return Finding(
        id="",
        source="compliance",
        rule_id=rule.id,
        category=category.id,
        severity=severity,
        position=hit.position,
        title=rule.description,
        explanation=f"The contract says '{hit.measured}', which is {ladder}. Preferred: {positions.preferred.rstrip('.')}.",
        citation=_sentence_around(document, hit.start, hit.end),
        measured=hit.measured,
        expected=str(rule.preferred_value) if rule.preferred_value is not None else positions.preferred,
        escalate_to=escalate,
    )


def _sentence_around(document: SourceDocument, start: int, end: int) -> Span:
    paragraph = document.paragraph_at(start)
    for s, e in sentence_spans(paragraph.text):
        if paragraph.start + s <= start and end <= paragraph.start + e:
            return Span.of(document, paragraph.start + s, paragraph.start + e)
    return Span.of(document, paragraph.start, paragraph.end)


def _spend_checks(data: ComplianceInput) -> list[SpendCheck]:
    checks = []
    fee_clauses = [c for c in data.extraction.clauses if c.category in ("payment_terms", "price_escalation")]
    amounts = [int(m.group("amount").replace(",", "")) for c in fee_clauses for m in _MONEY.finditer(c.span.quote)]
    invoices = [r for r in data.spend if r.kind == "invoice"]
    if amounts and invoices:
        annual_fee = max(amounts)
        latest = max(r.date for r in invoices)
        window = [r for r in invoices if (latest - r.date).days < 365]
        total = sum(r.amount for r in window)
        checks.append(
            SpendCheck(
                title="Invoiced spend within the contract's annual fees",
                ok=total <= annual_fee,
                detail=f"{total:,.2f} invoiced in the 12 months to {latest.isoformat()} against annual fees of {annual_fee:,}",
            )
        )
    purchase_orders = {r.number for r in data.spend if r.kind == "po"}
    orphan = [r.number for r in invoices if not r.po_number or r.po_number not in purchase_orders]
    checks.append(
        SpendCheck(
            title="Every invoice matches a purchase order",
            ok=not orphan,
            detail="all invoices match a PO" if not orphan else f"invoices without a matching PO: {', '.join(orphan)}",
        )
    )
    return checks


def _cap_below_amount(data: ComplianceInput) -> list[Finding]:
    """A liability cap stated as an amount, in the request's currency, below what the request says we will pay: the
    cap would not cover the fees themselves. Caps written as a multiple of fees are left to the playbook's rules."""
    from document_io.quantities import find_money

    request = data.request
    for clause in data.extraction.of_category("liability_cap"):
        amounts = [m for m in find_money(clause.span.quote) if m.currency == request.currency]
        if amounts and (cap := max(m.value for m in amounts)) < request.amount and data.profile.our_side == "customer":
            return [Finding(
                id="", source="compliance", rule_id="intake.cap_below_amount", category="liability_cap", severity="high",
                position="beyond_fallback", title="Liability cap below the contract's value",
                explanation=f"The cap ({request.currency} {cap:,.0f}) is below the {request.currency} {request.amount:,.0f} the "
                            f"request says we will pay: the supplier's liability would not cover the fees.",
                citation=clause.span, measured=f"{request.currency} {cap:,.0f}",
                expected=f"at least {request.currency} {request.amount:,.0f}", escalate_to="legal")]
    return []
