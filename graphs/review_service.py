"""What the CLI (and later the web app and batch runner) call: start a review, read it, decide on it.

A review's thread id is derived from the file's content hash, so the same contract submitted twice finds
its existing review instead of starting a second one.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path
from datetime import datetime, timezone

from langgraph.types import Command
from pydantic import BaseModel

from agents.compliance import overall_risk
from agents.renewal_leverage import PerformanceRecord
from agents.schema import (
    ComplianceReport, ContractProfile, Decision, ExtractionResult, IntakeRequest, NegotiationBrief, RedlineSet, ReviewComment, RiskLevel,
    SpendRecord,
)
from document_io.docx_redline import docx_from_paragraphs
from document_io.loader import load_document
from document_io.models import SourceDocument
from graphs.audit_log import AlreadySignedOff, AuditLog, DatabaseBusy, SignOff, SignOffStep
from graphs.blob_store import BlobStore
from graphs.configuration import ReviewConfig
from graphs.finalization import changes_for, open_escalations
from graphs.locks import ReviewBusy, review_lock
from graphs.review_graph import build_graph, checkpointer_for
from graphs.review_index import IndexRow, ReviewIndex
from model_backends.llm_client import LLMClient, LLMSettings
from model_backends.local_engine import LocalEngine

MAX_COMMENT = 4000  # characters in one comment (a Word comment stays readable); longer is refused, never cut


class ReviewNotFound(LookupError):
    pass


class ReviewStatus(BaseModel):
    thread_id: str
    document: SourceDocument
    profile: ContractProfile
    extraction: ExtractionResult
    compliance: ComplianceReport
    redlines: RedlineSet
    brief: NegotiationBrief
    overall_risk: RiskLevel
    decisions: dict[str, Decision]
    comments: dict[str, list[ReviewComment]] = {}  # each suggestion's comment thread, oldest first
    pending: list[str]
    escalated: list[str] = []
    version: int = 0
    escalated_to: list[str] = []  # every function anything was escalated to: they keep seeing the contract
    sign_off: SignOff | None = None
    outputs: dict[str, str] | None
    backend: str = "local"
    llm_usage: dict[str, dict] = {}
    llm_run: dict[str, dict] = {}  # per agent: model, output mode, prompt version
    model_notes: list[str] = []
    already_existed: bool = False
    request: IntakeRequest | None = None  # the business context from intake
    signed_steps: list[SignOffStep] = []  # the steps of a sequential sign-off signed so far (all but the last)
    round_of: str | None = None  # the thread of the version we sent, when this is the counterparty's reply

    @property
    def finalised(self) -> bool:
        return self.outputs is not None

    @property
    def next_sign_off_step(self) -> str | None:
        """The function that signs next under a sequential sign-off (None: no order was set, or it is signed off)."""
        steps = self.profile.sign_off_steps
        if len(steps) < 2 or self.sign_off is not None:
            return None
        return steps[min(len(self.signed_steps), len(steps) - 1)]


def _fitness(values: dict) -> list[str]:
    """One line whenever any of the model's answers was unusable (failed, copied from the prompt's example, not
    grounded in the contract, or off the clause's subject): those parts of the review stand on the local engine."""
    from model_backends.llm_client import AgentUsage

    usages = {agent: AgentUsage.model_validate(u) for agent, u in (values.get("llm_usage") or {}).items()}
    answers, unusable = sum(u.answers for u in usages.values()), sum(u.unusable for u in usages.values())
    if unusable:
        model = str(values.get("backend", "")).split(":", 1)[-1] or "the model"
        agents = ", ".join(agent for agent, u in usages.items() if u.unusable)
        return [f"model {model}: {unusable} of {answers} answers unusable ({agents}: failed, copied, ungrounded or "
                "off-topic) — review continued on the local engine"]
    return []


class SignOffStepRefused(PermissionError):
    """The signer does not hold the function whose turn it is in a sequential sign-off."""


class OurPartyAnswer(BaseModel):
    """What answering "Which party are we?" did to a review."""

    status: ReviewStatus
    party: str
    side: str
    unchanged: bool = False  # the review already had us as that party, on that side
    carried: list[str] = []  # new suggestion ids that took over a decision on an unchanged suggestion
    superseded: list[str] = []  # earlier suggestion ids whose decision no longer applies (the suggestion changed or went)


def _carry_over(before: ReviewStatus, after: ReviewStatus) -> tuple[list[Decision], list[str]]:
    """Decisions on suggestions that come back identical (same kind, category, cited span and proposed words) move
    to the new id; the rest are superseded. The side question itself is answered, so its flag's decision is not."""
    def same(s) -> tuple:
        return s.kind, s.category, s.citation.start, s.citation.end, s.proposed_text

    new_by_key = {same(s): s.id for s in after.redlines.suggestions}
    carried, dropped = [], []
    for suggestion in before.redlines.suggestions:
        decision = before.decisions.get(suggestion.id)
        if decision is None or suggestion.category == "our_side":
            continue
        if (new_id := new_by_key.get(same(suggestion))) is not None:
            note = f"carried over from {suggestion.id}, decided before our side was settled"
            carried.append(decision.model_copy(update={"suggestion_id": new_id, "decided_at": datetime.now(timezone.utc),
                                                       "comment": f"{note} — {decision.comment}" if decision.comment else note}))
        else:
            dropped.append(suggestion.id)
    return carried, dropped


def thread_id_for(document: SourceDocument) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", document.name.lower()).strip("-")[:40] or "contract"
    return f"{slug}-{document.sha256[:10]}"


class ReviewService:
    def __init__(self, config: ReviewConfig, engine: LocalEngine | None = None, llm: LLMClient | None = None) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = engine or LocalEngine(config.data_dir)
        self.audit = AuditLog(config.audit_store)
        self.index = ReviewIndex(config.audit_store)
        if llm is None and config.backend == "llm":
            llm = LLMClient(LLMSettings.from_env())
        self.llm = llm
        self.blobs = BlobStore(config.data_dir / "blobs", config.database_url, config.documents_dir)
        self.graph = build_graph(self.engine, checkpointer_for(config.checkpoint_store), llm, self.blobs)

    def start(self, path: Path, output_dir: Path, *, spend: list[SpendRecord] | None = None,
              performance: list[PerformanceRecord] | None = None, request: IntakeRequest | None = None,
              round_of: str | None = None) -> ReviewStatus:
        """Run the agents up to the human checkpoint. `request`: the intake request the contract came with (routing,
        and what the agents check against); `round_of`: the thread of the version we sent, when this file is the
        counterparty's reply (see graphs/rounds.py)."""
        document = load_document(path, max_bytes=self.config.max_bytes)
        thread_id = thread_id_for(document)
        if round_of is not None:
            previous = self.status(round_of)  # the earlier round must exist (ReviewNotFound otherwise)
            if not previous.finalised:
                raise ValueError(f"review {round_of} is not finalised: a reply answers the redline we sent, so finalise "
                                 "that round first")
            if previous.document.sha256 == document.sha256:
                raise ValueError("this file is the very version we sent; a reply from the other side differs from it")
            request = request or previous.request  # the same deal: the request travels on to every round
        # one review per content at a time, across processes: a second batch on the same inbox (or the same file under
        # two names) waits, then finds the review at its checkpoint instead of running the agents again
        with self._review_lock(thread_id, wait_s=900, doing="reviewed"):
            return self._start_locked(path, output_dir, document, thread_id, spend, performance, request, round_of)

    def _start_locked(self, path: Path, output_dir: Path, document: SourceDocument, thread_id: str,
                      spend: list[SpendRecord] | None, performance: list[PerformanceRecord] | None,
                      request: IntakeRequest | None = None, round_of: str | None = None) -> ReviewStatus:
        snapshot = self.graph.get_state(self._config(thread_id))
        agents_done = "redlines" in snapshot.values and "brief" in snapshot.values
        if agents_done:
            # At the human checkpoint, finalising or finalised: nothing to redo (but log it if killed before the log
            # entry; `status` completes a cut-off finalisation).
            status = self._recorded(thread_id) if self.audit.review(thread_id) is None else self.status(thread_id)
            status.already_existed = True
            return status
        if snapshot.values and snapshot.next:
            # A run that was killed between agents: go on from its last checkpoint; finished agents are not rerun.
            # (Killed before its first step, a thread has nothing to go on from and simply starts below.)
            self.graph.invoke(None, self._config(thread_id))
            self.audit.record_event("agents_run", "clauseflow", thread_id=thread_id, detail="resumed from a checkpoint")
            return self._recorded(thread_id)
        base = self._store_base_docx(path, document)
        state = {
            "document": self.blobs.put(document.model_dump(mode="json")),
            "base_docx_path": str(base),
            "output_dir": str(output_dir.resolve()),
            "our_names": self.config.our_names,
            "side": self.config.side,
            "today": self.config.today.isoformat(),
            "spend": [r.model_dump(mode="json") for r in spend or []],
            "performance": [r.model_dump(mode="json") for r in performance or []],
            "request": request.model_dump(mode="json") if request else None,
            "round_of": round_of,
        }
        self.graph.invoke(state, self._config(thread_id))
        self.audit.record_event("agents_run", "clauseflow", thread_id=thread_id)
        status = self._recorded(thread_id)
        if round_of is not None:
            from graphs.rounds import carried_decisions

            if carried := carried_decisions(self.status(round_of), status):
                status = self.decide(thread_id, carried, expected_version=status.version)
            self.audit.record_event("round", "clauseflow", thread_id=thread_id, detail=f"reply to {round_of}")
        return status

    def rounds(self, thread_id: str, *, complete: bool = True):
        """How this review, a reply from the other side, compares with the version we sent (None for a first round)."""
        from graphs.rounds import CARRIED_OVER, compare_rounds

        status = self.status(thread_id, complete=complete)
        if status.round_of is None:
            return None
        sent = self.status(status.round_of)
        round_number, earlier = 2, sent.round_of
        while earlier is not None and round_number < 50:  # count the rounds before it from their state alone
            round_number, earlier = round_number + 1, self._values(earlier).get("round_of")
        comparison = compare_rounds(sent, status, round_number=round_number)
        comparison.carried = [sid for sid, d in status.decisions.items() if (d.comment or "").startswith(CARRIED_OVER)]
        return comparison

    def _recorded(self, thread_id: str) -> ReviewStatus:
        status = self.status(thread_id)
        document = status.document
        self.audit.record_review(
            thread_id=thread_id, name=document.name, source_path=document.source_path, sha256=document.sha256,
            contract_type=status.profile.contract_type, counterparty=status.profile.counterparty,
            risk=status.overall_risk, suggestions=len(status.redlines.suggestions),
        )
        self._index(status, with_clauses=True)
        return status

    def _index(self, status: ReviewStatus, *, with_clauses: bool = False) -> None:
        """Bring the queue's row for this review up to date (called on every state change), and with `with_clauses`
        its extracted clauses for search (they do not change after the agents ran), in one commit. The index is
        derived data: when the database stays busy past the lock timeout (a batch and a server writing at once on a
        loaded machine) the update is skipped, and the queue's next check finds the row missing or behind the
        decision log and redoes it. The review itself never fails for it."""
        try:
            self._write_index(status, with_clauses)
        except (DatabaseBusy, sqlite3.OperationalError):
            pass

    def _write_index(self, status: ReviewStatus, with_clauses: bool) -> None:
        created = (self.audit.review(status.thread_id) or {}).get("created_at") or datetime.now(timezone.utc).isoformat()
        state = ("finalised" if status.finalised else "signed off" if status.sign_off
                 else "escalated" if status.escalated else "awaiting review")
        owners = {d.escalate_to for d in status.decisions.values() if d.escalate_to}
        owners |= {s.escalate_to or "legal" for s in status.redlines.suggestions}
        clauses = ([(c.category, c.span.start, c.span.end, c.span.quote) for c in status.extraction.clauses]
                   if with_clauses else None)
        self.index.upsert(IndexRow(
            thread_id=status.thread_id, name=status.document.name, short_id=status.document.sha256[:8],
            contract_type=status.profile.contract_type, counterparty=status.profile.counterparty,
            risk=status.overall_risk, findings=len(status.compliance.findings), suggestions=len(status.redlines.suggestions),
            pending=len(status.pending), functions=list(status.profile.review_functions), owners=sorted(owners),
            status=state, notice_deadline=str(status.brief.terms.notice_deadline) if status.brief.terms.notice_deadline else None,
            created_at=created, version=status.version, auto_renews=status.brief.terms.auto_renews,
            term_end=str(status.brief.terms.current_term_end or status.brief.terms.expiration_date or "") or None,
            notice_days=status.brief.terms.notice_days, recommended_action=status.brief.recommended_action), clauses)

    def catch_up_index(self) -> int:
        """Index the reviews whose row is missing or behind the decision log (made before the index existed, or by
        a process that died or was kept waiting before indexing); returns how many."""
        changed, marks = self.index.changed_since_caught_up()
        done = self.reindex(changed, with_clauses=True)
        if marks:
            self.index.advance(marks)  # only after every changed review was indexed from the log
        return done

    def reindex(self, thread_ids: list[str], *, with_clauses: bool = False) -> int:
        for thread_id in thread_ids:
            try:
                self._index(self.status(thread_id), with_clauses=with_clauses)
            except ReviewNotFound:
                continue
        return len(thread_ids)

    def status(self, thread_id: str, *, complete: bool = True) -> ReviewStatus:
        """The review as the decision log says it is. A sign-off whose finalisation was cut off (kill -9, power
        loss) is completed here, so every reader sees the same finalised outputs (`complete=False`: read only, for
        the finalisation itself)."""
        values = self._values(thread_id)
        completed = False
        if not values or "redlines" not in values:
            raise ReviewNotFound(f"no review with thread id {thread_id!r}; `python app.py list` shows them")
        sign_off = self.audit.sign_off(thread_id)
        # signed off, and either the outputs or the log's record of them is missing: a kill cut the finalisation short
        if complete and sign_off is not None and (not values.get("outputs") or not self.audit.is_finalised(thread_id)):
            try:
                values = self._complete_finalisation(thread_id, sign_off)
                completed = True
            except (sqlite3.OperationalError, ReviewBusy):
                pass  # another process is finishing it, or its database is busy: a later read completes it
        redlines = RedlineSet.model_validate(self.blobs.get(values["redlines"]))
        history = self.audit.history(thread_id)
        # the latest per suggestion supersedes earlier ones; decisions on suggestions that were redone once our side was
        # settled stay in the log but no longer apply
        current = {s.id for s in redlines.suggestions}
        decisions = {d.suggestion_id: d for d in history if d.suggestion_id in current}
        profile = ContractProfile.model_validate(self.blobs.get(values["profile"]))
        compliance = ComplianceReport.model_validate(self.blobs.get(values["compliance"]))
        status = ReviewStatus(
            thread_id=thread_id,
            document=SourceDocument.model_validate(self.blobs.get(values["document"])),
            profile=profile,
            extraction=ExtractionResult.model_validate(self.blobs.get(values["extraction"])),
            compliance=compliance,
            redlines=redlines,
            brief=NegotiationBrief.model_validate(self.blobs.get(values["brief"])),
            overall_risk=overall_risk(profile, compliance),
            decisions=decisions,
            comments=self.audit.comments(thread_id),
            pending=[s.id for s in redlines.suggestions if s.id not in decisions],
            escalated=open_escalations(redlines.suggestions, decisions),
            version=len(history),
            escalated_to=sorted({d.escalate_to for d in history if d.escalate_to}),
            sign_off=sign_off,
            outputs=values.get("outputs"),
            backend=values.get("backend", "local"),
            llm_usage=values.get("llm_usage") or {},
            llm_run=values.get("llm_run") or {},
            model_notes=(values.get("model_notes") or []) + _fitness(values),
            request=IntakeRequest.model_validate(values["request"]) if values.get("request") else None,
            round_of=values.get("round_of"),
            signed_steps=self.audit.steps(thread_id),
        )
        if completed:
            self._index(status)  # a finalisation this read completed: the queue shows it finalised
        return status

    def decide(self, thread_id: str, decisions: list[Decision], *, expected_version: int | None = None) -> ReviewStatus:
        """Record decisions: one commit in the decision log, which is the review's system of record.

        `expected_version` is the version the reviewer saw; a decision on a suggestion someone else decided since
        is refused with StaleDecision. Nothing is finalised here (see `finalise`)."""
        status = self.status(thread_id)
        if status.finalised or status.sign_off:
            raise AlreadySignedOff(f"review {thread_id} is already signed off; decisions can no longer change")
        by_id = {s.id: s for s in status.redlines.suggestions}
        unknown = [d.suggestion_id for d in decisions if d.suggestion_id not in by_id]
        if unknown:
            raise ValueError(f"no suggestion {', '.join(unknown)} in review {thread_id}")
        if unwordable := [d.suggestion_id for d in decisions if d.action == "modify" and not by_id[d.suggestion_id].rewordable]:
            raise ValueError(f"{', '.join(unwordable)} is a question or cites more than one clause, so a wording would "
                             "replace what it cites; add a comment, or approve or reject the flag; nothing was recorded")
        ids = [d.suggestion_id for d in decisions]
        if twice := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"{', '.join(twice)} named more than once (e.g. approve and reject); nothing was recorded")
        for d in decisions:
            if d.action == "modify" and not (d.modified_text or "").strip():
                raise ValueError(f"{d.suggestion_id}: 'modify' needs the new text")
            cited = by_id[d.suggestion_id]
            part = status.document.paragraph_at(cited.citation.start).part if cited.kind != "insert" else "body"
            if d.action == "modify" and part != "body":
                raise ValueError(f"{d.suggestion_id} is in the {part}, where no tracked change can be written; change it "
                                 "there by hand, then approve or reject; nothing was recorded")
        # an escalation without a target goes to the playbook's escalation function, else Legal
        decisions = [d.model_copy(update={"escalate_to": by_id[d.suggestion_id].escalate_to or "legal"})
                     if d.action == "escalate" and not d.escalate_to else d for d in decisions]
        self.audit.record_decisions(thread_id, decisions, expected_version=expected_version)
        status = self.status(thread_id)
        self._index(status)
        return status

    def set_our_party(self, thread_id: str, party: str, reviewer: str, *, side: str | None = None) -> OurPartyAnswer:
        """The reviewer's answer to "Which party are we?": recorded in the decision log, then the agents whose work
        depends on our side (compliance, redlining, the renewal brief) run again on this review. The redone
        suggestions are numbered afresh ("S2-01"), so no decision on an earlier suggestion can land on a new one; a
        decision on a suggestion that comes back unchanged is carried over, and any other is reported, never
        silently dropped (the log keeps it). Refused once anything is signed off."""
        from agents.classifier import with_our_party

        with self._review_lock(thread_id, wait_s=60, doing="updated"):
            before = self.status(thread_id)
            if before.finalised or before.sign_off or before.signed_steps:
                raise AlreadySignedOff(f"review {thread_id} is signed off; which party we are can no longer change")
            profile = with_our_party(before.profile, party, side, reviewer)  # PartyNotFound / ValueError: nothing changes
            ours = next(p for p in profile.parties if p.is_us)
            if before.profile.our_side == profile.our_side and any(p.is_us and p.name == ours.name for p in before.profile.parties):
                return OurPartyAnswer(status=before, party=ours.name, side=profile.our_side, unchanged=True)
            answers = len(self.audit.events(thread_id=thread_id, kind="our_party"))
            self.audit.record_event("our_party", reviewer, thread_id=thread_id, detail=f"we are {ours.name}: our side {profile.our_side}")
            config = self._config(thread_id)
            told = {"profile": self.blobs.put(profile.model_dump(mode="json")), "side": profile.our_side,
                    "suggestion_prefix": f"S{answers + 2}-"}
            self.graph.invoke(Command(resume={"our_party": told}), config)  # redo_for_side, then the checkpoint again
            self.audit.record_event("agents_run", "clauseflow", thread_id=thread_id, detail="redone for our side")
            after = self._recorded(thread_id)
            carried, dropped = _carry_over(before, after)
            if carried:
                after = self.decide(thread_id, carried, expected_version=after.version)
            if dropped:
                self.audit.record_event("decisions_superseded", reviewer, thread_id=thread_id,
                                        detail=", ".join(dropped) + ": their suggestions changed once our side was known")
            return OurPartyAnswer(status=after, party=ours.name, side=profile.our_side, carried=[d.suggestion_id for d in carried],
                                  superseded=dropped)

    def comment(self, thread_id: str, suggestion_id: str, author: str, text: str) -> ReviewStatus:
        """Add to a suggestion's comment thread (refused once signed off). Comments do not change the version."""
        status = self.status(thread_id)
        if suggestion_id not in {s.id for s in status.redlines.suggestions}:
            raise ValueError(f"no suggestion {suggestion_id} in review {thread_id}")
        if not text.strip():
            raise ValueError("an empty comment was not saved")
        if len(text.strip()) > MAX_COMMENT:
            raise ValueError(f"the comment has {len(text.strip()):,} characters; at most {MAX_COMMENT:,} fit in one "
                             "(split it in two); nothing was saved")
        self.audit.add_comment(thread_id, ReviewComment(suggestion_id=suggestion_id, author=author,
                                                        at=datetime.now(timezone.utc), text=text.strip()))
        return self.status(thread_id)

    @staticmethod
    def fallback_decision(status: ReviewStatus, suggestion_id: str, reviewer: str, comment: str | None = None) -> Decision:
        """Choosing the playbook's fallback wording instead of the preferred edit: recorded as a modify with the
        suggestion's re-checked fallback text, the comment saying so."""
        suggestion = next((s for s in status.redlines.suggestions if s.id == suggestion_id), None)
        if suggestion is None:
            raise ValueError(f"no suggestion {suggestion_id} in review {status.thread_id}")
        if not suggestion.fallback_text:
            raise ValueError(f"{suggestion_id} has no fallback wording; approve, modify, reject or escalate it")
        note = "playbook fallback" + (f": {comment}" if comment else "")
        return Decision(suggestion_id=suggestion_id, action="modify", reviewer=reviewer, decided_at=datetime.now(timezone.utc),
                        modified_text=suggestion.fallback_text, comment=note)

    def finalise(self, thread_id: str, signed_by: str, *, expected_version: int | None = None,
                 signer_functions: list[str] | None = None, authenticated_by: str | None = None) -> ReviewStatus:
        """Sign off and write the redlined DOCX and the report.

        Refused while a suggestion is undecided or escalated, or when the changes conflict. The sign-off is one
        commit in the decision log; the outputs are then written from the logged decisions. If the process dies
        in between, the next reader (`status`) completes the finalisation from the same log.

        Where the routing policy set a sequential sign-off (security → legal → finance), each call signs the next
        step, and only the last one finalises. `signer_functions`: the signer's functions, checked against the step
        (None where there are no reviewer accounts to check against)."""
        status = self.status(thread_id)
        if status.finalised:
            raise AlreadySignedOff(f"review {thread_id} is already finalised; its outputs are in {status.outputs['report_md']}")
        changes_for(status.redlines.suggestions, status.decisions)  # undecided, escalated or conflicting: refuse now
        # The sign-off covers exactly the decisions just checked: one logged in between makes it stale.
        checked = expected_version if expected_version is not None else status.version
        if next_step := status.next_sign_off_step:
            if signer_functions is not None and next_step not in signer_functions:
                raise SignOffStepRefused(f"the next sign-off is {next_step}'s (step {len(status.signed_steps) + 1} of "
                                         f"{len(status.profile.sign_off_steps)}); {signed_by} does not sign for {next_step}")
            if len(status.signed_steps) + 1 < len(status.profile.sign_off_steps):
                self.audit.record_step(thread_id, len(status.signed_steps), next_step, signed_by, expected_version=checked,
                                       authenticated_by=authenticated_by)
                status = self.status(thread_id)
                self._index(status)
                return status
        sign_off = self.audit.record_sign_off(thread_id, signed_by, expected_version=checked, authenticated_by=authenticated_by)
        self._complete_finalisation(thread_id, sign_off)
        status = self.status(thread_id)
        self._index(status)
        return status

    def _complete_finalisation(self, thread_id: str, sign_off: SignOff) -> dict:
        """Bring the LangGraph thread to its end from the log's decisions. Idempotent, and serialised per review
        across processes, so two readers that both find a cut-off finalisation do not both resume it."""
        config = self._config(thread_id)
        with self._review_lock(thread_id):
            snapshot = self.graph.get_state(config)
            if not snapshot.values.get("outputs"):
                if snapshot.next == ("finalize",):  # killed after the decisions reached the graph, before the files
                    self.graph.invoke(None, config)
                else:
                    current = {s.id for s in RedlineSet.model_validate(self.blobs.get(snapshot.values["redlines"])).suggestions}
                    decisions = {k: d for k, d in self.audit.current_decisions(thread_id).items() if k in current}
                    threads = self.audit.comments(thread_id)
                    payload = {"decisions": [d.model_dump(mode="json") for d in decisions.values()],
                               "sign_off_by": sign_off.signed_by, "signed_off_at": sign_off.signed_at.isoformat(),
                               "comments": {sid: [c.model_dump(mode="json") for c in thread] for sid, thread in threads.items()},
                               "rounds": self._round_lines(thread_id),
                               "sign_off_steps": [f"{s.function}: {s.signed_by} at {s.signed_at:%Y-%m-%d %H:%M} UTC"
                                                  for s in self.audit.steps(thread_id)]}
                    self.graph.invoke(Command(resume=payload), config)
            values = self._values(thread_id)
            if not values.get("outputs"):
                raise RuntimeError(f"review {thread_id} was signed off but could not be finalised")
            self.audit.record_finalised(thread_id, sign_off.signed_by, values["outputs"]["redlined_docx"])
        return values

    def _round_lines(self, thread_id: str) -> list[str]:
        """The negotiation round this review answers, as lines for the report (none for a first round)."""
        values = self._values(thread_id)
        if not values.get("round_of"):
            return []
        comparison = self.rounds(thread_id, complete=False)  # inside the finalisation: never start another
        lines = [f"Round {comparison.round_number}, the other side's reply to {comparison.previous_thread}: "
                 + ", ".join(f"{n} {k}" for k, n in comparison.counts().items() if n)]
        lines += [f"round {comparison.round_number - 1} {a.suggestion_id} ({a.category}) {a.outcome}"
                  + (f": now reads “{a.now_reads}”" if a.now_reads else "") for a in comparison.asked]
        lines += [f"they {c.kind}: " + (f"“{c.before}” → “{c.after}”" if c.kind == "changed" else f"“{c.after or c.before}”")
                  + "".join(f"; raised {r.suggestion_id} ({r.severity}): {r.title}" for r in c.raised)
                  for c in comparison.other_changes]
        if comparison.carried:
            lines.append(f"carried over from round {comparison.round_number - 1}: {', '.join(comparison.carried)}")
        return lines

    def _store_base_docx(self, path: Path, document: SourceDocument) -> Path:
        """Keep the original (or a DOCX built from PDF/text input) so finalising never depends on the upload."""
        self.config.documents_dir.mkdir(parents=True, exist_ok=True)
        target = self.config.documents_dir / f"{document.sha256}.docx"
        if not target.exists():
            if document.format == "docx":
                shutil.copyfile(path, target)
            else:
                target.write_bytes(docx_from_paragraphs([p.text for p in document.paragraphs]))
        self.blobs.share_file(target)  # with a shared database: another machine can finalise it
        return target

    def _review_lock(self, thread_id: str, **options):
        """The per-review lock across processes: in the shared database when there is one, else in the data folder."""
        return review_lock(self.config.data_dir / "locks", thread_id, database_url=self.config.database_url, **options)

    def _config(self, thread_id: str) -> dict:
        return {"configurable": {"thread_id": thread_id}}

    def _values(self, thread_id: str) -> dict:
        return self.graph.get_state(self._config(thread_id)).values
