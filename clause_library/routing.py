"""The routing policy (routing.yaml): which functions review a contract and the order of its sign-off, decided from
the intake request and the classifier's profile, each with the rules that decided it. Data, not code: editing the
YAML changes routing."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from clause_library.playbook import ReviewFunction

ROUTING_FILE = Path(__file__).parent / "routing.yaml"
RISKS = ["low", "medium", "high", "critical"]


class Condition(BaseModel, extra="forbid"):
    amount_at_least: float | None = None
    risk_at_least: Literal["low", "medium", "high", "critical"] | None = None
    contract_type: list[str] | None = None
    category: list[str] | None = None
    personal_data: bool | None = None
    security_relevant: bool | None = None
    our_side: list[str] | None = None


class ReviewRule(BaseModel, extra="forbid"):
    id: str
    when: Condition = Field(default_factory=Condition)
    functions: list[ReviewFunction]
    reason: str


class SignOffRule(BaseModel, extra="forbid"):
    id: str
    when: Condition = Field(default_factory=Condition)
    steps: list[ReviewFunction] = Field(min_length=1)
    reason: str


class RoutingPolicy(BaseModel, extra="forbid"):
    usd_rates: dict[str, float] = Field(default_factory=lambda: {"USD": 1.0})
    review: list[ReviewRule]
    sign_off: list[SignOffRule]


class RoutingFacts(BaseModel):
    """What routing looks at: the request's answers and the classifier's reading of the paper."""

    amount: float | None = None
    currency: str = "USD"
    risk: str | None = None
    contract_type: str | None = None
    category: str | None = None
    personal_data: bool = False
    security_relevant: bool = False
    our_side: str | None = None


class Routing(BaseModel):
    functions: list[ReviewFunction]
    sign_off: list[ReviewFunction] = Field(description="sign-off steps in order; one step is a single sign-off")
    reasons: list[str] = Field(description="'rule id: reason' for every rule that applied")


@lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> RoutingPolicy:
    return RoutingPolicy.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def load_policy(path: Path = ROUTING_FILE) -> RoutingPolicy:
    """The policy as the file is now (re-read when it changes)."""
    return _load(path, path.stat().st_mtime)


def currency_problem(currency: str | None, policy: RoutingPolicy | None = None) -> str | None:
    """Why an amount in `currency` cannot be weighed, or None: routing compares amounts at the policy's stated rates, and
    a currency without one would skip the amount rules silently (finance never asked)."""
    policy = policy or load_policy()
    code = (currency or "USD").upper()
    if code in policy.usd_rates:
        return None
    return (f"no exchange rate for {code} in the routing policy (usd_rates in clause_library/routing.yaml): add one, or "
            f"give the amount in {', '.join(sorted(policy.usd_rates))}")


def _holds(condition: Condition, facts: RoutingFacts, policy: RoutingPolicy) -> bool:
    if condition.amount_at_least is not None:
        rate = policy.usd_rates.get((facts.currency or "USD").upper())
        if facts.amount is None or rate is None or facts.amount * rate < condition.amount_at_least:
            return False
    if condition.risk_at_least is not None:
        if facts.risk not in RISKS or RISKS.index(facts.risk) < RISKS.index(condition.risk_at_least):
            return False
    for field in ("contract_type", "category", "our_side"):
        allowed = getattr(condition, field)
        if allowed is not None and getattr(facts, field) not in allowed:
            return False
    for field in ("personal_data", "security_relevant"):
        wanted = getattr(condition, field)
        if wanted is not None and getattr(facts, field) != wanted:
            return False
    return True


def route(facts: RoutingFacts, policy: RoutingPolicy | None = None) -> Routing:
    """Functions: the union of every applying review rule's, in the policy's order. Sign-off: every applying rule's
    steps together, each rule's order kept ("legal then finance" and "security then legal" give security, legal,
    finance); a policy whose applying rules order two steps both ways is refused."""
    policy = policy or load_policy()
    if facts.amount is not None and (problem := currency_problem(facts.currency, policy)):
        raise ValueError(problem)
    functions: list[str] = []
    reasons: list[str] = []
    for rule in policy.review:
        if _holds(rule.when, facts, policy):
            functions += [f for f in rule.functions if f not in functions]
            reasons.append(f"{rule.id}: {rule.reason}")
    chains = [rule for rule in policy.sign_off if _holds(rule.when, facts, policy)]
    if not chains:
        raise ValueError("the routing policy has no sign-off rule that applies; add one without `when`")
    reasons += [f"sign-off {rule.id}: {rule.reason}" for rule in chains]
    steps = _merged([rule.steps for rule in chains])
    for step in steps:  # whoever signs a step must have the contract in front of them
        if step not in functions:
            functions.append(step)
    return Routing(functions=functions, sign_off=steps, reasons=reasons)


def _merged(chains: list[list[str]]) -> list[str]:
    """One order that keeps every chain's order (a topological sort, ties broken by first appearance)."""
    steps = list(dict.fromkeys(step for chain in chains for step in chain))
    before = {step: set() for step in steps}
    for chain in chains:
        for earlier, later in zip(chain, chain[1:]):
            before[later].add(earlier)
    ordered: list[str] = []
    while len(ordered) < len(steps):
        ready = [s for s in steps if s not in ordered and before[s] <= set(ordered)]
        if not ready:
            raise ValueError(f"the routing policy orders sign-off steps both ways: {', '.join(s for s in steps if s not in ordered)}")
        ordered.append(ready[0])
    return ordered
