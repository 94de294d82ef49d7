"""Clauseflow command line.

    python app.py review samples/msa_orion.docx          # run the agents, park at the human checkpoint
    python app.py decide <thread> --interactive          # decide one suggestion at a time
    python app.py decide <thread> --approve S01 S02 --reject S03 --modify S04 "new text" --reviewer "A. Lee"
    python app.py decide <thread> --fallback S05          # the playbook's fallback wording instead of the preferred
                                                         # finalises (signs off) once nothing is pending or escalated
    python app.py show <thread> | list | history <thread>
    python app.py library index | library search "text"
    python app.py batch INBOX/ [--workers N]            # a folder to the human checkpoint, triage CSV/JSON/MD
    python app.py batch INBOX/ --engine ray [--address HOST:PORT]   # the same on a Ray cluster
    python app.py serve                                  # the reviewer web page; `user add NAME --functions legal`
    python app.py eval [--dataset cuad|samples] [--backend local|llm] [--limit N]   # CUAD metrics, resumable
    python app.py eval compare A/report.json B/report.json
    python app.py train                                  # retrain the clause model on CUAD's train split
    python app.py train --cross-fit                      # held-out AUPRs on train (two halves), no weights written
    python app.py train --risk-terms                     # retrain the risk-term model (about a minute)

The repository (executed contracts, reviews, obligations, spend):
    python app.py import CONTRACTS/ | demo               # file executed contracts / a demo portfolio
    python app.py search "uncapped liability in SaaS contracts renewing next quarter"
    python app.py renewals --within 90d | obligations --due 30d | alerts --json | calendar --out deadlines.ics
    python app.py spend import erp.csv | suppliers import vendors.csv | spend flags

Exit codes: 0 ok, 1 usage or state error, 2 one or more files could not be reviewed.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime, timezone
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from cli_auth import add_credential_arguments  # noqa: E402
import integration_cli  # noqa: E402
import portfolio_cli  # noqa: E402  (after the telemetry switch: it must be set before chromadb loads)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 1
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("interrupted; decisions already recorded are kept", file=sys.stderr)
        return 130
    except Exception as exc:  # the CLI promise: one line, no traceback (CLAUSEFLOW_DEBUG=1 shows it)
        if os.environ.get("CLAUSEFLOW_DEBUG"):
            raise
        print(f"error: {' '.join(str(exc).split()) or type(exc).__name__}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clauseflow", description="Contract review with a human in the loop.")
    parser.add_argument("--data-dir", help="durable state (default: $CLAUSEFLOW_DATA_DIR or ./data)")
    sub = parser.add_subparsers(dest="command")

    review = sub.add_parser("review", help="review contracts up to the human checkpoint")
    review.add_argument("paths", nargs="+", type=Path)
    review.add_argument("--out", type=Path, default=Path("out"), help="where finalised outputs go (default ./out)")
    review.add_argument("--spend", type=Path, help="CSV of purchase orders / invoices: date,kind,number,po_number,amount,currency")
    review.add_argument("--performance", type=Path, help="CSV of vendor performance: period,sla_target,sla_actual,incidents")
    review.add_argument("--side", choices=["customer", "supplier"],
                        help="our side when our names (CLAUSEFLOW_OUR_NAMES) do not settle it; also CLAUSEFLOW_SIDE")
    review.add_argument("--round-of", metavar="THREAD", help="this file is the counterparty's reply to the version we "
                        "sent from THREAD: compare the two, carry over decisions that still apply")
    review.add_argument("--backend", choices=["local", "llm"],
                        help="default: llm when OPENAI_API_KEY or OPENAI_BASE_URL is set, else the offline local engine")
    review.set_defaults(handler=_review)

    intake = sub.add_parser("intake", help="a contract request with its business context: routes it and starts the review")
    intake.add_argument("paper", type=Path, help="the counterparty's paper (DOCX, PDF or text)")
    intake.add_argument("--requester", required=True, help="who asks for the contract")
    intake.add_argument("--supplier", help="who it is with")
    intake.add_argument("--category", help="what is bought, e.g. 'cloud software'")
    intake.add_argument("--amount", type=float, help="expected total value")
    intake.add_argument("--currency", default="USD", help="three-letter code (default USD)")
    intake.add_argument("--purpose", help="why it is needed")
    intake.add_argument("--personal-data", action="store_true", help="personal data is involved")
    intake.add_argument("--security-relevant", action="store_true", help="our systems or security are involved")
    intake.add_argument("--deadline", type=date.fromisoformat, help="when it must be signed (YYYY-MM-DD)")
    intake.add_argument("--out", type=Path, default=Path("out"))
    intake.add_argument("--side", choices=["customer", "supplier"])
    intake.set_defaults(handler=_intake)

    drafting = sub.add_parser("draft", help="a first draft on our own paper from the approved clause library (DOCX)")
    drafting.add_argument("contract_type", help="nda, msa, saas, dpa, supply, licence or services")
    drafting.add_argument("--counterparty", required=True)
    drafting.add_argument("--side", choices=["customer", "supplier"], default="customer", help="our side (default customer)")
    drafting.add_argument("--out", type=Path, help="the DOCX to write (default out/<type>_<counterparty>.docx)")
    drafting.set_defaults(handler=_draft)

    decide = sub.add_parser("decide", help="approve / modify / reject / escalate suggestions and resume the review")
    decide.add_argument("thread")
    decide.add_argument("--reviewer", help="who decides (default $CLAUSEFLOW_REVIEWER or $USER); with reviewer accounts, "
                        "proven by a password or an API token")
    add_credential_arguments(decide)
    decide.add_argument("--approve", nargs="*", default=[], metavar="ID")
    decide.add_argument("--reject", nargs="*", default=[], metavar="ID")
    decide.add_argument("--escalate", nargs="*", default=[], metavar="ID")
    decide.add_argument("--escalate-to", choices=["legal", "security", "finance", "procurement"],
                        help="the function escalated suggestions go to (default: the playbook's, else legal)")
    decide.add_argument("--modify", nargs=2, action="append", default=[], metavar=("ID", "TEXT"))
    decide.add_argument("--fallback", nargs="*", default=[], metavar="ID",
                        help="propose the playbook's fallback wording instead (recorded as a modify)")
    decide.add_argument("--approve-all", action="store_true", help="approve every suggestion still pending")
    decide.add_argument("--comment", help="a comment stored with these decisions")
    decide.add_argument("--interactive", "-i", action="store_true", help="decide pending suggestions one at a time")
    decide.add_argument("--no-finalize", action="store_true", help="record decisions but do not finalise yet")
    decide.add_argument("--our-party", metavar="NAME", help="answer 'Which party are we?': NAME is one of the contract's "
                        "parties (legal name or defined term); the side-dependent checks then run again")
    decide.add_argument("--side", choices=["customer", "supplier"], help="with --our-party: our side, when the text does "
                        "not say which side that party is on")
    # Finalising (sign-off) happens when nothing is pending or escalated; with reviewer accounts, only by a proven
    # reviewer who holds the sign-off role (cli_auth.py).
    decide.set_defaults(handler=_decide)

    show = sub.add_parser("show", help="show a review's suggestions and decisions")
    show.add_argument("thread")
    show.set_defaults(handler=_show)
    sub.add_parser("list", help="list reviews").set_defaults(handler=_list)
    portfolio_cli.add_parsers(sub, _config)
    integration_cli.add_parsers(sub, _config)
    database = sub.add_parser("db", help="the shared PostgreSQL database")
    database_sub = database.add_subparsers(dest="db_command", required=True)
    migrate = database_sub.add_parser("migrate", help="as the owner (CLAUSEFLOW_DATABASE_OWNER_URL): apply migrations and "
                                      "grant the application's role (the user of CLAUSEFLOW_DATABASE_URL) only reads "
                                      "and writes")
    migrate.add_argument("--app-role", help="the application's role (default: the user in CLAUSEFLOW_DATABASE_URL)")
    migrate.set_defaults(handler=_db_migrate)
    history = sub.add_parser("history", help="replay a review's decision log")
    history.add_argument("thread")
    history.set_defaults(handler=_history)

    library = sub.add_parser("library", help="the approved clause library")
    library_sub = library.add_subparsers(dest="library_command", required=True)
    library_sub.add_parser("index", help="(re)index clause_library/clauses/*.yaml into Chroma").set_defaults(handler=_library_index)
    search = library_sub.add_parser("search", help="search approved clauses by meaning")
    search.add_argument("text")
    search.add_argument("--limit", type=int, default=5)
    search.set_defaults(handler=_library_search)

    batch = sub.add_parser("batch", help="review every contract in a folder up to the human checkpoint; triage summary")
    batch.add_argument("inbox", type=Path)
    batch.add_argument("--workers", type=int, help="parallel workers (default: this machine's cores; with Ray, the "
                       "cluster's CPUs)")
    batch.add_argument("--engine", choices=["pool", "ray"], default="pool",
                       help="pool: worker processes on this machine (default); ray: actors on a Ray cluster")
    batch.add_argument("--address", help="with --engine ray: the cluster's head, HOST:PORT or ray://HOST:PORT (default: "
                       "start Ray on this machine)")
    batch.add_argument("--out", type=Path, help="where triage.csv/json/md go (default out/batch-<inbox>)")
    batch.add_argument("--spend", type=Path, help="CSV of purchase orders / invoices for every contract")
    batch.add_argument("--performance", type=Path, help="CSV of vendor performance for every contract")
    batch.set_defaults(handler=_batch)

    serve = sub.add_parser("serve", help="the reviewer web page on 127.0.0.1")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--secure-cookies", action="store_true", default=os.environ.get("CLAUSEFLOW_SECURE_COOKIES") == "1",
                       help="mark cookies Secure (serve behind HTTPS); also CLAUSEFLOW_SECURE_COOKIES=1")
    serve.add_argument("--trusted-proxies", default=os.environ.get("CLAUSEFLOW_TRUSTED_PROXIES", ""),
                       help="comma-separated addresses of reverse proxies whose X-Forwarded-For is believed (default "
                       "none: the throttle counts the address that connected)")
    serve.add_argument("--workers", type=int, default=1, help="web worker processes (default 1); they share the data "
                       "folder's databases, so sessions and decisions are the same in every one")
    serve.set_defaults(handler=_serve)
    user = sub.add_parser("user", help="reviewer accounts for the web page")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    user_add = user_sub.add_parser("add", help="add a reviewer; asks for the password")
    user_add.add_argument("username")
    user_add.add_argument("--functions", nargs="+", required=True, choices=["legal", "security", "finance", "procurement"])
    user_add.add_argument("--roles", nargs="+", default=[], choices=["sign-off", "all-contracts"],
                          help="sign-off: may finalise; all-contracts: sees contracts routed to any function")
    user_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    user_add.set_defaults(handler=_user_add)
    user_passwd = user_sub.add_parser("passwd", help="set a reviewer's password; ends their sessions")
    user_passwd.add_argument("username")
    user_passwd.add_argument("--password-stdin", action="store_true")
    user_passwd.set_defaults(handler=_user_passwd)
    user_remove = user_sub.add_parser("remove", help="remove a reviewer; ends their sessions (their decisions stay logged)")
    user_remove.add_argument("username")
    user_remove.set_defaults(handler=_user_remove)
    user_sub.add_parser("list", help="list reviewers with functions and roles").set_defaults(handler=_user_list)
    user_token = user_sub.add_parser("token", help="issue a personal API token for the CLI (asks for that reviewer's "
                                     "password; the token is shown once and stored hashed)")
    user_token.add_argument("username")
    user_token.add_argument("--password-stdin", action="store_true", help="read the reviewer's password from stdin")
    user_token.set_defaults(handler=_user_token)
    user_unlock = user_sub.add_parser("unlock", help="clear a reviewer's failed logins, ending a lockout")
    user_unlock.add_argument("username")
    user_unlock.set_defaults(handler=_user_unlock)
    user_revoke = user_sub.add_parser("revoke-tokens", help="revoke every API token of a reviewer")
    user_revoke.add_argument("username")
    user_revoke.set_defaults(handler=_user_revoke_tokens)

    token = sub.add_parser("token", help="personal API tokens for the REST API and the CLI")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    token_add = token_sub.add_parser("add", help="issue a token for a reviewer (asks for their password; shown once, "
                                     "stored hashed; it has exactly that reviewer's functions and roles)")
    token_add.add_argument("username")
    token_add.add_argument("--password-stdin", action="store_true", help="read the reviewer's password from stdin")
    token_add.set_defaults(handler=_user_token)
    token_revoke = token_sub.add_parser("revoke", help="revoke every API token of a reviewer")
    token_revoke.add_argument("username")
    token_revoke.set_defaults(handler=_user_revoke_tokens)

    evaluate = sub.add_parser("eval", help="evaluate a backend on labelled contracts (CUAD metrics)")
    evaluate.add_argument("--task", choices=["clauses", "review", "judged", "search", "obligations", "rounds"], default="clauses",
                          help="clauses: CUAD extraction metrics; review: are the review's findings and facts true; "
                          "judged: the review against suggestions a reviewer judged by reading (CUAD train); "
                          "search: the repository search on judged queries over the demo portfolio; "
                          "obligations: the duties judged in 35 CUAD contracts; "
                          "rounds: the negotiation-round scenarios and the round report each should get")
    evaluate.add_argument("--dataset", choices=["cuad", "samples"], default="cuad")
    evaluate.add_argument("--dataset-path", help="CUAD folder (CUAD_v1.json or master_clauses.csv + full_contract_txt/)")
    evaluate.add_argument("--split", choices=["dev", "train", "all"], help="default: dev for CUAD, all for the samples")
    evaluate.add_argument("--backend", choices=["local", "llm", "hybrid"], default="local",
                          help="hybrid: the local engine's predictions plus the model's grounded additions, as in a review")
    evaluate.add_argument("--limit", type=int, help="only the first N contracts of the split")
    evaluate.add_argument("--categories", nargs="+", help="only these categories")
    evaluate.add_argument("--out", type=Path, help="run folder (default evals/runs/<dataset>-<split>-<backend>); reruns resume")
    evaluate.set_defaults(handler=_eval)
    eval_sub = evaluate.add_subparsers(dest="eval_command")
    compare = eval_sub.add_parser("compare", help="two report.json files side by side")
    compare.add_argument("a")
    compare.add_argument("b")
    compare.add_argument("--markdown", help="also write the table here")
    compare.add_argument("--plot", help="also write both runs' precision-recall curves, overlaid, to this PNG")
    compare.set_defaults(handler=_eval_compare)
    download = eval_sub.add_parser("download-cuad", help="fetch CUAD v1 from Zenodo (needs internet), checksum-verified")
    download.add_argument("to")
    download.set_defaults(handler=_eval_download)

    train = sub.add_parser("train", help="retrain the clause model on CUAD's train split (about 2.5 minutes)")
    train.add_argument("--dataset-path", help="CUAD folder (default ../shared/datasets/cuad)")
    train.add_argument("--limit", type=int, help="only the first N train contracts")
    train.add_argument("--out", help="weights file (default model_backends/weights/clause_model.npz); with --cross-fit, the report")
    train.add_argument("--cross-fit", action="store_true",
                       help="do not write weights: train on each half of the train split, score the other half, and "
                            "write the held-out AUPRs (default evals/reports/cuad-train-crossfit.json)")
    train.add_argument("--risk-terms", action="store_true",
                       help="train the risk-term model instead (model_backends/weights/risk_terms.npz; its thresholds "
                            "chosen out of fold on train, dev scored for evals/reports/risk-terms-training.json)")
    train.set_defaults(handler=_train)
    return parser


def _config(args):
    from graphs.configuration import ReviewConfig

    backend = getattr(args, "backend", None)
    backend = "llm" if backend == "hybrid" else backend  # the eval's hybrid solver runs the review's LLM backend
    return ReviewConfig.from_env(args.data_dir, backend, getattr(args, "side", None))


def _service(args):
    from graphs.review_service import ReviewService

    return ReviewService(_config(args))


# --- review -----------------------------------------------------------------------------------------


def _review(args) -> int:
    from agents.compliance import load_spend
    from agents.renewal_leverage import load_performance
    from cli_output import print_review, print_round
    from document_io.errors import DocumentError
    from model_backends.llm_client import LLMError

    if args.round_of and len(args.paths) != 1:
        print("error: --round-of takes one file: the other side's reply to that review", file=sys.stderr)
        return 2
    spend = load_spend(args.spend) if args.spend else None
    performance = load_performance(args.performance) if args.performance else None
    service = _service(args)
    failed = 0
    for path in args.paths:
        try:
            status = service.start(path, args.out, spend=spend, performance=performance, round_of=args.round_of)
        except (DocumentError, LLMError) as exc:
            failed += 1
            print(f"error: {path.name}: {exc}" if isinstance(exc, LLMError) else f"error: {exc.reason}", file=sys.stderr)
            continue
        print_review(status)
        if args.round_of:
            print_round(service.rounds(status.thread_id))
    if failed:
        print(f"{failed} of {len(args.paths)} file(s) could not be reviewed", file=sys.stderr)
        return 2
    return 0


def _intake(args) -> int:
    from agents.schema import IntakeRequest
    from cli_output import print_review
    from document_io.errors import DocumentError

    try:
        request = IntakeRequest(requester=args.requester, supplier=args.supplier, category=args.category, amount=args.amount,
                                currency=(args.currency or "USD").upper(), purpose=args.purpose,
                                personal_data=args.personal_data, security_relevant=args.security_relevant,
                                deadline=args.deadline)
    except ValueError as exc:
        print(f"error: the request is not valid: {' '.join(str(exc).split())[:300]}", file=sys.stderr)
        return 2
    from clause_library.routing import currency_problem

    if request.amount is not None and (problem := currency_problem(request.currency)):
        print(f"error: the request is not valid: {problem}", file=sys.stderr)
        return 2
    service = _service(args)
    try:
        status = service.start(args.paper, args.out, request=request)
    except DocumentError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 2
    if status.already_existed and status.request is None:
        print("note: this paper was already reviewed without a request; the existing review is shown", file=sys.stderr)
    print_review(status)
    return 0


def _draft(args) -> int:
    import re

    from agents.drafting import DraftRequest, draft
    from clause_library.playbook import load_library
    from document_io.docx_draft import write_draft_docx

    config = _config(args)
    try:
        contract = draft(DraftRequest(contract_type=args.contract_type.lower(), our_name=config.our_names[0],
                                      counterparty=args.counterparty, our_side=args.side, effective=config.today), load_library())
    except ValueError as exc:
        print(f"error: {' '.join(str(exc).split())[:300]}", file=sys.stderr)
        return 2
    slug = re.sub(r"[^a-z0-9]+", "_", args.counterparty.lower()).strip("_")[:40] or "counterparty"
    out = args.out or Path("out") / f"{args.contract_type.lower()}_{slug}.docx"
    write_draft_docx(out, contract.title, contract.preamble, [(s.heading, s.text) for s in contract.sections], contract.signatories)
    print(f"wrote {out}: {contract.name} on the {args.side} side, {len(contract.sections)} sections "
          f"({', '.join(s.category for s in contract.sections)})")
    if placeholders := contract.placeholders():
        print(f"to complete before sending ({len(placeholders)}): " + "; ".join(p.strip("[]") for p in placeholders))
    return 0


# --- decide -----------------------------------------------------------------------------------------


def _decide(args) -> int:
    from agents.schema import Decision
    from cli_auth import CredentialRefused, identify
    from cli_output import print_finalised, print_review

    service = _service(args)
    status = service.status(args.thread)  # also completes a finalisation that was cut off
    asked = args.approve or args.reject or args.escalate or args.modify or args.fallback or args.approve_all
    if args.our_party:
        if asked or args.interactive:
            print("error: answer --our-party on its own: the suggestions are redone for our side, so decide them after",
                  file=sys.stderr)
            return 2
        return _answer_our_party(service, args)
    if status.finalised and asked:
        print(f"error: review {args.thread} is already finalised (signed off by {status.sign_off.signed_by}); "
              "decisions can no longer change", file=sys.stderr)
        return 1
    if status.finalised:
        print_finalised(status)
        return 0
    if not (asked or args.interactive) and (status.pending or status.escalated or args.no_finalize):
        if status.pending and not args.no_finalize:
            print("error: nothing to record; name suggestions with --approve/--reject/--escalate/--modify/--fallback or use -i",
                  file=sys.stderr)
            return 1
        print_review(status)
        return 0
    try:
        who = identify(service.config.audit_store, args.reviewer, args, doing="deciding or signing off")
    except CredentialRefused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    now = datetime.now(timezone.utc)

    def decision(sid: str, action: str, text: str | None = None) -> Decision:
        return Decision(suggestion_id=sid, action=action, reviewer=who.username, decided_at=now, modified_text=text,
                        comment=args.comment, escalate_to=args.escalate_to if action == "escalate" else None)

    if args.interactive:
        return _decide_interactively(service, status, args, who)
    decisions = [decision(s, "approve") for s in args.approve]
    decisions += [decision(s, "reject") for s in args.reject]
    decisions += [decision(s, "escalate") for s in args.escalate]
    decisions += [decision(s, "modify", text) for s, text in args.modify]
    decisions += [service.fallback_decision(status, s, who.username, args.comment) for s in args.fallback]
    named = {d.suggestion_id for d in decisions}  # one id named twice is refused by the service, nothing recorded
    if args.approve_all:
        decisions += [decision(s, "approve") for s in status.pending if s not in named
                      if who.may_decide(_owner(status, s))]  # everything pending that is theirs to decide
    if refused := _not_theirs(status, decisions, who):
        print(f"error: {refused}; nothing was recorded", file=sys.stderr)
        return 2
    if decisions:
        decisions = [d.model_copy(update={"authenticated_by": who.authenticated_by}) for d in decisions]
        status = service.decide(args.thread, decisions, expected_version=status.version)
        for d in decisions:  # printed only after the commit: a decision shown here is durable
            print(f"saved: {d.action} {d.suggestion_id} by {d.reviewer} (review version {status.version})", flush=True)
        who.say_if_unproven()
    elif status.pending:
        print("error: nothing to record; name suggestions with --approve/--reject/--escalate/--modify/--fallback or use -i",
              file=sys.stderr)
        return 1
    if status.pending or status.escalated or args.no_finalize:
        print_review(status)
        return 0
    return _finalise(service, status, who)


def _owner(status, suggestion_id: str) -> str:
    from web_app.accounts import owner_function

    suggestion = next((s for s in status.redlines.suggestions if s.id == suggestion_id), None)
    return owner_function(suggestion, status.decisions.get(suggestion_id)) if suggestion else "legal"


def _not_theirs(status, decisions, who) -> str | None:
    """The page's rule on the CLI: a suggestion is decided by the function that owns it."""
    known = {s.id for s in status.redlines.suggestions}
    foreign = [f"{d.suggestion_id} is for {_owner(status, d.suggestion_id)}" for d in decisions
               if d.suggestion_id in known and not who.may_decide(_owner(status, d.suggestion_id))]
    if not foreign:
        return None
    return f"{'; '.join(foreign)}; {who.username} reviews for {', '.join(who.reviewer.functions)}"


def _answer_our_party(service, args) -> int:
    from cli_auth import CredentialRefused, identify
    from cli_output import print_review

    try:
        who = identify(service.config.audit_store, args.reviewer, args, doing="answering which party we are")
    except CredentialRefused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    if not who.may_decide("legal"):
        print(f"error: which party we are is Legal's question; {who.username} reviews for "
              f"{', '.join(who.reviewer.functions)}; nothing was recorded", file=sys.stderr)
        return 2
    try:
        answer = service.set_our_party(args.thread, args.our_party, who.username, side=args.side)
    except ValueError as error:  # not a party, no side to be had, or signed off: nothing changed
        print(f"error: {error}", file=sys.stderr)
        return 2
    if answer.unchanged:
        print(f"already so: we are {answer.party}, our side {answer.side}")
        return 0
    print(f"saved: {who.username} answered that we are {answer.party}; our side {answer.side} "
          f"(review version {answer.status.version}); the side-dependent checks ran again", flush=True)
    who.say_if_unproven()
    if answer.carried:
        print(f"carried over to the redone suggestions: {', '.join(answer.carried)}")
    if answer.superseded:
        print(f"no longer apply (their suggestions changed now that our side is known; the log keeps them): "
              f"{', '.join(answer.superseded)}")
    print_review(answer.status)
    return 0


def _finalise(service, status, who) -> int:
    """Sign off as the proven person. Where reviewer accounts exist, only one holding the sign-off role may."""
    from cli_output import print_finalised

    functions = None
    if who.reviewer is not None:
        if not who.reviewer.may_sign_off:
            print(f"error: every suggestion is decided, but {who.username} may not sign off; a reviewer with the sign-off "
                  f"role finalises with `python app.py decide {status.thread_id} --reviewer NAME`", file=sys.stderr)
            return 1
        functions = who.reviewer.functions
    status = service.finalise(status.thread_id, who.username, expected_version=status.version, signer_functions=functions,
                              authenticated_by=who.authenticated_by)
    if not status.finalised:  # one step of a sequential sign-off
        last = status.signed_steps[-1]
        print(f"signed off for {last.function} by {last.signed_by} (step {last.step + 1} of {len(status.profile.sign_off_steps)}); "
              f"{status.next_sign_off_step} signs next: python app.py decide {status.thread_id} --reviewer NAME")
        return 0
    print_finalised(status)
    return 0


def _decide_interactively(service, status, args, who) -> int:
    from rich.markup import escape

    from agents.schema import Decision
    from cli_output import console, print_review, print_suggestion

    choices = {"a": "approve", "m": "modify", "r": "reject", "e": "escalate"}
    by_id = {s.id: s for s in status.redlines.suggestions}
    for sid in [*status.pending, *status.escalated]:
        if not who.may_decide(_owner(status, sid)):
            continue  # another function's to decide
        print_suggestion(by_id[sid], status)
        offered = {**choices, "f": "fallback"} if by_id[sid].fallback_text else choices
        prompt = "[a]pprove [m]odify " + ("[f]allback " if "f" in offered else "") + "[r]eject [e]scalate [s]kip [q]uit > "
        answer = ""
        while answer not in (*offered, "s", "q"):
            answer = console.input(escape(prompt)).strip().lower()[:1]
        if answer == "q":
            break
        if answer == "s":
            continue
        text = console.input("new text > ") if answer == "m" else None
        comment = console.input("comment (optional) > ").strip() or None
        if answer == "f":
            decision = service.fallback_decision(status, sid, who.username, comment)
        else:
            decision = Decision(suggestion_id=sid, action=choices[answer], reviewer=who.username,
                                decided_at=datetime.now(timezone.utc), modified_text=text, comment=comment)
        decision = decision.model_copy(update={"authenticated_by": who.authenticated_by})
        status = service.decide(status.thread_id, [decision], expected_version=status.version)
        console.print(escape(f"saved: {decision.action} {sid} by {who.username} (review version {status.version})"))
    if status.pending or status.escalated or args.no_finalize:
        print_review(status)
        return 0
    return _finalise(service, status, who)


# --- inspection -------------------------------------------------------------------------------------


def _show(args) -> int:
    from cli_output import print_finalised, print_review, print_round

    service = _service(args)
    status = service.status(args.thread)
    print_review(status)
    if status.round_of:
        print_round(service.rounds(status.thread_id))
    if status.finalised:
        print_finalised(status)
    return 0


def _list(args) -> int:
    from cli_output import print_reviews
    from graphs.audit_log import AuditLog

    print_reviews(AuditLog(_config(args).audit_store).reviews())
    return 0


def _db_migrate(args) -> int:
    from graphs.database import is_database_url
    from graphs.db_admin import migrate

    owner_url = os.environ.get("CLAUSEFLOW_DATABASE_OWNER_URL", "")
    if not is_database_url(owner_url):  # from the environment only: a password on a command line is in `ps`
        print("error: set CLAUSEFLOW_DATABASE_OWNER_URL to the owner's postgresql:// URL", file=sys.stderr)
        return 2
    role = args.app_role
    if role is None and is_database_url(os.environ.get("CLAUSEFLOW_DATABASE_URL", "")):
        from psycopg.conninfo import conninfo_to_dict

        role = conninfo_to_dict(os.environ["CLAUSEFLOW_DATABASE_URL"]).get("user")
    result = migrate(owner_url, role)
    applied = ", ".join(map(str, result.applied_now)) or "none"
    print(f"{result.database}: schema version {result.schema_version} (applied now: {applied})")
    if result.application_role:
        print(f"role {result.application_role}: reads and writes only; insert-only: "
              f"{', '.join(result.insert_only_tables)}")
    else:
        print("no separate application role: the application would connect as the owner (set CLAUSEFLOW_DATABASE_URL "
              "to a role of its own)")
    return 0


def _history(args) -> int:
    """The review's decisions, sign-off and finalisation in the order they were logged."""
    from rich.markup import escape

    from cli_output import console
    from graphs.audit_log import AuditLog

    log = AuditLog(_config(args).audit_store)
    if log.review(args.thread) is None:
        print(f"error: no review with thread id {args.thread!r}", file=sys.stderr)
        return 1
    lines = []
    for d in log.history(args.thread):
        extra = f" → {d.modified_text!r}" if d.modified_text else ""
        extra += f" to {d.escalate_to}" if d.escalate_to else ""
        note = f" ({d.comment})" if d.comment else ""
        how = f" [{d.authenticated_by}]" if d.authenticated_by else " [no credential: no accounts]"
        lines.append((d.decided_at, f"{d.reviewer}: {d.action} {d.suggestion_id}{extra}{note}{how}"))
    for event in log.events(thread_id=args.thread):
        lines.append((event.at, f"{event.actor}: {event.kind.replace('_', '-')}" + (f" ({event.detail})" if event.detail else "")))
    for at, line in sorted(lines, key=lambda pair: pair[0]):
        console.print(escape(f"{at:%Y-%m-%d %H:%M:%S} {line}"))
    return 0


def _library_index(args) -> int:
    from clause_library.playbook import load_library
    from clause_library.vector_store import ClauseStore

    count = ClauseStore(_config(args).data_dir / "chroma").index(load_library())
    print(f"indexed {count} texts from clause_library/clauses into Chroma")
    return 0


def _library_search(args) -> int:
    from clause_library.playbook import default_library
    from clause_library.vector_store import ClauseStore

    store = ClauseStore(_config(args).data_dir / "chroma")
    store.ensure_indexed(default_library())
    for hit in store.search(args.text, limit=args.limit):
        print(f"{hit.similarity:.3f}  {hit.category_id:<28} {hit.kind:<15} {hit.text[:100]}")
    return 0


# --- batch ------------------------------------------------------------------------------------------


def _batch(args) -> int:
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from graphs.batch_review import BatchSettings, Throughput, run_batch
    from graphs.triage import outcome_counts, skipped_count, write_triage

    out = args.out or Path("out") / f"batch-{args.inbox.resolve().name}"
    if args.address and args.engine != "ray":
        raise ValueError("--address names a Ray cluster; add --engine ray")
    if args.workers is not None and args.workers < 1:
        raise ValueError("--workers must be at least 1")
    settings = BatchSettings(inbox=args.inbox.resolve(), output_dir=out.resolve(),
                             workers=args.workers or os.cpu_count() or 1, spend_csv=args.spend,
                             performance_csv=args.performance)
    throughput = Throughput()
    failed = 0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[detail]}"),
                  TimeRemainingColumn()) as progress:
        task = progress.add_task(f"reviewing {args.inbox}", total=None, detail="")

        def on_result(row, done, total):
            nonlocal failed
            failed += row.outcome == "failed"
            if row.outcome == "failed":
                progress.console.print(f"[red]failed[/] {escape(f'{row.file}: {row.reason}')}")
            elif row.outcome == "skipped":
                progress.console.print(f"[yellow]not read[/] {escape(f'{row.file}: {row.reason}')}")
            progress.update(task, completed=done, total=total, detail=(
                f"{failed} failed · {total - done} remaining · {throughput.per_minute(done):.0f}/min"))

        if args.engine == "ray":
            from graphs.ray_batch import run_batch_on_ray

            result = run_batch_on_ray(settings, _config(args), address=args.address, workers=args.workers,
                                      on_result=on_result)
            rows = result.rows
            retried = f", {result.retried} retried after their worker died" if result.retried else ""
            progress.console.print(f"Ray: {result.workers} workers, contracts reviewed on {result.nodes} node(s){retried}")
        else:
            rows = run_batch(settings, _config(args), on_result=on_result)
    paths = write_triage(rows, out)
    reviewed, failed = outcome_counts(rows)  # the same count the triage files state
    skipped = skipped_count(rows)
    print(f"{reviewed} reviewed, {failed} failed{f', {skipped} not read' if skipped else ''}; triage: {paths['markdown']} "
          f"{paths['csv']} {paths['json']}")
    return 2 if failed else 0


# --- web page and accounts ---------------------------------------------------------------------------


def _serve(args) -> int:
    import uvicorn

    from web_app.server import create_app

    config = _config(args)
    # uvicorn believes X-Forwarded-For from 127.0.0.1 by default: any local caller could pick the address the login
    # throttle counts. Only the proxies named here are believed.
    trusted = args.trusted_proxies.strip()
    proxies = {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or ""}
    print(f"Clauseflow reviewer page on http://{args.host}:{args.port}/ (add reviewers with `python app.py user add`)")
    if (every := float(os.environ.get("CLAUSEFLOW_WEBHOOKS_EVERY", "5"))) > 0:
        integration_cli.start_delivery_thread(config, every)  # one deliverer, however many web workers
    if args.workers > 1:
        # Each worker process builds its own app from the environment (uvicorn imports the factory by name).
        os.environ.update({"CLAUSEFLOW_DATA_DIR": str(config.data_dir), "CLAUSEFLOW_BACKEND": config.backend,
                           "CLAUSEFLOW_SECURE_COOKIES": "1" if args.secure_cookies else "0"})
        if config.side:
            os.environ["CLAUSEFLOW_SIDE"] = config.side
        uvicorn.run("web_app.server:app_from_environment", factory=True, workers=args.workers, host=args.host, **proxies,
                    port=args.port, log_level="warning")
        return 0
    uvicorn.run(create_app(config, secure_cookies=args.secure_cookies), host=args.host, port=args.port, log_level="warning",
                **proxies)
    return 0


def _read_password(args) -> str:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass(f"password for {args.username}: ")
    if password != getpass.getpass("again: "):
        raise ValueError("the passwords differ")
    return password


def _accounts(args):
    from web_app.accounts import Accounts

    return Accounts(_config(args).audit_store)


def _operator() -> str:
    return f"cli:{os.environ.get('USER') or 'unknown'}"


def _user_add(args) -> int:
    _accounts(args).add_user(args.username, _read_password(args), args.functions, args.roles, by=_operator())
    roles = f"; roles: {', '.join(args.roles)}" if args.roles else ""
    print(f"reviewer {args.username} can decide for: {', '.join(args.functions)}{roles}")
    return 0


def _user_passwd(args) -> int:
    _accounts(args).set_password(args.username, _read_password(args), by=_operator())
    print(f"password of {args.username} changed; their sessions were ended")
    return 0


def _user_remove(args) -> int:
    _accounts(args).remove_user(args.username, by=_operator())
    print(f"reviewer {args.username} removed; their sessions were ended")
    return 0


def _user_token(args) -> int:
    from cli_auth import CredentialRefused, identify

    accounts = _accounts(args)
    if accounts.user(args.username) is None:
        print(f"error: no reviewer {args.username}", file=sys.stderr)
        return 2
    try:  # a personal token: only its holder, proven by their password, may have one issued
        who = identify(_config(args).audit_store, args.username, argparse.Namespace(password_stdin=args.password_stdin),
                       doing="issuing an API token")
    except CredentialRefused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    token = accounts.issue_api_token(who.username, by=f"{who.username} ({who.authenticated_by})")
    print(f"API token for {who.username} (shown once; keep it like a password; `user revoke-tokens` ends it):")
    print(token)
    return 0


def _user_unlock(args) -> int:
    cleared = _accounts(args).unlock(args.username, by=_operator())
    print(f"{args.username} unlocked ({cleared} failed login(s) cleared)")
    return 0


def _user_revoke_tokens(args) -> int:
    revoked = _accounts(args).revoke_api_tokens(args.username, by=_operator())
    print(f"{revoked} API token(s) of {args.username} revoked")
    return 0


def _user_list(args) -> int:
    for reviewer in _accounts(args).users():
        print(f"{reviewer.username}: functions {', '.join(reviewer.functions)}; roles {', '.join(reviewer.roles) or 'none'}")
    return 0


# --- evaluation and training ------------------------------------------------------------------------


def _eval(args) -> int:
    from evals.commands import eval_command

    return eval_command(args, _config(args))


def _eval_compare(args) -> int:
    from evals.commands import compare_command

    return compare_command(args)


def _eval_download(args) -> int:
    from evals.commands import download_cuad_command

    return download_cuad_command(args)


def _train(args) -> int:
    from evals.commands import train_command

    return train_command(args, _config(args))


if __name__ == "__main__":
    sys.exit(main())
