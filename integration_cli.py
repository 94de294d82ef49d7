"""Commands that connect Clauseflow to other systems: `execute` (the signed execution copy of an agreed review) and
`webhooks` (subscriptions, delivery, the delivery log, replay). The REST API itself is served by `app.py serve`."""

from __future__ import annotations

import re
import sys
import threading
import time

from cli_auth import add_credential_arguments

_config_of = None


def add_parsers(sub, config_of) -> None:
    global _config_of
    _config_of = config_of
    from graphs.outbox import EVENT_TYPES

    execute = sub.add_parser("execute", help="the execution PDF of a finalised review, signed in the routing order "
                             "(our signatories, then the other side's)")
    execute.add_argument("thread_id")
    execute.add_argument("--counterparty-signer", required=True, metavar='"NAME <EMAIL>"',
                         help="who signs for the other side")
    execute.add_argument("--reviewer", help="you (a reviewer with the sign-off role, where accounts exist)")
    add_credential_arguments(execute)
    execute.set_defaults(handler=_execute)

    hooks = sub.add_parser("webhooks", help="webhook subscriptions for other systems (CRM, ERP) and their deliveries")
    hooks_sub = hooks.add_subparsers(dest="webhooks_command", required=True)
    add = hooks_sub.add_parser("add", help="subscribe a URL; prints the signing secret once")
    add.add_argument("url")
    add.add_argument("--events", nargs="+", default=list(EVENT_TYPES), choices=EVENT_TYPES)
    add.set_defaults(handler=_add)
    hooks_sub.add_parser("list", help="subscriptions").set_defaults(handler=_list)
    remove = hooks_sub.add_parser("remove", help="stop a subscription (its delivery log stays)")
    remove.add_argument("subscription_id")
    remove.set_defaults(handler=_remove)
    deliver = hooks_sub.add_parser("deliver", help="post the deliveries that are due (`app.py serve` does this "
                                   "every few seconds by itself)")
    deliver.add_argument("--loop", type=float, metavar="SECONDS", help="keep delivering, every SECONDS")
    deliver.set_defaults(handler=_deliver)
    log = hooks_sub.add_parser("log", help="deliveries with their attempts and last response")
    log.add_argument("--status", choices=["pending", "delivered", "failed"])
    log.set_defaults(handler=_log)
    replay = hooks_sub.add_parser("replay", help="send a delivery again")
    replay.add_argument("delivery_id", type=int)
    replay.set_defaults(handler=_replay)


def webhooks_of(config):
    from graphs.webhooks import Webhooks
    from portfolio.review_sync import repository_store

    return Webhooks(config.audit_store, [config.audit_store, repository_store(config)])


def start_delivery_thread(config, every_s: float) -> threading.Thread:
    """The server's deliverer: posts due webhook deliveries every `every_s` seconds until the process ends; a failing
    round is retried on the next tick (what failed is in the delivery log)."""
    hooks = webhooks_of(config)

    def run():
        while True:
            try:
                hooks.deliver_due()
            except Exception as exc:  # a busy or unreachable database: try again next tick, say so once per tick
                print(f"webhooks: {' '.join(str(exc).split())[:200]}", file=sys.stderr)
            time.sleep(every_s)

    thread = threading.Thread(target=run, name="webhook-deliverer", daemon=True)
    thread.start()
    return thread


def _execute(args) -> int:
    from cli_auth import CredentialRefused, identify
    from graphs.execution import Counterparty, ExecutionRefused, execute, load_signing_setup, signing_setup_path
    from graphs.review_service import ReviewNotFound, ReviewService
    from portfolio.importer import SignedPaper, import_folder
    from portfolio.review_sync import open_repository

    config = _config_of(args)
    match = re.fullmatch(r"\s*(.+?)\s*<\s*([^<>\s]+)\s*>\s*", args.counterparty_signer)
    if not match:
        print('error: --counterparty-signer: give "Name <email>"', file=sys.stderr)
        return 2
    try:
        counterparty = Counterparty(name=match.group(1), email=match.group(2))
        setup = load_signing_setup(config.data_dir)
        if setup is None:
            print(f"error: no signing set-up at {signing_setup_path(config.data_dir)} (see docs/api.md, Signing)", file=sys.stderr)
            return 2
        service = ReviewService(config)
        who = identify(config.audit_store, args.reviewer, args, doing="signing the execution copy")
        if who.reviewer is not None and not who.reviewer.may_sign_off:
            print(f"error: {who.username} does not hold the sign-off role; nothing was signed", file=sys.stderr)
            return 2
        done = execute(service, args.thread_id, setup=setup, counterparty=counterparty, our_name=config.our_names[0],
                       actor=who.username)
    except (ExecutionRefused, CredentialRefused, ReviewNotFound, ValueError) as refused:
        print(f"error: {' '.join(str(refused).split())}", file=sys.stderr)
        return 2
    for step in done.signed:
        s = step.signatory
        print(f"signed {s.step + 1}: {s.name} for {s.on_behalf_of} ({s.role})")
    print(f"execution copy: {done.pdf}")
    if done.awaiting:
        names = ", ".join(f"{s.name}" + (f" <{s.email}>" if s.email else "") for s in done.awaiting)
        print(f"awaiting: {names}: send them the PDF; file what comes back with `app.py import FILE`")
        return 0
    repository = open_repository(config, service)
    [row] = import_folder(done.pdf.parent, repository, data_dir=config.data_dir, our_names=config.our_names,
                          today=config.today, max_bytes=config.max_bytes, workers=1, only=done.pdf, engine=service.engine,
                          signed=SignedPaper(trust_roots=setup.roots(), service=service)) or [None]
    print(f"filed: {row.detail or row.outcome}" if row and row.outcome == "filed" else f"not filed: {row.outcome} {row.detail}")
    who.say_if_unproven()
    return 0 if row and row.outcome in ("filed", "already filed") else 1


def _add(args) -> int:
    from graphs.webhooks import SubscriptionRefused

    try:
        subscription, secret = webhooks_of(_config_of(args)).subscribe(args.url, args.events, created_by=_operator())
    except SubscriptionRefused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    print(f"subscription {subscription.id} -> {subscription.url} for {', '.join(subscription.events)}")
    print(f"signing secret (shown once; check Clauseflow-Signature with it, docs/api.md): {secret}")
    return 0


def _list(args) -> int:
    for s in webhooks_of(_config_of(args)).subscriptions():
        print(f"{s.id} {'active' if s.active else 'removed'} {s.url} {', '.join(s.events)} (by {s.created_by}, "
              f"{s.created_at:%Y-%m-%d %H:%M} UTC)")
    return 0


def _remove(args) -> int:
    if not webhooks_of(_config_of(args)).unsubscribe(args.subscription_id):
        print(f"error: no active subscription {args.subscription_id}", file=sys.stderr)
        return 2
    print(f"subscription {args.subscription_id} removed; its deliveries stay in the log")
    return 0


def _deliver(args) -> int:
    hooks = webhooks_of(_config_of(args))
    while True:
        for d in hooks.deliver_due():
            print(f"{d.id} {d.event} -> {d.url}: {d.status} (attempt {d.attempts}, "
                  f"{d.last_status or (d.last_response or '')[:80]})")
        if not args.loop:
            return 0
        time.sleep(args.loop)


def _log(args) -> int:
    for d in webhooks_of(_config_of(args)).deliveries(status=args.status):
        print(f"{d.id} {d.event} {d.event_id} -> {d.url}: {d.status}, {d.attempts} attempt(s), last "
              f"{d.last_status if d.last_status is not None else '-'} {(d.last_response or '')[:80]!r}")
    return 0


def _replay(args) -> int:
    if not webhooks_of(_config_of(args)).replay(args.delivery_id):
        print(f"error: no delivery {args.delivery_id}", file=sys.stderr)
        return 2
    print(f"delivery {args.delivery_id} is due again")
    return 0


def _operator() -> str:
    import os

    return f"cli:{os.environ.get('USER') or 'unknown'}"
