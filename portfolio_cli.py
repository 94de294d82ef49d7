"""The repository's commands: import, search, renewals, obligations, alerts, calendar, spend, suppliers, demo.

Each opens the repository in the data folder after filing any review that changed since the last command, so
reviews and imported executed contracts answer together.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from cli_auth import add_credential_arguments


def _csv_import_command(sub, name: str, about: str, handler, columns: str):
    """`NAME import CSV`: a command whose `import` subcommand reads one CSV file; its subcommands, for more."""
    commands = sub.add_parser(name, help=about).add_subparsers(dest=f"{name}_command", required=True)
    reader = commands.add_parser("import", help=columns)
    reader.add_argument("csv", type=Path)
    reader.set_defaults(handler=handler)
    return commands


def add_parsers(sub, config_of) -> None:
    """Add the repository's subcommands; `config_of(args)` gives the ReviewConfig."""
    global _config_of
    _config_of = config_of

    imp = sub.add_parser("import", help="file executed contracts into the repository (extraction only, no redlining); "
                         "signed PDFs are checked against the signing set-up's trust roots and matched to their review")
    imp.add_argument("folder", type=Path, help="a folder of contracts, or one file")
    imp.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(handler=_import)

    search = sub.add_parser("search", help='search the repository: "uncapped liability in SaaS contracts renewing next quarter"')
    search.add_argument("text", help="plain words and filters: a type (SaaS, NDA…), 'renewing next quarter', "
                        "'governed by New York law', 'over $100k', 'with Acme'; other words are found in the clauses")
    search.add_argument("--type", help="contract type, e.g. saas")
    search.add_argument("--status", choices=["in review", "finalised", "executed", "expired", "terminated"])
    search.add_argument("--counterparty")
    search.add_argument("--law", help="governing law, e.g. 'New York'")
    search.add_argument("--has-clause", help="a clause category the contract must have, e.g. liability_cap or 'Non-Compete'")
    search.add_argument("--meaning", action="store_true", help="rank clauses by meaning (embeddings in Chroma) instead "
                        "of by their words; also used when no clause has every word")
    search.add_argument("--limit", type=int, default=20)
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=_search)

    renewals = sub.add_parser("renewals", help="renewal notice deadlines across the repository, soonest first")
    renewals.add_argument("--within", default="90d", help="how far ahead: 90d, 12w or 6m (default 90d); deadlines "
                          "missed in the last 30 days are listed too")
    renewals.add_argument("--json", action="store_true", help="print JSON instead of a table")
    renewals.set_defaults(handler=_renewals)

    obligations = sub.add_parser("obligations", help="post-signature obligations: due soon, or mark one done / missed")
    obligations.add_argument("--due", help="due within: 30d, 4w, 3m (default: every open obligation)")
    obligations.add_argument("--status", default="open", choices=["open", "done", "missed", "all"])
    obligations.add_argument("--done", metavar="ID", help="mark this obligation done")
    obligations.add_argument("--missed", metavar="ID", help="mark this obligation missed")
    obligations.add_argument("--by", help="who marks it (default $CLAUSEFLOW_REVIEWER or $USER); with "
                             "reviewer accounts, proven by a password or an API token")
    add_credential_arguments(obligations)
    obligations.add_argument("--note")
    obligations.add_argument("--json", action="store_true")
    obligations.set_defaults(handler=_obligations)

    alerts = sub.add_parser("alerts", help="notice deadlines, obligations due and spend flags, for a scheduler to run")
    alerts.add_argument("--within", default="30d")
    alerts.add_argument("--json", action="store_true")
    alerts.add_argument("--send", action="store_true", help="also send to CLAUSEFLOW_ALERT_WEBHOOK / CLAUSEFLOW_SMTP_HOST")
    alerts.set_defaults(handler=_alerts)

    calendar = sub.add_parser("calendar", help="notice deadlines as an iCalendar (.ics) feed")
    calendar.add_argument("--out", type=Path, help="write to this file (default: standard output)")
    calendar.set_defaults(handler=_calendar)

    spend_sub = _csv_import_command(sub, "spend", "ERP spend against the contracts", _spend_import,
                                    "PO / invoice lines: supplier, po_number, invoice_number, date, amount, currency, "
                                    "description (optional: kind, paid_date, unit_price, item)")
    spend_flags = spend_sub.add_parser("flags", help="match spend to contracts again and list the flags")
    spend_flags.add_argument("--json", action="store_true")
    spend_flags.set_defaults(handler=_spend_flags)
    _csv_import_command(sub, "suppliers", "the supplier master", _suppliers_import,
                        "CSV: id, name, aliases (';'-separated), tax_id, risk_tier")
    _csv_import_command(sub, "performance", "vendor service-level results against the contracts", _performance_import,
                        "CSV: counterparty (or contract_id), period (YYYY-MM), sla_target, sla_actual, incidents")

    demo = sub.add_parser("demo", help="fill a repository with sample and CUAD contracts, a synthetic ERP export and "
                          "supplier master (deterministic, offline)")
    demo.add_argument("--cuad", type=int, default=24, help="how many CUAD contracts to import (default 24)")
    demo.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    demo.set_defaults(handler=_demo)


_config_of = None


def open_repository(config, *, sync: bool = True):
    from portfolio.review_sync import open_repository as open_synced

    return open_synced(config, sync=sync)


def signed_paper(config):
    """What filing a signed PDF needs: the signing set-up's trust roots and the reviews to match against."""
    from graphs.execution import load_signing_setup
    from graphs.review_service import ReviewService
    from portfolio.importer import SignedPaper

    setup = load_signing_setup(config.data_dir)
    has_reviews = bool(config.database_url) or config.audit_path.exists()
    return SignedPaper(trust_roots=setup.roots() if setup else [], service=ReviewService(config) if has_reviews else None)


def parse_within(text: str, flag: str) -> int | None:
    match = re.fullmatch(r"\s*(\d{1,4})\s*([dwm]?)\s*", text or "")
    if not match:
        print(f"error: {flag} {text!r}: give a number of days, weeks or months, e.g. 90d, 12w, 6m", file=sys.stderr)
        return None
    return int(match.group(1)) * {"": 1, "d": 1, "w": 7, "m": 30}[match.group(2)]


def _import(args) -> int:
    from cli_output import console
    from portfolio.importer import import_folder

    config = _config_of(args)
    if not args.folder.is_dir() and not args.folder.is_file():
        print(f"error: {args.folder} is not a folder or a file", file=sys.stderr)
        return 2
    folder, only = (args.folder, None) if args.folder.is_dir() else (args.folder.parent, args.folder)
    repository = open_repository(config, sync=False)

    def on_result(row, done, total):
        if not args.json:
            mark = {"filed": "filed", "already filed": "skipped (already filed)", "duplicate": "skipped (duplicate)"}
            said = mark.get(row.outcome, 'failed: ' + row.detail) + (f" ({row.detail})" if row.outcome == "filed" and row.detail else "")
            console.print(f"[{done}/{total}] {row.file}: {said}", highlight=False)

    paper = signed_paper(config)
    # one file, with a review service already open: read here rather than in a worker started for it
    engine = paper.service.engine if only is not None and paper.service is not None else None
    rows = import_folder(folder, repository, data_dir=config.data_dir, our_names=config.our_names, today=config.today,
                         max_bytes=config.max_bytes, workers=max(1, args.workers), on_result=on_result,
                         signed=paper, only=only, engine=engine)
    from portfolio.clause_vectors import ClauseVectors

    embedded = ClauseVectors(config.data_dir / "portfolio_chroma").catch_up(repository)
    if not args.json:
        console.print(f"clauses of {embedded} contract(s) indexed for search by meaning", highlight=False)
    if args.json:
        print(json.dumps([r.model_dump() for r in rows], indent=2))
    failed = [r for r in rows if r.outcome == "failed"]
    for row in failed:
        print(f"{row.file}: {row.detail}", file=sys.stderr)
    return 2 if failed else 0


def _search(args) -> int:
    from cli_output import print_search
    from portfolio.clause_vectors import ClauseVectors
    from portfolio.search import find_contracts, parse_query

    config = _config_of(args)
    query = parse_query(args.text[:300], config.today)
    for field, value in (("contract_type", args.type), ("status", args.status), ("counterparty", args.counterparty),
                         ("governing_law", args.law), ("has_clause", args.has_clause)):
        if value:
            setattr(query, field, value)
    query.limit = max(1, min(args.limit, 500))
    vectors = ClauseVectors(config.data_dir / "portfolio_chroma")  # opened only if the search goes by meaning
    hits, by_meaning = find_contracts(open_repository(config), vectors, query, config.today, meaning=args.meaning)
    if args.json:
        print(json.dumps([h.model_dump(mode="json", exclude={"contract": {"clauses", "citations"}}) for h in hits], indent=2))
    else:
        print_search(hits, args.text, query, by_meaning=by_meaning)
    return 0


def _renewals(args) -> int:
    from cli_output import print_renewals

    days = parse_within(args.within, "--within")
    if days is None:
        return 2
    from portfolio.leverage import leverage_brief

    config = _config_of(args)
    repository = open_repository(config)
    records = repository.renewals(config.today, days)
    briefs = [leverage_brief(repository, r, config.today) for r in records]
    if args.json:
        print(json.dumps([r.model_dump(mode="json", exclude={"clauses", "citations"})
                          | {"days_left": (r.notice_deadline - config.today).days, "leverage": b.model_dump(mode="json")}
                          for r, b in zip(records, briefs)], indent=2))
    else:
        print_renewals(records, config.today, days, briefs)
    return 0


def _obligations(args) -> int:
    from datetime import timedelta

    from cli_output import print_obligations

    config = _config_of(args)
    repository = open_repository(config)
    for status, obligation_id in (("done", args.done), ("missed", args.missed)):
        if obligation_id:
            from cli_auth import CredentialRefused, identify

            if args.by is not None and not args.by.strip():
                print("error: say who marks it: --by NAME", file=sys.stderr)
                return 2
            try:
                who = identify(config.audit_store, args.by.strip() if args.by else None, args, doing="marking an obligation")
            except CredentialRefused as refused:
                print(f"error: {refused}", file=sys.stderr)
                return 2
            if who.reviewer is not None and not who.reviewer.sees_portfolio:
                print(f"error: {who.username} does not see the repository; nothing was recorded", file=sys.stderr)
                return 2
            try:
                marked = repository.mark_obligation(obligation_id, status, who.username, args.note, today=config.today)
            except KeyError:
                print(f"error: no obligation {obligation_id}; `app.py obligations --status all` lists them", file=sys.stderr)
                return 2
            print(f"{marked.obligation_id}: marked {status} by {marked.decided_by} at {marked.decided_at}")
            who.say_if_unproven()
            return 0
    due_before = None
    if args.due:
        days = parse_within(args.due, "--due")
        if days is None:
            return 2
        due_before = config.today + timedelta(days=days)
    found = repository.obligations(config.today, status=None if args.status == "all" else args.status,
                                   due_before=due_before, in_force_only=args.status == "open")
    if args.json:
        print(json.dumps([o.model_dump(mode="json") | {"contract": name} for o, name in found], indent=2))
    else:
        print_obligations(found, config.today)
    return 0


def _alerts(args) -> int:
    from portfolio.alerts import announce, collect_alerts, deliver, format_alerts

    days = parse_within(args.within, "--within")
    if days is None:
        return 2
    config = _config_of(args)
    repository = open_repository(config)
    alerts = collect_alerts(repository, config.today, days)
    announce(repository, alerts)  # webhook subscribers hear of each deadline and duty once
    print(json.dumps([a.model_dump(mode="json") for a in alerts], indent=2) if args.json
          else format_alerts(alerts) or "No alerts.")
    if args.send:
        results = deliver(alerts, config.today)
        for result in results:
            print(f"{result.target}: {'sent' if result.ok else 'failed'} {result.detail}", file=sys.stderr)
        if not results:  # asked to send and nothing was: a scheduler must hear of it
            print("error: nothing to send to: set CLAUSEFLOW_ALERT_WEBHOOK or CLAUSEFLOW_SMTP_HOST", file=sys.stderr)
            return 2
        return 0 if all(r.ok for r in results) else 1
    return 0


def _calendar(args) -> int:
    from portfolio.alerts import notice_calendar

    config = _config_of(args)
    feed = notice_calendar(open_repository(config), config.today)
    if args.out:
        args.out.write_bytes(feed.encode())
        print(f"wrote {args.out} ({feed.count('BEGIN:VEVENT')} notice deadlines)")
    else:
        sys.stdout.write(feed)
    return 0


def _import_csv(args, read, store, what: str) -> int:
    """Read a CSV (`read` gives rows and the rows it could not read), store the rows, match spend again and say
    what changed; a row that could not be read is reported by line number and makes the exit code 2."""
    from portfolio.spend import match_and_flag

    if not args.csv.is_file():
        print(f"error: {args.csv} is not a file", file=sys.stderr)
        return 2
    config = _config_of(args)
    rows, problems = read(args.csv)
    repository = open_repository(config)
    stored = store(repository, rows)
    total, matched, flags = match_and_flag(repository, config.today)
    print(f"{stored} new {what} of {len(rows)} read; {matched} of {total} spend lines matched to a contract; {len(flags)} flag(s)")
    for problem in problems:
        print(f"{args.csv.name} line {problem.line}: {problem.reason}", file=sys.stderr)
    return 2 if problems else 0


def _spend_import(args) -> int:
    from portfolio.spend import read_erp_csv, reporting_rates

    return _import_csv(args, read_erp_csv, lambda repository, lines: repository.add_spend(lines, reporting_rates()), "line(s)")


def _suppliers_import(args) -> int:
    from portfolio.spend import read_suppliers_csv

    def store(repository, suppliers) -> int:
        repository.upsert_suppliers(suppliers)
        return len(suppliers)

    return _import_csv(args, read_suppliers_csv, store, "or updated supplier(s)")


def _spend_flags(args) -> int:
    from cli_output import print_flags
    from portfolio.spend import match_and_flag

    config = _config_of(args)
    repository = open_repository(config)
    _, _, flags = match_and_flag(repository, config.today)
    if args.json:
        print(json.dumps([f.model_dump(mode="json") for f in flags], indent=2))
    else:
        print_flags(flags)
    return 0


def _performance_import(args) -> int:
    from portfolio.spend import read_performance_csv

    def store(repository, rows) -> int:
        return repository.add_performance(rows)

    return _import_csv(args, read_performance_csv, store, "service-level result(s)")


def _demo(args) -> int:
    from portfolio.demo import build_demo

    config = _config_of(args)
    summary = build_demo(config, cuad_contracts=max(0, args.cuad), workers=max(1, args.workers))
    print(summary)
    return 0

