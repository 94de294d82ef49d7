"""Who is at the keyboard. Where reviewer accounts exist, every CLI command that records something in a person's name
(decisions, sign-off, "which party are we?", obligation marks) needs that person's credential, and has the same rights
as the page: a password (prompted, or one line on stdin with --password-stdin) or a personal API token (one line on
stdin with --token-stdin, or $CLAUSEFLOW_API_TOKEN; issued by `app.py user token NAME`, stored hashed). The log
records how the person was authenticated. Without accounts the CLI records the name it is given, and says so.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from pydantic import BaseModel

from web_app.accounts import Accounts, Reviewer

TOKEN_VARIABLE = "CLAUSEFLOW_API_TOKEN"


class CredentialRefused(Exception):
    """No credential, a wrong one, or a right the person does not hold: nothing was recorded."""


class CliIdentity(BaseModel):
    username: str
    authenticated_by: str | None  # "cli password" / "cli api token"; None where no accounts exist
    reviewer: Reviewer | None = None  # their functions and roles (None where no accounts exist)

    def may_decide(self, function: str) -> bool:
        return self.reviewer is None or self.reviewer.may_decide(function)

    def say_if_unproven(self) -> None:
        """Once per command, after something was recorded: without accounts nobody proved who they are."""
        if self.authenticated_by is None:
            print(f"note: no reviewer accounts exist, so this was recorded as {self.username} without a credential "
                  "(`app.py user add` turns credentials on)", file=sys.stderr)


def add_credential_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--password-stdin", action="store_true", help="read your password from the first line of stdin")
    parser.add_argument("--token-stdin", action="store_true",
                        help=f"read your personal API token from the first line of stdin (or set ${TOKEN_VARIABLE})")


def identify(audit_store: Path | str, claimed: str | None, args: argparse.Namespace, *, doing: str) -> CliIdentity:
    """The person `claimed` names, proven; raises CredentialRefused. `claimed` None: the API token says who."""
    accounts = Accounts(audit_store)
    if not accounts.users():
        return CliIdentity(username=claimed or _default_name(), authenticated_by=None)
    token = _read_line(sys.stdin) if getattr(args, "token_stdin", False) else os.environ.get(TOKEN_VARIABLE, "").strip()
    if token:
        reviewer = accounts.reviewer_for_api_token(token)
        if reviewer is None:
            raise CredentialRefused("the API token is not valid (revoked, or not a Clauseflow token); nothing was recorded")
        if claimed and claimed != reviewer.username:
            raise CredentialRefused(f"the API token is {reviewer.username}'s; it cannot act as {claimed}; nothing was recorded")
        return CliIdentity(username=reviewer.username, authenticated_by="cli api token", reviewer=reviewer)
    name = claimed or _default_name()
    if getattr(args, "password_stdin", False):
        password = _read_line(sys.stdin)
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {name}: ")
    else:
        raise CredentialRefused(f"reviewer accounts exist, so {doing} needs {name}'s credential: --password-stdin, "
                                f"--token-stdin or ${TOKEN_VARIABLE}; nothing was recorded")
    checked = accounts.check_password(name, password, client=f"cli:{os.environ.get('USER') or 'unknown'}")
    if checked.locked:
        raise CredentialRefused(f"too many failed attempts for {name}; try again later; nothing was recorded")
    if checked.token is None:
        raise CredentialRefused(f"wrong reviewer name or password for {name}; nothing was recorded")
    return CliIdentity(username=name, authenticated_by="cli password", reviewer=accounts.user(name))


def _default_name() -> str:
    return os.environ.get("CLAUSEFLOW_REVIEWER") or os.environ.get("USER") or "reviewer"


def _read_line(stream) -> str:
    return stream.readline().rstrip("\r\n")
