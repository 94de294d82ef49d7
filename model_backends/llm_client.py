"""Any OpenAI-compatible chat-completions endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp server), as one
call: a prompt template and values in, a validated pydantic object out.

- Structured output: `response_format=json_schema` first; a server that rejects it (400) is asked again with
  `json_object`, and then with the schema in the prompt only. The mode that worked is remembered.
- Retries (tenacity, exponential backoff with jitter, bounded): 429, timeouts, connection errors, 5xx, and
  answers that are not valid JSON for the schema. After the last attempt: `LLMError`, one line, never a guess.
- Every call's prompt and completion tokens are booked per agent in `usage` (the server's count, or tiktoken's
  offline cl100k count when the server sends none).
"""

from __future__ import annotations

import copy
import json
import os
import threading
from pathlib import Path
from collections.abc import Callable
from typing import TypeVar

import openai
import yaml
from pydantic import BaseModel, Field, ValidationError
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from model_backends.prompt_templates import PromptTemplate
from model_backends.token_budget import count_tokens

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")
AGENTS = ("classifier", "clause_extraction", "compliance", "redlining", "renewal_leverage")


class LLMError(RuntimeError):
    """The model could not give a valid answer; the message says which agent and why."""


class InvalidModelOutput(ValueError):
    pass


class LLMSettings(BaseModel):
    api_key: str | None = None
    base_url: str | None = None
    default_model: str = "gpt-4o-mini"
    models: dict[str, str] = Field(default_factory=dict, description="per-agent model, e.g. a strong one for redlining")
    timeout_s: float = 60.0
    max_attempts: int = 4
    retry_initial_s: float = 1.0
    retry_max_s: float = 20.0
    max_parallel: int = 4
    context_tokens: int = 16_000
    max_output_tokens: int = 2_000
    price_per_million_tokens: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00)},
        description="model -> (input, output) USD per million tokens, for the cost estimate",
    )

    def model_for(self, agent: str) -> str:
        return self.models.get(agent, self.default_model)

    @classmethod
    def from_env(cls, config_file: str | Path | None = None) -> LLMSettings:
        """A YAML file (CLAUSEFLOW_LLM_CONFIG or the argument) first, then the environment on top of it."""
        values: dict = {}
        path = config_file or os.environ.get("CLAUSEFLOW_LLM_CONFIG")
        if path:
            values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        env = os.environ
        values["api_key"] = env.get("OPENAI_API_KEY", values.get("api_key"))
        values["base_url"] = env.get("OPENAI_BASE_URL", values.get("base_url"))
        if env.get("CLAUSEFLOW_LLM_MODEL"):
            values["default_model"] = env["CLAUSEFLOW_LLM_MODEL"]
        models = dict(values.get("models") or {})
        for agent in AGENTS:
            if env.get(f"CLAUSEFLOW_LLM_MODEL_{agent.upper()}"):
                models[agent] = env[f"CLAUSEFLOW_LLM_MODEL_{agent.upper()}"]
        values["models"] = models
        return cls.model_validate(values)


def llm_configured() -> bool:
    return bool(os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL") or os.environ.get("CLAUSEFLOW_LLM_CONFIG"))


class AgentUsage(BaseModel):
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    quotes_returned: int = 0
    quotes_dropped: int = 0
    answers: int = 0  # answers the hybrid agents asked for
    unusable: int = 0  # of those: no valid answer after retries, or nothing in it survived grounding


class UsageLedger:
    def __init__(self) -> None:
        self.by_agent: dict[str, AgentUsage] = {}
        self._lock = threading.Lock()

    def book(self, agent: str, **amounts: int) -> None:
        with self._lock:
            usage = self.by_agent.setdefault(agent, AgentUsage())
            for name, amount in amounts.items():
                setattr(usage, name, getattr(usage, name) + amount)

    def totals(self) -> AgentUsage:
        total = AgentUsage()
        for usage in self.by_agent.values():
            for name in AgentUsage.model_fields:
                setattr(total, name, getattr(total, name) + getattr(usage, name))
        return total

    def cost_usd(self, settings: LLMSettings) -> float | None:
        cost = 0.0
        for agent, usage in self.by_agent.items():
            price = settings.price_per_million_tokens.get(settings.model_for(agent))
            if price is None:
                return None
            cost += (usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]) / 1_000_000
        return round(cost, 6)

    def as_dict(self) -> dict[str, dict]:
        return {agent: usage.model_dump() for agent, usage in self.by_agent.items()}


_RETRYABLE = (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError, openai.InternalServerError, InvalidModelOutput)


class LLMClient:
    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self.usage = UsageLedger()
        self._client = openai.OpenAI(
            api_key=settings.api_key or "not-needed-for-local-servers", base_url=settings.base_url,
            timeout=settings.timeout_s, max_retries=0,  # tenacity owns retries, so they are counted and bounded
        )
        self._mode = "json_schema"
        self._semaphore = threading.BoundedSemaphore(settings.max_parallel)

    def with_ledger(self, ledger: UsageLedger) -> LLMClient:
        """The same connection and limits, booking into another ledger (one per contract and graph node)."""
        clone = copy.copy(self)
        clone.usage = ledger
        return clone

    def second_opinion(self, agent: str, ask: Callable[[], R]) -> tuple[R | None, str | None]:
        """For the hybrid agents: the model's answer, or None and the one-line reason it could not give one; either
        way counted as an answer asked for (and as unusable when it failed)."""
        try:
            answer = ask()
        except LLMError as error:
            self.usage.book(agent, answers=1, unusable=1)
            return None, str(error)
        self.usage.book(agent, answers=1)
        return answer, None

    def structured(self, agent: str, template: PromptTemplate, values: dict[str, str], schema: type[T]) -> T:
        messages = template.messages(values)
        retrying = Retrying(
            retry=retry_if_exception_type(_RETRYABLE),
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=wait_exponential_jitter(multiplier=self.settings.retry_initial_s, max=self.settings.retry_max_s),
            before_sleep=lambda state: self.usage.book(agent, retries=1),
            reraise=False,
        )
        try:
            return retrying(self._ask, agent, messages, schema)
        except RetryError as exhausted:
            cause = exhausted.last_attempt.exception()
            raise LLMError(f"{agent}: no valid answer from {self.settings.model_for(agent)} after "
                           f"{self.settings.max_attempts} attempts ({_describe(cause)})") from cause
        except openai.APIStatusError as error:
            raise LLMError(f"{agent}: the model server refused the request ({_describe(error)})") from error

    def _ask(self, agent: str, messages: list[dict], schema: type[T]) -> T:
        with self._semaphore:
            response = self._create(agent, messages, schema)
        content = response.choices[0].message.content or ""
        usage = response.usage
        prompt_tokens = usage.prompt_tokens if usage else sum(count_tokens(m["content"]) for m in messages)
        completion_tokens = usage.completion_tokens if usage else count_tokens(content)
        self.usage.book(agent, calls=1, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        try:
            return schema.model_validate_json(_json_part(content))
        except ValidationError as invalid:
            raise InvalidModelOutput(f"answer does not match {schema.__name__}: {invalid.errors()[0]['msg']}") from invalid

    def _create(self, agent: str, messages: list[dict], schema: type[BaseModel]):
        while True:
            try:
                return self._client.chat.completions.create(
                    model=self.settings.model_for(agent), messages=self._with_schema(messages, schema),
                    temperature=0, max_tokens=self.settings.max_output_tokens, **self._response_format(schema),
                )
            except openai.BadRequestError as error:
                fallback = {"json_schema": "json_object", "json_object": "prompt_only"}.get(self._mode)
                if fallback is None or "response_format" not in str(error) and "json" not in str(error).lower():
                    raise
                self._mode = fallback  # this server lacks the feature: use the next one down from now on

    def _response_format(self, schema: type[BaseModel]) -> dict:
        if self._mode == "json_schema":
            return {"response_format": {"type": "json_schema", "json_schema": {
                "name": schema.__name__, "schema": schema.model_json_schema(), "strict": False}}}
        if self._mode == "json_object":
            return {"response_format": {"type": "json_object"}}
        return {}

    def _with_schema(self, messages: list[dict], schema: type[BaseModel]) -> list[dict]:
        if self._mode == "json_schema":
            return messages
        instruction = ("Answer with one JSON object, nothing else, matching this JSON schema:\n"
                       + json.dumps(schema.model_json_schema()))
        return [{"role": "system", "content": messages[0]["content"] + "\n" + instruction}, *messages[1:]]


def _json_part(content: str) -> str:
    """The JSON object in an answer, without the ``` fences some local models add."""
    start, end = content.find("{"), content.rfind("}")
    if start < 0 or end < start:
        raise InvalidModelOutput("the answer holds no JSON object")
    return content[start : end + 1]


def _describe(error: BaseException | None) -> str:
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code}"
    if isinstance(error, openai.APITimeoutError):
        return "timed out"
    if isinstance(error, openai.APIConnectionError):
        return "could not connect"
    return " ".join(str(error).split())[:200] if error else "unknown error"
