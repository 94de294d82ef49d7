"""The review report: one pydantic model, written as JSON for machines and Markdown for people. It lives with the graph
that fills it (it is made of the agents' outputs), not with the document tools below them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from agents.schema import (ComplianceReport, ContractProfile, Decision, DroppedEdit, IntakeRequest, NegotiationBrief, ReviewComment, RiskLevel,
                           Suggestion)


class ReviewReport(BaseModel):
    document: str
    source_path: str
    sha256: str
    thread_id: str
    overall_risk: RiskLevel
    profile: ContractProfile
    compliance: ComplianceReport
    suggestions: list[Suggestion]
    decisions: dict[str, Decision]
    comments: dict[str, list[ReviewComment]] = {}  # each suggestion's comment thread, oldest first
    dropped_edits: list[DroppedEdit] = []
    renewal: NegotiationBrief
    signed_off_by: str | None = None
    signed_off_at: datetime | None = None
    their_changes: list[str] = []  # the sender's tracked changes and comments in the document as received
    backend: str = "local"
    model_notes: list[str] = []  # on the hybrid backend: what the model confirmed, added, or could not answer
    model_run: dict[str, dict] = {}  # per agent: model, endpoint, the output mode that worked, prompt version
    request: IntakeRequest | None = None  # the business context from intake
    rounds: list[str] = []  # for the other side's reply: what they did with each change we asked for, and what else moved
    sign_off_steps: list[str] = []  # a sequential sign-off: who signed each step before the final sign-off


def render_markdown(report: ReviewReport) -> str:
    p, r = report.profile, report.renewal.terms
    lines = [
        f"# Contract review — {report.document}",
        "",
        f"- **Type:** {p.contract_type.upper()} ({p.title}), confidence {p.type_confidence:.0%}",
        "- **Parties:** " + "; ".join(f"{x.name} ({x.role or 'no defined role'}{', us' if x.is_us else ''})" for x in p.parties),
        f"- **Our side:** {p.our_side}",
        f"- **Overall risk:** {report.overall_risk} (inherent: {p.inherent_risk})",
        f"- **Must review:** {', '.join(p.review_functions)}",
        f"- **Thread:** `{report.thread_id}` · source sha256 `{report.sha256[:12]}`",
        f"- **Signed off:** {report.signed_off_by or 'not yet'}"
        + (f" at {report.signed_off_at:%Y-%m-%d %H:%M} UTC" if report.signed_off_at else ""),
        *[f"  - sign-off step: {line}" for line in report.sign_off_steps],
        "",
        *(_request_lines(report.request) if report.request else []),
        *(["## Negotiation rounds", "", *[f"- {line}" for line in report.rounds], ""] if report.rounds else []),
        *(["## The other side's changes and comments", "", *[f"- {line}" for line in report.their_changes], ""]
          if report.their_changes else []),
        *([f"## What the model contributed ({report.backend})", "", *[f"- {n}" for n in report.model_notes], ""]
          if report.model_notes else []),
        *(["## Model run", "", *[f"- {agent}: {r.get('model')} at {r.get('endpoint')}, output mode {r.get('output_mode')}, "
                                  f"prompt {r.get('prompt')}" + (f"; {r['server']}" if r.get("server") else "") for agent, r in report.model_run.items()], ""]
          if report.model_run else []),
        "## Key dates",
        "",
        f"- Effective date: {r.effective_date or 'not found'}",
        f"- Initial term: {f'{r.initial_term_months:g} months' if r.initial_term_months else 'not found'}",
        f"- Auto-renewal: {'yes' if r.auto_renews else 'no'}"
        + (f", {r.renewal_term_months:g}-month renewal terms" if r.renewal_term_months else ""),
        f"- Notice to stop renewal: {f'{r.notice_days} days' if r.notice_days is not None else 'not found'}",
        f"- Current term ends: {r.current_term_end or 'unknown'}",
        f"- Notice deadline: {r.notice_deadline or 'unknown'}"
        + (f" ({r.days_until_deadline} days from the review date)" if r.days_until_deadline is not None else ""),
        "",
        "## Findings and decisions",
        "",
    ]
    findings = {f.id: f for f in report.compliance.findings}
    for s in report.suggestions:
        finding = findings.get(s.finding_id)
        decision = report.decisions.get(s.id)
        lines += [
            f"### {s.id} · {s.severity.upper()} · {s.category} — {s.title}",
            "",
            f"> {s.citation.quote}",
            "",
            f"*Cited at characters {s.citation.start}–{s.citation.end}.*"
            + (f" Playbook position: **{finding.position}**." if finding and finding.position else ""),
            "",
            s.rationale,
            "",
        ]
        if s.counterparty_change:
            lines += [f"*In text the other side changed: {s.counterparty_change}.*", ""]
        if s.wording_by == "model":
            lines += ["*Wording proposed by the model and re-checked against the playbook.*", ""]
        if s.found_by != "local":
            lines += [f"*Found by {'the model only' if s.found_by == 'model' else 'the local engine and the model'}.*", ""]
        if s.proposed_text is not None:
            lines += [f"Proposed: {s.proposed_text or '(delete the cited text)'}", ""]
        if s.escalate_to:
            lines += [f"Escalate to: **{s.escalate_to}**", ""]
        if decision:
            lines += [f"**Decision:** {decision.action} by {decision.reviewer} at {decision.decided_at:%Y-%m-%d %H:%M} UTC"
                      + (f" — “{decision.comment}”" if decision.comment else ""), ""]
            if decision.modified_text:
                lines += [f"Reviewer's text: {decision.modified_text}", ""]
        if report.comments.get(s.id):
            lines += ["Comments:", ""] + [f"- {c.author}, {c.at:%Y-%m-%d %H:%M} UTC: {c.text}" for c in report.comments[s.id]] + [""]
    notes = [f for f in report.compliance.findings if f.severity == "info"]
    if notes:
        # what was read and needs nothing from the reviewer: a term in our favour, a fallback accepted, a duplicate
        lines += ["## Noted, nothing to ask", ""]
        lines += [f"- {f.title} — “{_short(f.citation.quote)}” (characters {f.citation.start}–{f.citation.end}). "
                  f"{f.explanation}" for f in notes]
        lines.append("")
    if report.dropped_edits:
        lines += ["## Automatic edits withheld by the re-check", ""]
        lines += [f"- {d.suggestion_id} ({d.rule_id}): {d.reason}; shown as a flag instead" for d in report.dropped_edits]
        lines.append("")
    if report.compliance.spend_checks:
        lines += ["## Spend against the executed terms", ""]
        lines += [f"- {'OK' if c.ok else 'PROBLEM'} — {c.title}: {c.detail}" for c in report.compliance.spend_checks]
        lines.append("")
    lines += ["## Renewal brief", "", f"**Recommended:** {report.renewal.recommended_action}", ""]
    lines += [f"- {point}" for point in report.renewal.leverage_points] or ["- No leverage points found."]
    lines.append("")
    return "\n".join(lines)


def _short(quote: str, limit: int = 240) -> str:
    quote = " ".join(quote.split())
    return quote if len(quote) <= limit else quote[: limit - 1].rsplit(" ", 1)[0] + " …"


def _request_lines(request: IntakeRequest) -> list[str]:
    amount = f"{request.currency} {request.amount:,.0f}" if request.amount is not None else "not stated"
    return ["## Request", "", f"- **Requested by:** {request.requester}" + (f", with {request.supplier}" if request.supplier else ""),
            f"- **Amount:** {amount}" + (f" · category {request.category}" if request.category else ""),
            f"- **Personal data:** {'yes' if request.personal_data else 'no'} · security relevant: "
            f"{'yes' if request.security_relevant else 'no'}" + (f" · needed by {request.deadline}" if request.deadline else ""),
            *([f"- **Purpose:** {request.purpose}"] if request.purpose else []), ""]
