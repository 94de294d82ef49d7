"""Terminal rendering for app.py: suggestions with their cited text and the redline as a readable diff."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

console = Console(highlight=False, soft_wrap=True)
_SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


def redline_text(suggestion) -> Text:
    """The cited text with deletions struck through in red and insertions in green."""
    quote, offset = suggestion.citation.quote, suggestion.citation.start
    text, cursor = Text(), 0
    if suggestion.kind == "insert":
        text.append(f"(after: {quote[:80]}…)\n", style="dim")
        text.append(suggestion.proposed_text or "", style="green underline")
        return text
    for edit in sorted(suggestion.edits, key=lambda e: e.start):
        text.append(quote[cursor : edit.start - offset])
        deleted, inserted = quote[edit.start - offset : edit.end - offset], edit.new_text
        if not console.is_terminal:  # plain output (pipes, logs): wdiff-style markers instead of colour
            deleted, inserted = (f"[-{deleted}-]" if deleted else ""), (f"{{+{inserted}+}}" if inserted else "")
        text.append(deleted, style="red strike")
        text.append(inserted, style="green underline")
        cursor = edit.end - offset
    text.append(quote[cursor:])
    return text


def print_suggestion(suggestion, status) -> None:
    decision = status.decisions.get(suggestion.id)
    header = Text()
    header.append(f"{suggestion.id} ", style="bold")
    header.append(f" {suggestion.severity.upper()} ", style=_SEVERITY_STYLE[suggestion.severity])
    header.append(f" {suggestion.category} — {suggestion.title}")
    if decision:
        header.append(f"  [{decision.action} by {decision.reviewer}]", style="bold green")
    console.print(header)
    part = status.document.paragraph_at(suggestion.citation.start).part if status.document.text else "body"
    where = "" if part == "body" else f" (in the {part})"
    console.print(Text(f"  cites {suggestion.citation.start}-{suggestion.citation.end}{where}: ", style="dim")
                  + Text(f"“{suggestion.citation.quote}”"))
    if suggestion.kind == "flag":
        console.print(Text("  no automatic wording: flagged for the reviewer", style="magenta"))
    else:
        console.print(Text("  redline: ", style="dim") + redline_text(suggestion))
    if suggestion.fallback_text:
        console.print(Text(f"  fallback if refused (--fallback {suggestion.id}): ", style="dim") + Text(f"“{suggestion.fallback_text}”"))
    console.print(Text(f"  why: {suggestion.rationale}", style="dim"))
    if suggestion.escalate_to:
        console.print(Text(f"  escalate to {suggestion.escalate_to}", style="bold magenta"))
    if suggestion.found_by != "local" or suggestion.wording_by == "model":
        source = {"model": "found by the model only", "both": "found by the local engine and the model"}.get(suggestion.found_by, "")
        wording = "wording by the model, re-checked" if suggestion.wording_by == "model" else ""
        console.print(Text("  " + " · ".join(x for x in (source, wording) if x), style="cyan"))
    if suggestion.counterparty_change:
        console.print(Text(f"  in text the other side changed: {suggestion.counterparty_change}", style="bold yellow"))
    console.print()


def print_review(status) -> None:
    p, terms = status.profile, status.brief.terms
    existed = " (already under review)" if status.already_existed else ""
    # Names and contract text come from the counterparty's file: escaped, so "[bold]" in them is just text.
    console.rule(escape(f"{status.document.name}{existed}"))
    console.print(
        f"type [bold]{p.contract_type.upper()}[/] · counterparty {escape(p.counterparty or 'unknown')} · our side {p.our_side} · "
        f"risk [bold]{status.overall_risk}[/] · review by {', '.join(p.review_functions)}"
    )
    if status.request is not None:
        r = status.request
        amount = f" · {r.currency} {r.amount:,.0f}" if r.amount is not None else ""
        data = " · personal data" if r.personal_data else ""
        console.print(Text(f"requested by {r.requester}{amount}{data}" + (f" · {r.purpose}" if r.purpose else "")
                           + (f" · needed by {r.deadline}" if r.deadline else "")))
        for reason in (x for x in p.reasons if x.startswith("routing ")):
            console.print(Text(f"  {reason}", style="dim"))
        if p.sign_off_steps:
            console.print(Text("sign-off: " + " → ".join(p.sign_off_steps)))
    if status.round_of:
        console.print(Text(f"a new round of {status.round_of}: `show {status.thread_id}` lists what moved", style="bold"))
    if terms.notice_deadline:
        console.print(escape(f"renewal notice deadline {terms.notice_deadline} ({terms.days_until_deadline} days) · "
                             f"{status.brief.recommended_action}"))
    if changes := status.document.their_changes():
        console.print(Text(f"the other side's tracked changes and comments ({len(changes)}):", style="bold"))
        for line in changes[:20]:
            console.print(Text(f"  {line}"))
        if len(changes) > 20:
            console.print(Text(f"  … and {len(changes) - 20} more (see the report)", style="dim"))
    console.print()
    for suggestion in status.redlines.suggestions:
        print_suggestion(suggestion, status)
    if status.llm_usage:
        print_llm_usage(status.llm_usage)
    if status.llm_run:
        modes = sorted({f"{r.get('model')}: {r.get('output_mode')}" for r in status.llm_run.values()})
        console.print(Text("LLM output mode: " + "; ".join(modes), style="dim"))
    for note in status.model_notes:
        console.print(Text(note, style="bold red" if "unusable" in note or "no usable answer" in note else "dim"))
    pending = len(status.pending)
    console.print(f"thread [bold]{escape(status.thread_id)}[/] · {len(status.redlines.suggestions)} suggestion(s), {pending} pending"
                  + (f" · escalated: {', '.join(status.escalated)}" if status.escalated else "")
                  + f" · version {status.version}")
    if status.sign_off:
        console.print(escape(f"signed off by {status.sign_off.signed_by} at {status.sign_off.signed_at:%Y-%m-%d %H:%M:%S} UTC"))
    if not status.finalised:
        console.print(f"next: python app.py decide {escape(status.thread_id)} --interactive")


def print_llm_usage(usage: dict[str, dict]) -> None:
    """Tokens per agent for this contract, dropped quotes, and the cost at the configured prices."""
    from model_backends.llm_client import AgentUsage, LLMSettings, UsageLedger

    ledger = UsageLedger()
    ledger.by_agent = {agent: AgentUsage.model_validate(u) for agent, u in usage.items()}
    parts = [f"{agent} {u.prompt_tokens}+{u.completion_tokens}" for agent, u in ledger.by_agent.items()]
    total = ledger.totals()
    cost = ledger.cost_usd(LLMSettings.from_env())
    console.print(
        f"LLM tokens (prompt+completion): {' · '.join(parts)} · total {total.prompt_tokens + total.completion_tokens}"
        + (f" · est. ${cost:.4f}" if cost is not None else " · cost unknown for this model")
        + (f" · {total.quotes_dropped} unverifiable quote(s) dropped" if total.quotes_dropped else "")
        + (f" · {total.retries} retries" if total.retries else "")
        + (f" · {total.abandoned} abandoned (timed out)" if total.abandoned else "")
        + (f" · {total.refused} refused by the server" if total.refused else "")
        + (f" · {total.truncated} cut at the token limit" if total.truncated else "")
    )


def print_finalised(status) -> None:
    console.print(f"[bold green]finalised[/] {escape(status.thread_id)}")
    for label, path in (status.outputs or {}).items():
        console.print(escape(f"  {label}: {path}"))


def print_search(hits, text: str, query=None, by_meaning: bool = False) -> None:
    """Contracts that matched, best first, each with the clause it cites (characters and text)."""
    read = ""
    if query is not None:
        filters = {k: v for k, v in query.read_as().items() if k != "words"}
        read = "  ".join(f"{k}={v}" for k, v in filters.items()) + (f"  words={query.words!r}" if query.words else "")
    how = "closest in meaning to" if by_meaning else "matching"
    table = Table("contract", "counterparty", "type", "status", "term ends", "cites", "characters", "clause",
                  *(["similarity"] if by_meaning else []),
                  title=f"Contracts {how} {text!r}" + (f"\nread as: {read}" if read else ""))
    for hit in hits:
        c = hit.contract
        table.add_row(Text(f"{c.name} #{c.contract_id[:8]}"), Text(c.counterparty or "—"), c.contract_type, c.status,
                      str(c.term_end or "—"), Text(hit.category or "—"),
                      f"{hit.start}–{hit.end}" if hit.start is not None else "—", Text(hit.snippet),
                      *([f"{hit.similarity:.2f}"] if by_meaning else []))
    console.print(table if hits else f"No contract matches {text!r}." + (f" (read as: {read})" if read else ""))


def print_renewals(records, today, within_days: int, briefs=None) -> None:
    """The portfolio's renewal calendar: notice deadlines soonest first, days left (negative: missed), and the
    leverage points the portfolio gives for each."""
    table = Table("notice deadline", "days left", "contract", "counterparty", "auto-renews", "notice", "term ends",
                  "status", "recommended action", "leverage", title=f"Renewal notice deadlines, next {within_days} days (from {today})")
    for c, brief in zip(records, briefs or [None] * len(records)):
        left = (c.notice_deadline - today).days
        style = "bold red" if left < 0 else "bold" if left <= 30 else ""
        table.add_row(Text(str(c.notice_deadline), style=style), Text(f"{left}" + (" (missed)" if left < 0 else ""), style=style),
                      Text(f"{c.name} #{c.contract_id[:8]}"), Text(c.counterparty or "—"),
                      "yes" if c.auto_renews else "no", c.notice_period,
                      str(c.term_end or "—"), c.status, Text(c.recommended_action or ""),
                      Text("\n".join(f"• {p}" for p in brief.points) if brief and brief.points else "—"))
    console.print(table if records else f"No notice deadline in the next {within_days} days (or missed in the last 30).")


def print_round(comparison) -> None:
    """A reply from the other side against the version we sent: each change we asked for, and what else moved."""
    if comparison is None:
        return
    counts = comparison.counts()
    console.rule(f"Round {comparison.round_number}: their reply to {comparison.previous_thread}")
    console.print(", ".join(f"{n} {k}" for k, n in counts.items() if n) or "we asked for no changes")
    mark = {"accepted": "[green]accepted[/]", "rejected": "[red]rejected[/]", "changed": "[yellow]changed[/]",
            "removed": "[red]removed[/]"}
    for asked in comparison.asked:
        console.print(f"  round {comparison.round_number - 1} {asked.suggestion_id} {mark[asked.outcome]} · "
                      f"{escape(asked.category)} — {escape(asked.title)}")
        if asked.outcome == "changed" and asked.now_reads:
            console.print(Text(f"      now reads: {asked.now_reads[:300]}"))
    if comparison.other_changes:
        console.print(Text(f"Other changes they made ({len(comparison.other_changes)}):", style="bold"))
        for change in comparison.other_changes:
            if change.kind == "added":
                console.print(Text(f"  + added: {change.after[:300]}"))
            elif change.kind == "removed":
                console.print(Text(f"  - removed: {change.before[:300]}"))
            elif change.kind == "moved":
                console.print(Text(f"  ↕ moved, same words: {change.after[:200]}", style="dim"))
            else:
                console.print(Text(f"  ~ changed: {change.before[:150]} → {change.after[:150]}"))
            for raised in change.raised:  # their new words, reviewed as new paper
                console.print(Text(f"      → {raised.suggestion_id} {raised.severity.upper()} {raised.title}"
                                   + (f" ({raised.ask})" if raised.ask else ""), style="yellow"))
    if comparison.carried:
        console.print(Text(f"Carried over to this round's {', '.join(comparison.carried)}: rejected in the last round, on words "
                           "that did not change", style="dim"))
    console.print()


def print_obligations(found, today) -> None:
    """Obligations soonest due first: id, contract, who owes it, due (days left), rhythm, status, what."""
    table = Table("id", "contract", "owed by", "due", "days left", "rhythm", "status", "obligation", title="Obligations")
    for obligation, contract in found:
        left = (obligation.due_date - today).days if obligation.due_date else None
        style = "bold red" if left is not None and left < 0 else "bold" if left is not None and left <= 14 else ""
        table.add_row(obligation.obligation_id, Text(contract), Text(obligation.owner_side + (f" ({obligation.owner_name})" if obligation.owner_name and obligation.owner_name not in ('us', 'both') else "")), Text(str(obligation.due_date or "—"), style=style),
                      Text("—" if left is None else str(left), style=style), obligation.recurrence,
                      obligation.status + (f" by {obligation.decided_by}" if obligation.decided_by else ""), Text(obligation.summary))
    console.print(table if found else "No obligation matches.")


def print_flags(flags) -> None:
    table = Table("flag", "supplier", "ERP export line", "detail", "contract clause", title="Spend against the contracts")
    for flag in flags:
        cited = f"{flag.citation.start}–{flag.citation.end}: {flag.citation.quote[:120]}" if flag.citation else "—"
        table.add_row(flag.kind.replace("_", " "), Text(flag.supplier or "—"), Text(flag.source or "—"), Text(flag.detail), Text(cited))
    console.print(table if flags else "No flags: every spend line matches a contract and its terms.")


def print_reviews(rows: list[dict]) -> None:
    table = Table("thread", "contract", "type", "counterparty", "risk", "suggestions", "status", "created")
    for r in rows:
        table.add_row(*(Text(str(v or "")) for v in (r["thread_id"], r["name"], r["contract_type"], r["counterparty"], r["risk"],
                                                      r["suggestions"], r["status"], r["created_at"])))
    console.print(table)
