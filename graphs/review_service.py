"""What the CLI (and later the web app and batch runner) call: start a review, read it, decide on it.

A review's thread id is derived from the file's content hash, so the same contract submitted twice finds
its existing review instead of starting a second one.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from langgraph.types import Command
from pydantic import BaseModel

from agents.compliance import SpendRecord
from agents.renewal_leverage import PerformanceRecord
from agents.schema import ComplianceReport, ContractProfile, Decision, NegotiationBrief, RedlineSet, RiskLevel
from document_io.docx_redline import docx_from_paragraphs
from document_io.loader import load_document
from document_io.models import SourceDocument
from graphs.audit_log import AuditLog
from graphs.configuration import ReviewConfig
from graphs.finalization import changes_for
from graphs.review_graph import build_graph, overall_risk, sqlite_checkpointer
from model_backends.llm_client import LLMClient, LLMSettings
from model_backends.local_engine import LocalEngine


class ReviewNotFound(LookupError):
    pass


class ReviewStatus(BaseModel):
    thread_id: str
    document: SourceDocument
    profile: ContractProfile
    compliance: ComplianceReport
    redlines: RedlineSet
    brief: NegotiationBrief
    overall_risk: RiskLevel
    decisions: dict[str, Decision]
    pending: list[str]
    outputs: dict[str, str] | None
    backend: str = "local"
    llm_usage: dict[str, dict] = {}
    already_existed: bool = False

    @property
    def finalised(self) -> bool:
        return self.outputs is not None


def thread_id_for(document: SourceDocument) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", document.name.lower()).strip("-")[:40] or "contract"
    return f"{slug}-{document.sha256[:10]}"


class ReviewService:
    def __init__(self, config: ReviewConfig, engine: LocalEngine | None = None, llm: LLMClient | None = None) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = engine or LocalEngine(config.data_dir)
        self.audit = AuditLog(config.audit_path)
        if llm is None and config.backend == "llm":
            llm = LLMClient(LLMSettings.from_env())
        self.llm = llm
        self.graph = build_graph(self.engine, sqlite_checkpointer(config.checkpoint_path), llm)

    def start(self, path: Path, output_dir: Path, *, spend: list[SpendRecord] | None = None,
              performance: list[PerformanceRecord] | None = None) -> ReviewStatus:
        document = load_document(path, max_bytes=self.config.max_bytes)
        thread_id = thread_id_for(document)
        snapshot = self.graph.get_state(self._config(thread_id))
        agents_done = "redlines" in snapshot.values and "brief" in snapshot.values
        if agents_done and (not snapshot.next or any(task.interrupts for task in snapshot.tasks)):
            # At the human checkpoint or finalised: nothing to redo (but log it if killed before the log entry).
            status = self._recorded(thread_id) if self.audit.review(thread_id) is None else self.status(thread_id)
            status.already_existed = True
            return status
        if snapshot.values and snapshot.next:
            # A run that was killed between agents: go on from its last checkpoint; finished agents are not rerun.
            # (Killed before its first step, a thread has nothing to go on from and simply starts below.)
            self.graph.invoke(None, self._config(thread_id))
            return self._recorded(thread_id)
        base = self._store_base_docx(path, document)
        state = {
            "document": document.model_dump(mode="json"),
            "base_docx_path": str(base),
            "output_dir": str(output_dir.resolve()),
            "our_names": self.config.our_names,
            "today": self.config.today.isoformat(),
            "spend": [r.model_dump(mode="json") for r in spend or []],
            "performance": [r.model_dump(mode="json") for r in performance or []],
        }
        self.graph.invoke(state, self._config(thread_id))
        return self._recorded(thread_id)

    def _recorded(self, thread_id: str) -> ReviewStatus:
        status = self.status(thread_id)
        document = status.document
        self.audit.record_review(
            thread_id=thread_id, name=document.name, source_path=document.source_path, sha256=document.sha256,
            contract_type=status.profile.contract_type, counterparty=status.profile.counterparty,
            risk=status.overall_risk, suggestions=len(status.redlines.suggestions),
        )
        return status

    def status(self, thread_id: str) -> ReviewStatus:
        values = self._values(thread_id)
        if not values or "redlines" not in values:
            raise ReviewNotFound(f"no review with thread id {thread_id!r}; `python app.py list` shows them")
        redlines = RedlineSet.model_validate(values["redlines"])
        decisions = {k: Decision.model_validate(v) for k, v in (values.get("decisions") or {}).items()}
        profile = ContractProfile.model_validate(values["profile"])
        compliance = ComplianceReport.model_validate(values["compliance"])
        return ReviewStatus(
            thread_id=thread_id,
            document=SourceDocument.model_validate(values["document"]),
            profile=profile,
            compliance=compliance,
            redlines=redlines,
            brief=NegotiationBrief.model_validate(values["brief"]),
            overall_risk=overall_risk(profile, compliance),
            decisions=decisions,
            pending=[s.id for s in redlines.suggestions if s.id not in decisions],
            outputs=values.get("outputs"),
            backend=values.get("backend", "local"),
            llm_usage=values.get("llm_usage") or {},
        )

    def decide(self, thread_id: str, decisions: list[Decision], *, sign_off_by: str | None = None) -> ReviewStatus:
        """Record decisions and resume the thread; with every suggestion decided and a sign-off, finalise."""
        status = self.status(thread_id)
        if status.finalised:
            raise ValueError(f"review {thread_id} is already finalised; its outputs are in {status.outputs['report_md']}")
        merged = {**status.decisions, **{d.suggestion_id: d for d in decisions}}
        unknown = [d.suggestion_id for d in decisions if d.suggestion_id not in {s.id for s in status.redlines.suggestions}]
        if unknown:
            raise ValueError(f"no suggestion {', '.join(unknown)} in review {thread_id}")
        if sign_off_by:
            changes_for(status.redlines.suggestions, merged)  # undecided or conflicting: refuse before resuming
        self.audit.record_decisions(thread_id, decisions)
        payload = {"decisions": [d.model_dump(mode="json") for d in decisions], "sign_off_by": sign_off_by}
        self.graph.invoke(Command(resume=payload), self._config(thread_id))
        status = self.status(thread_id)
        if status.finalised:
            self.audit.mark_finalised(thread_id)
        return status

    def _store_base_docx(self, path: Path, document: SourceDocument) -> Path:
        """Keep the original (or a DOCX built from PDF/text input) so finalising never depends on the upload."""
        self.config.documents_dir.mkdir(parents=True, exist_ok=True)
        target = self.config.documents_dir / f"{document.sha256}.docx"
        if not target.exists():
            if document.format == "docx":
                shutil.copyfile(path, target)
            else:
                target.write_bytes(docx_from_paragraphs([p.text for p in document.paragraphs]))
        return target

    def _config(self, thread_id: str) -> dict:
        return {"configurable": {"thread_id": thread_id}}

    def _values(self, thread_id: str) -> dict:
        return self.graph.get_state(self._config(thread_id)).values
