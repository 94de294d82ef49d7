"""Pydantic models at the boundaries between agents: what each agent hands the next, and what the reviewer sees.

Every piece of text an agent claims is in the contract travels as a `Span`, and `Span.verify` checks it
against the document before anything is shown to a reviewer.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from clause_library.playbook import Position, ReviewFunction, Severity
from document_io.contract_cast import CastParty
from document_io.dates import PartialDate
from document_io.docx_redline import ParagraphInsertion, TextEdit
from document_io.models import SourceDocument

ContractType = Literal[
    "nda", "msa", "saas", "dpa", "sow", "licence", "supply", "distribution", "reseller", "services",
    "franchise", "joint_venture", "employment", "lease", "other",
]
Side = Literal["customer", "supplier", "mutual", "unknown"]
RiskLevel = Literal["low", "medium", "high", "critical"]
DecisionAction = Literal["approve", "modify", "reject", "escalate"]


class GroundingError(ValueError):
    """A quoted text that is not in the document at the claimed place."""


class Span(BaseModel):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    quote: str

    def verify(self, document: SourceDocument) -> Span:
        if self.end <= self.start or document.text[self.start : self.end] != self.quote:
            raise GroundingError(f"quote {self.quote[:60]!r} is not at {self.start}-{self.end} of {document.name}")
        return self

    @classmethod
    def of(cls, document: SourceDocument, start: int, end: int) -> Span:
        return cls(start=start, end=end, quote=document.text[start:end])


# --- classifier -------------------------------------------------------------------------------------


class Party(BaseModel):
    name: str = Field(description="the legal name as the contract writes it")
    role: str | None = Field(default=None, description="the defined term the contract calls it by, e.g. 'Supplier', 'Bluefly'")
    is_us: bool = False
    defined_terms: list[str] = Field(default_factory=list, description="every term the contract defines for it")
    entity_form: str | None = Field(default=None, description="'Inc.', 'LLC', 'GmbH', 'corporation', 'individual'")
    jurisdiction: str | None = Field(default=None, description="where it is organised, when the preamble says")
    side: Literal["customer", "supplier"] | None = Field(default=None, description="its side of the deal, read from who "
                                                          "pays, supplies, licenses or distributes in the text")
    side_evidence: list[str] = Field(default_factory=list, description="why that side: 'pays or buys (4×)', ...")


class IntakeRequest(BaseModel):
    """The business context of a contract, from whoever asked for it: travels with the review and into the repository."""

    requester: str = Field(min_length=1, max_length=200)
    supplier: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=100, description="what is bought, e.g. 'cloud software'")
    amount: float | None = Field(default=None, ge=0, description="the expected total value")
    currency: str = Field(default="USD", pattern="^[A-Z]{3}$")
    purpose: str | None = Field(default=None, max_length=2000)
    personal_data: bool = False
    security_relevant: bool = False
    deadline: date | None = None


class ContractProfile(BaseModel):
    title: str
    contract_type: ContractType
    type_confidence: float = Field(ge=0, le=1)
    parties: list[Party]
    counterparty: str | None
    our_side: Side
    inherent_risk: RiskLevel
    review_functions: list[ReviewFunction]
    reasons: list[str] = Field(description="why this type, side, risk and these functions")
    type_source: Literal["local", "model", "both"] = "local"
    sign_off_steps: list[ReviewFunction] = Field(default_factory=list, description="from the routing policy at intake: "
                                                 "the functions that sign off, in order (empty: one sign-off, any function)")

    def cast(self) -> list[CastParty]:
        """The parties as the clause-frame reader takes them (name and defined terms). Parties that share a defined term
        ('WYZZ, Inc. and WYZZ Licensee, Inc. (collectively "WYZZ")') and are on the same footing (both us, or both not)
        are one party, named by the first: otherwise 'WYZZ shall pay' names two parties and is read as binding nobody."""
        return [CastParty(name=group[0].name, defined_terms=list(dict.fromkeys(t for p in group for t in p.defined_terms)),
                          start=0, end=0, found_in="preamble") for group in self.party_groups()]

    def party_groups(self) -> list[list[Party]]:
        groups: list[list[Party]] = []
        for party in self.parties:
            terms = {t.lower() for t in party.defined_terms}
            group = next((g for g in groups if all(m.is_us == party.is_us for m in g)
                          and terms & {t.lower() for m in g for t in m.defined_terms}), None)
            if group is None:
                groups.append([party])
            else:
                group.append(party)
        return groups


# --- clause extraction ------------------------------------------------------------------------------


class ExtractedClause(BaseModel):
    category: str
    span: Span
    score: float = Field(ge=0, le=1)
    method: Literal["rules", "embedding", "rules+embedding", "clause_model", "trained_head", "llm"]  # trained_head: reviews before the clause model
    source: Literal["local", "model", "both"] = Field(default="local", description="who found it: the local engine, "
                                                      "the model (LLM backend), or both")


class InjectionFlag(BaseModel):
    """Text inside the contract that addresses an AI / reviewer instead of the parties. Never obeyed."""

    span: Span
    reason: str
    concealed: str | None = Field(default=None, description="how the text is hidden from a reader (white text, "
                                  "hidden by its style, 1 pt ...); None for visible text that reads as an instruction")


class ExtractionResult(BaseModel):
    clauses: list[ExtractedClause]
    injection_flags: list[InjectionFlag] = Field(default_factory=list)

    def of_category(self, category: str) -> list[ExtractedClause]:
        return [c for c in self.clauses if c.category == category]


# --- compliance -------------------------------------------------------------------------------------


class Finding(BaseModel):
    id: str
    source: Literal["compliance", "renewal", "security"]
    rule_id: str | None
    category: str
    severity: Severity
    position: Position | None = Field(description="where the contract sits on the playbook ladder")
    title: str
    explanation: str
    citation: Span
    measured: str | None = Field(default=None, description="the value found, e.g. '180 days'")
    expected: str | None = Field(default=None, description="the playbook's preferred value")
    escalate_to: ReviewFunction | None = None
    counterparty_change: str | None = Field(default=None, description="the cited text is a change the other side "
                                            "tracked in the document they sent, e.g. 'inserted by J. Smith on 2024-05-02'")
    found_by: Literal["local", "model", "both"] = Field(default="local", description="who found the clause it rests on")


class SpendRecord(BaseModel):
    """One purchase order or invoice line from the buyer's system (CSV: date,kind,number,po_number,amount,currency)."""

    date: date
    kind: str = Field(pattern="^(po|invoice)$")
    number: str
    po_number: str | None = None
    amount: float
    currency: str = "USD"


class SpendCheck(BaseModel):
    title: str
    ok: bool
    detail: str


class ComplianceReport(BaseModel):
    findings: list[Finding]
    spend_checks: list[SpendCheck] = Field(default_factory=list)


# --- redlining --------------------------------------------------------------------------------------


QUESTION_CATEGORIES = {"our_side"}  # flags that ask the reviewer something; what they cite is context, not the clause


class Suggestion(BaseModel):
    """One item the reviewer must decide. `edits` are minimal changes inside `citation`;
    `insertion` adds a missing clause after the cited paragraph; a flag-only item has neither."""

    id: str
    finding_id: str
    category: str
    severity: Severity
    kind: Literal["edit", "insert", "flag"]
    title: str
    citation: Span
    proposed_text: str | None = Field(description="the cited text as it would read after the edits, or the new clause")
    edits: list[TextEdit] = Field(default_factory=list)
    insertion: ParagraphInsertion | None = None
    fallback_text: str | None = Field(
        default=None, description="the cited text at the playbook's fallback position, re-checked like the edit: what the "
        "reviewer can choose instead when the preferred position will not be accepted (recorded as a modify)")
    rationale: str
    playbook_position: str = Field(description="the playbook position this suggestion moves toward")
    library_clause_id: str | None = None
    escalate_to: ReviewFunction | None = None
    counterparty_change: str | None = Field(default=None, description="as on the finding: text the other side changed")
    wording_by: Literal["playbook", "model"] = Field(default="playbook", description="who wrote the proposed wording")
    found_by: Literal["local", "model", "both"] = Field(default="local", description="who found the clause it rests on")

    @property
    def rewordable(self) -> bool:
        """Whether a reviewer's own wording (modify) may replace what it cites: an edit or an inserted clause always; a
        flag only when it cites one clause (one paragraph) and is about that clause. A question ("which party are
        we?", which cites the title) or a flag on a run of clauses takes a comment: a wording there would delete
        everything it cites."""
        if self.kind != "flag":
            return True
        return self.category not in QUESTION_CATEGORIES and "\n" not in self.citation.quote.strip()


class DroppedEdit(BaseModel):
    """An automatic edit withheld because re-checking it against its own rule failed: shown as a flag instead."""

    suggestion_id: str
    rule_id: str
    reason: str


class RedlineSet(BaseModel):
    suggestions: list[Suggestion]
    dropped_edits: list[DroppedEdit] = Field(default_factory=list)


# --- renewal leverage -------------------------------------------------------------------------------


class RenewalTerms(BaseModel):
    agreement_date: date | None = Field(default=None, description="the date the agreement is made or dated")
    agreement_date_partial: PartialDate | None = Field(default=None, description="what a date left blank shows: the year")
    effective_date: date | None
    effective_date_partial: PartialDate | None = None
    effective_date_citation: Span | None = None
    initial_term_months: float | None
    term_citation: Span | None = None
    auto_renews: bool
    renewal_kind: Literal["automatic", "option", "mutual"] | None = Field(
        default=None, description="automatic: renews unless a party stops it; option: a party may extend it; mutual: "
        "only if both agree")
    renewal_count: int | None = Field(default=None, description="how many renewals the clause allows (None: successive)")
    renewal_term_months: float | None
    renewal_citation: Span | None = None
    notice_days: int | None = Field(description="notice tied to renewal: to stop an automatic one, or to exercise an option")
    notice_months: int | None = Field(default=None, description="the same notice when stated in calendar months or years")
    notice_fixed_day: str | None = Field(default=None, description="'MM-DD': notice due on or before a day of the year")
    notice_citation: Span | None = None
    until_terminated: bool = Field(default=False, description="the term runs until a party ends it: no end date")
    redacted: list[str] = Field(default_factory=list, description="facts the clause states but the filer redacted")
    current_term_end: date | None = None
    expiration_date: date | None = Field(default=None, description="end of the initial term: stated, or effective date + term")
    expiration_partial: PartialDate | None = Field(default=None, description="an end counted from a date left blank")
    expiration_may_move: bool = Field(default=False, description="the term ends on the later of this date and an event")
    expiration_citation: Span | None = None
    notice_deadline: date | None = Field(default=None, description="as of the review date: the next deadline still open, "
                                         "else the one that passed in the current term")
    days_until_deadline: int | None = None
    price_escalator: str | None = None
    price_escalator_citation: Span | None = None


class NegotiationBrief(BaseModel):
    terms: RenewalTerms
    leverage_points: list[str]
    recommended_action: str
    annual_spend: float | None = None
    sla_attainment: float | None = None


# --- human review -----------------------------------------------------------------------------------


class Decision(BaseModel):
    suggestion_id: str
    action: DecisionAction
    reviewer: str = Field(min_length=1)
    decided_at: datetime
    modified_text: str | None = Field(default=None, description="the reviewer's own text, for 'modify'")
    comment: str | None = None
    escalate_to: ReviewFunction | None = Field(default=None, description="for 'escalate': the function that must decide next")
    authenticated_by: str | None = Field(default=None, description="how the reviewer proved who they are: 'web session', "
                                         "'cli password', 'cli api token'; None where no reviewer accounts exist")


class ReviewComment(BaseModel):
    """One entry in a suggestion's comment thread (who, when, what); written as a Word comment at finalisation."""

    suggestion_id: str
    author: str = Field(min_length=1)
    at: datetime
    text: str = Field(min_length=1, max_length=4000)
