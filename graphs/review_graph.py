"""The review graph:

    classify → extract ─┬→ compliance → redline ─┬→ human_review ⟲ → finalize
                        └→ renewal ──────────────┘        ↕
                                                   redo_for_side (compliance, renewal, redline once the reviewer
                                                   has said which party we are)

`human_review` calls `interrupt()` until every suggestion has a decision; the SQLite checkpointer keeps the
parked thread across processes and reboots. Nothing is written to the user's output folder before that.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import date
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from agents.classifier import ClassifierInput, apply_intake, classify, classify_hybrid
from agents.clause_extraction import ExtractionInput, extract_clauses, extract_clauses_hybrid
from agents.compliance import ComplianceInput, check_compliance, overall_risk
from agents.redlining import RedliningInput, propose_redlines, propose_redlines_with_llm
from agents.renewal_leverage import PerformanceRecord, RenewalInput, analyse_renewal, analyse_renewal_hybrid
from agents.schema import (
    ReviewComment,
    ComplianceReport,
    ContractProfile,
    Decision,
    ExtractionResult,
    IntakeRequest,
    NegotiationBrief,
    RedlineSet,
    SpendRecord,
)
from document_io.models import SourceDocument
from graphs.review_report import ReviewReport
from graphs.finalization import write_outputs
from graphs.blob_store import BlobStore, InlineValues
from graphs.database import OWNER_MUST_MIGRATE, SchemaNotReady, advisory_lock, describe, is_database_url
from graphs.state import ReviewState
from model_backends.llm_client import AgentUsage, LLMClient, UsageLedger
from model_backends.local_engine import LocalEngine
from model_backends.prompt_templates import load_prompt


class InvalidDecisions(ValueError):
    pass


def validate_decisions(payload: dict, redlines: RedlineSet) -> dict[str, Decision]:
    """The resume payload from a reviewer: {"decisions": [Decision, ...]}; unknown ids are refused."""
    known = {s.id: s for s in redlines.suggestions}
    decisions = {}
    for raw in payload.get("decisions", []):
        decision = Decision.model_validate(raw)
        if decision.suggestion_id not in known:
            raise InvalidDecisions(f"no suggestion {decision.suggestion_id}; known: {', '.join(known)}")
        if decision.action == "modify" and decision.modified_text is None:
            raise InvalidDecisions(f"{decision.suggestion_id}: 'modify' needs the new text")
        decisions[decision.suggestion_id] = decision
    return decisions


def build_graph(engine: LocalEngine, checkpointer=None, llm: LLMClient | None = None, blobs: BlobStore | None = None):
    """The review graph. With `llm`, the classifier, clause extraction, redlining and renewal agents are hybrid: the
    local engine runs as on the local backend and the model confirms, adds grounded clauses, proposes wording and
    explains, but never removes what the local engine found (a model that fails leaves the local result, and says
    so in `model_notes`). Compliance stays rule-based (playbook thresholds are checked by code, never judged).
    With `blobs`, the document and each agent's output are kept there and the state holds references."""
    blobs = blobs or InlineValues()
    document_of = lambda state: SourceDocument.model_validate(blobs.get(state["document"]))  # noqa: E731

    def with_usage(agent: str, run):
        """Run an agent on the LLM backend with its own ledger, and put its token usage in the state."""
        ledger = UsageLedger()
        client = llm.with_ledger(ledger)
        result = run(client)
        model = llm.settings.model_for(agent)
        run_facts = {"model": model, "output_mode": client.output_modes().get(model, "not called"),
                     "prompt": load_prompt(agent).version, "endpoint": llm.settings.base_url or "OpenAI",
                     "server": f"{llm.server_kind}, {llm.settings.max_parallel} request(s) at a time"}
        return result, {"llm_usage": {agent: ledger.by_agent.get(agent, AgentUsage()).model_dump()}, "llm_run": {agent: run_facts}}

    def with_request(state: ReviewState, profile: ContractProfile) -> ContractProfile:
        request = state.get("request")
        return apply_intake(profile, IntakeRequest.model_validate(request)) if request else profile

    def classify_node(state: ReviewState) -> dict:
        data = ClassifierInput(document=document_of(state), our_names=state.get("our_names", []), side=state.get("side"))
        if llm is None:
            return {"profile": blobs.put(with_request(state, classify(data)).model_dump(mode="json")), "backend": "local"}
        (profile, notes), usage = with_usage("classifier", lambda client: classify_hybrid(data, client))
        return {"profile": blobs.put(with_request(state, profile).model_dump(mode="json")),
                "backend": f"hybrid:{llm.settings.default_model}", "model_notes": notes, **usage}

    def extract_node(state: ReviewState) -> dict:
        data = ExtractionInput(document=document_of(state))
        if llm is None:
            return {"extraction": blobs.put(extract_clauses(data, engine).model_dump(mode="json"))}
        (result, notes), usage = with_usage("clause_extraction", lambda client: extract_clauses_hybrid(data, engine, client))
        return {"extraction": blobs.put(result.model_dump(mode="json")), "model_notes": notes, **usage}

    def compliance_node(state: ReviewState) -> dict:
        report = check_compliance(
            ComplianceInput(
                document=document_of(state),
                profile=ContractProfile.model_validate(blobs.get(state["profile"])),
                extraction=ExtractionResult.model_validate(blobs.get(state["extraction"])),
                spend=[SpendRecord.model_validate(r) for r in state.get("spend", [])],
                request=IntakeRequest.model_validate(state["request"]) if state.get("request") else None,
            ),
            engine.library,
        )
        return {"compliance": blobs.put(report.model_dump(mode="json"))}

    def redline_node(state: ReviewState) -> dict:
        data = RedliningInput(document=document_of(state),
                              compliance=ComplianceReport.model_validate(blobs.get(state["compliance"])),
                              profile=ContractProfile.model_validate(blobs.get(state["profile"])),
                              id_prefix=state.get("suggestion_prefix") or "S")
        if llm is None:
            return {"redlines": blobs.put(propose_redlines(data, engine).model_dump(mode="json"))}
        redlines, usage = with_usage("redlining", lambda client: propose_redlines_with_llm(data, engine, client))
        worded = sum(s.wording_by == "model" for s in redlines.suggestions)
        return {"redlines": blobs.put(redlines.model_dump(mode="json")), **usage,
                "model_notes": [f"redlining: the model proposed wording for {worded} flag(s) no rule could word"]}

    def renewal_node(state: ReviewState) -> dict:
        data = RenewalInput(
            document=document_of(state),
            extraction=ExtractionResult.model_validate(blobs.get(state["extraction"])),
            today=date.fromisoformat(state["today"]),
            our_side=ContractProfile.model_validate(blobs.get(state["profile"])).our_side,
            spend=[SpendRecord.model_validate(r) for r in state.get("spend", [])],
            performance=[PerformanceRecord.model_validate(r) for r in state.get("performance", [])],
        )
        if llm is None:
            return {"brief": blobs.put(analyse_renewal(data).model_dump(mode="json"))}
        (brief, notes), usage = with_usage("renewal_leverage", lambda client: analyse_renewal_hybrid(data, client))
        return {"brief": blobs.put(brief.model_dump(mode="json")), "model_notes": notes, **usage}

    def human_review_node(state: ReviewState) -> dict:
        redlines = RedlineSet.model_validate(blobs.get(state["redlines"]))
        decided = state.get("decisions") or {}
        pending = [s.id for s in redlines.suggestions if s.id not in decided]
        answer = interrupt({"pending": pending, "decided": sorted(decided)})
        if answer and answer.get("our_party"):
            # the reviewer said which party we are: the side-dependent agents run again (redo_for_side), then back here
            told = answer["our_party"]
            return {"profile": told["profile"], "side": told["side"], "suggestion_prefix": told["suggestion_prefix"],
                    "redo_for_side": True}
        decisions = validate_decisions(answer or {}, redlines)
        update: dict = {"decisions": {k: v.model_dump(mode="json") for k, v in decisions.items()}}
        if answer and answer.get("sign_off_by"):
            update["signed_off_by"] = answer["sign_off_by"]
            update["signed_off_at"] = answer.get("signed_off_at")
            update["comments"] = answer.get("comments") or {}
            update["rounds"] = answer.get("rounds") or []
            update["sign_off_steps_done"] = answer.get("sign_off_steps") or []
        return update

    def redo_for_side_node(state: ReviewState) -> dict:
        """Compliance, renewal and redlining again, in that order, on the profile the reviewer's answer settled."""
        current, update = dict(state), {"redo_for_side": False}
        for node in (compliance_node, renewal_node, redline_node):
            out = node(current)
            current.update(out)
            for key, value in out.items():
                if key == "model_notes":
                    update[key] = update.get(key, []) + value
                elif key in ("llm_usage", "llm_run"):
                    update[key] = {**update.get(key, {}), **value}
                else:
                    update[key] = value
        return update

    def after_review(state: ReviewState) -> str:
        if state.get("redo_for_side"):
            return "redo_for_side"
        redlines = RedlineSet.model_validate(blobs.get(state["redlines"]))
        decided = state.get("decisions") or {}
        complete = all(s.id in decided for s in redlines.suggestions)
        return "finalize" if complete and state.get("signed_off_by") else "human_review"

    def finalize_node(state: ReviewState, config) -> dict:
        document = document_of(state)
        redlines = RedlineSet.model_validate(blobs.get(state["redlines"]))
        profile = ContractProfile.model_validate(blobs.get(state["profile"]))
        compliance = ComplianceReport.model_validate(blobs.get(state["compliance"]))
        decisions = {k: Decision.model_validate(v) for k, v in state["decisions"].items()}
        comments = {k: [ReviewComment.model_validate(c) for c in v] for k, v in (state.get("comments") or {}).items()}
        report = ReviewReport(
            document=document.name,
            source_path=document.source_path,
            sha256=document.sha256,
            thread_id=config["configurable"]["thread_id"],
            overall_risk=overall_risk(profile, compliance),
            profile=profile,
            compliance=compliance,
            suggestions=redlines.suggestions,
            decisions=decisions,
            comments=comments,
            dropped_edits=redlines.dropped_edits,
            renewal=NegotiationBrief.model_validate(blobs.get(state["brief"])),
            signed_off_by=state["signed_off_by"],
            signed_off_at=state.get("signed_off_at"),
            their_changes=document.their_changes(),
            backend=state.get("backend", "local"),
            model_notes=state.get("model_notes") or [],
            model_run=state.get("llm_run") or {},
            request=IntakeRequest.model_validate(state["request"]) if state.get("request") else None,
            rounds=state.get("rounds") or [],
            sign_off_steps=state.get("sign_off_steps_done") or [],
        )
        outputs = write_outputs(
            report, document, blobs.local_file(Path(state["base_docx_path"])), Path(state["output_dir"]),
            redlines.suggestions, decisions, reviewer=state["signed_off_by"],
        )
        for path in outputs.values():
            blobs.share_output(report.thread_id, Path(path))
        return {"outputs": outputs}

    graph = StateGraph(ReviewState)
    graph.add_node("classify", classify_node)
    graph.add_node("extract", extract_node)
    graph.add_node("compliance", compliance_node)
    graph.add_node("renewal", renewal_node)
    graph.add_node("redline", redline_node)
    graph.add_node("human_review", human_review_node)
    graph.add_node("redo_for_side", redo_for_side_node)
    graph.add_node("finalize", finalize_node)
    graph.add_edge(START, "classify")
    graph.add_edge("classify", "extract")
    graph.add_edge("extract", "compliance")
    graph.add_edge("extract", "renewal")
    graph.add_edge("compliance", "redline")
    graph.add_edge(["redline", "renewal"], "human_review")
    graph.add_conditional_edges("human_review", after_review, ["human_review", "redo_for_side", "finalize"])
    graph.add_edge("redo_for_side", "human_review")
    graph.add_edge("finalize", END)
    return graph.compile(checkpointer=checkpointer)


def checkpointer_for(store: Path | str):
    """The durable checkpointer: LangGraph's PostgresSaver on a shared database, else SqliteSaver on a file."""
    return postgres_checkpointer(store) if is_database_url(store) else sqlite_checkpointer(Path(store))


_postgres_savers: dict[tuple[int, str], object] = {}


def postgres_checkpointer(url: str):
    """One PostgresSaver per process and database, on its own pool; its tables are created once, under an advisory
    lock (processes starting together on a new database would otherwise race to create them)."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.errors import InsufficientPrivilege
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    key = (os.getpid(), url)
    if key not in _postgres_savers:
        # connections checked before use: one a server restart broke is replaced, not handed to the graph
        pool = ConnectionPool(url, min_size=1, max_size=10, max_idle=60, open=True, check=ConnectionPool.check_connection,
                              kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row})
        saver = PostgresSaver(pool)
        if not _checkpoint_tables_current(pool, len(saver.MIGRATIONS) - 1):
            # its migrations build indexes CONCURRENTLY: advisory_lock polls, so no waiter sits inside a statement
            with advisory_lock(url, "langgraph checkpointer setup", wait_s=300, busy="the checkpoint tables are being "
                               "created by another process; try again"):
                try:
                    saver.setup()
                except InsufficientPrivilege:  # the application's role, least privilege: the owner migrates
                    pool.close()
                    raise SchemaNotReady(f"{describe(url)} has no up-to-date checkpoint tables and this role may not "
                                         f"create them: {OWNER_MUST_MIGRATE}") from None
        _postgres_savers[key] = (saver, pool)
    return _postgres_savers[key][0]


def _checkpoint_tables_current(pool, latest: int) -> bool:
    """Whether LangGraph's checkpoint migrations are all applied (a read, so the application's role may ask)."""
    with pool.connection() as connection:
        if connection.execute("SELECT to_regclass('checkpoint_migrations') AS t").fetchone()["t"] is None:
            return False
        return connection.execute("SELECT max(v) AS v FROM checkpoint_migrations").fetchone()["v"] == latest


def close_postgres_checkpointers(url: str | None = None) -> None:
    """Close this process's checkpointer pools (to `url`, or all): tests, before a database is copied or dropped."""
    for key in [k for k in _postgres_savers if k[0] == os.getpid() and url in (None, k[1])]:
        _postgres_savers.pop(key)[1].close()


def sqlite_checkpointer(path: Path) -> SqliteSaver:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), check_same_thread=False, timeout=15)  # batch workers share it: wait, but not for ever
    connection.execute("PRAGMA journal_mode=WAL")  # batch workers in several processes write to one file
    return SqliteSaver(connection)


def langgraph_dev_graph():
    """Entry for `langgraph dev` (langgraph.json): the platform supplies its own checkpointer."""
    from graphs.configuration import ReviewConfig

    return build_graph(LocalEngine(ReviewConfig.from_env().data_dir))
