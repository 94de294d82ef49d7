"""The batch on a Ray cluster (`app.py batch INBOX --engine ray [--address HOST:PORT]`): the same plan, triage,
idempotence and resumability as the local pool, with the agents running in Ray actors on any number of nodes.

Each actor is one worker slot (one CPU): it opens its review service once, as a pool worker does, and reviews the
contracts the coordinator hands it one at a time, so a slow contract never holds others back. Nothing is sent back
but the triage row and the node; the review itself is in the shared database (CLAUSEFLOW_DATABASE_URL: checkpoints,
their blobs, the stored original), of which each node's data folder is a cache. The inbox is read by path, so every
node must see it at the same path.

Every batch ends (the coordinator never waits without a timeout):
- an actor that cannot open its review service (a wrong database, say) reports why, and the batch stops with that one
  line, as the pool does; actors that never get a CPU are given up after CLAUSEFLOW_RAY_START_TIMEOUT_S (180 s);
- a contract whose actor dies (killed, out of memory, its node lost) goes back to the queue once, a second death is a
  failed row; a replacement actor is started only where the cluster has a free CPU (a lost node takes its CPU with
  it), so the contract waits for a surviving actor instead of for one that can never be placed;
- with no actor left and no CPU to place one, the contracts left are failed rows saying so.
If the coordinator is killed, Ray ends its actors; a rerun skips the contracts already at their checkpoint (thread ids
come from the content hash, and a review of one content runs under one lock).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from pydantic import BaseModel, Field

from graphs.batch_review import (BatchCannotStart, BatchPlan, BatchSettings, index_library_once, open_worker,
                                 review_with)
from graphs.configuration import ReviewConfig
from graphs.triage import TriageRow

# what a driver passes on to the actors: where the records, the clause store and the model live, and offline switches
_FORWARDED_PREFIXES = ("CLAUSEFLOW_", "OPENAI_", "HF_", "TRANSFORMERS_")


def _forwarded_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(_FORWARDED_PREFIXES)}
    env["CLAUSEFLOW_ONNX_THREADS"] = "1"  # one actor per CPU
    return env


_POLL_S = 2.0  # how often the coordinator looks up from waiting: actors not starting, CPUs come free


def _start_timeout_s() -> float:
    return float(os.environ.get("CLAUSEFLOW_RAY_START_TIMEOUT_S", "180"))


class ReviewWorker:
    """A Ray actor: one review service for the batch, one contract at a time."""

    def __init__(self, config_json: str, settings_json: str) -> None:
        try:
            self._service, self._extras = open_worker(config_json, settings_json, onnx_threads=1)
            self._failure = None
        except Exception as exc:  # said once by the coordinator, instead of Ray's traceback on every call
            self._failure = " ".join(str(exc).split())[:300] or type(exc).__name__

    def ready(self) -> str | None:
        """None when this actor can review; otherwise why it cannot."""
        return self._failure

    def review(self, path: str, display_name: str) -> tuple[str, str]:
        """The triage row (JSON) and the node it ran on."""
        import ray

        row = review_with(self._service, self._extras, path, display_name)
        return row.model_dump_json(), ray.get_runtime_context().get_node_id()


def connect(address: str | None, workers: int) -> None:
    """Join the cluster at `address` (HOST:PORT of its head, or ray://HOST:PORT), or start Ray on this machine with
    `workers` CPUs. Quiet: Ray's own logging stays in its session folder."""
    import ray

    if ray.is_initialized():
        return
    if address:
        _check_reachable(address)
    options = dict(runtime_env={"env_vars": _forwarded_environment()}, logging_level="ERROR", log_to_driver=False,
                   include_dashboard=False)
    if address:
        ray.init(address=address, **options)
    else:
        ray.init(num_cpus=workers, object_store_memory=256 * 1024 * 1024, **options)


class RayBatchResult(BaseModel):
    rows: list[TriageRow]
    nodes: int = Field(description="how many of the cluster's nodes reviewed at least one contract")
    workers: int = Field(description="actors started, replacements included")
    retried: int = Field(0, description="contracts handed to another actor after theirs died")


class ClusterUnreachable(RuntimeError):
    """Nothing answers at the cluster address given."""


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Ray itself waits minutes for a head that is not there; one TCP connection says so in seconds."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
            pass
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise ClusterUnreachable(f"no Ray cluster answers at {address}: {reason}") from None


def run_batch_on_ray(settings: BatchSettings, config: ReviewConfig, *, address: str | None = None,
                     workers: int | None = None,
                     on_result: Callable[[TriageRow, int, int], None] = lambda row, done, total: None) -> RayBatchResult:
    """`workers`: how many actors (default: the cluster's CPUs)."""
    import ray

    plan = BatchPlan(settings, config, on_result)
    if not plan.copies:
        return RayBatchResult(rows=plan.rows, nodes=0, workers=0)
    index_library_once(config.data_dir)  # once, before any actor opens the clause store
    connect(address, workers or settings.workers)
    slots = workers or int(ray.cluster_resources().get("CPU", 1))
    coordinator = _Coordinator(plan, ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(ReviewWorker),
                               (config.model_dump_json(), settings.model_dump_json()))
    try:
        coordinator.run(max(1, min(slots, len(plan.copies))))
    finally:
        coordinator.kill_all()
    return RayBatchResult(rows=plan.rows, nodes=len(coordinator.nodes), workers=coordinator.started,
                          retried=sum(1 for deaths in coordinator.deaths.values() if deaths))


class _Coordinator:
    """Hands contracts to actors one at a time and keeps the batch moving whatever happens to them."""

    def __init__(self, plan: BatchPlan, worker_class, arguments: tuple[str, str]) -> None:
        self.plan, self.worker_class, self.arguments = plan, worker_class, arguments
        self.pending = list(plan.copies)
        self.deaths = {path: 0 for path in plan.copies}
        self.idle: list = []
        self.in_flight: dict = {}  # review reference -> (path, actor)
        self.starting: dict = {}  # ready reference -> (actor, when it was asked for)
        self.nodes: set[str] = set()
        self.started = 0
        self.any_ready = False

    def run(self, wanted: int) -> None:
        import ray

        for _ in range(wanted):
            self._start_actor()
        while self.pending or self.in_flight:
            while self.idle and self.pending:
                actor, path = self.idle.pop(), self.pending.pop(0)
                self.in_flight[actor.review.remote(str(path), self.plan.name(path))] = (path, actor)
            if not (self.in_flight or self.starting or self.idle):
                if self._free_cpus() >= 1:
                    self._start_actor()
                else:
                    self._give_up_on_pending("no Ray worker is left to review it and the cluster has no free CPU "
                                             "(its nodes were lost)")
                    return
            done, _ = ray.wait(list(self.in_flight) + list(self.starting), num_returns=1, timeout=_POLL_S)
            for reference in done:
                if reference in self.starting:
                    self._started(reference)
                else:
                    self._reviewed(reference)
            self._drop_actors_that_never_start()

    def _start_actor(self) -> None:
        actor = self.worker_class.remote(*self.arguments)
        self.starting[actor.ready.remote()] = (actor, time.monotonic())
        self.started += 1

    def _started(self, reference) -> None:
        import ray
        from ray.exceptions import RayActorError

        actor, _ = self.starting.pop(reference)
        try:
            failure = ray.get(reference)
        except RayActorError:  # died while starting (its node lost): the others go on
            self._kill(actor)
            return
        if failure:
            raise BatchCannotStart(f"the batch's workers cannot start: {failure}")
        self.any_ready = True
        self.idle.append(actor)

    def _reviewed(self, reference) -> None:
        import ray
        from ray.exceptions import RayActorError

        path, actor = self.in_flight.pop(reference)
        try:
            row_json, node = ray.get(reference)
        except RayActorError:  # the actor died under it: killed, out of memory, or its node lost
            self._kill(actor)
            self.deaths[path] += 1
            if self.deaths[path] > 1:
                self.plan.died_twice(path)
            else:
                self.pending.insert(0, path)
            if self.pending and self._free_cpus() - len(self.starting) >= 1:  # a replacement only where it fits
                self._start_actor()
            return
        self.plan.record(TriageRow.model_validate_json(row_json), path)
        self.nodes.add(node)
        self.idle.append(actor)

    def _drop_actors_that_never_start(self) -> None:
        timeout = _start_timeout_s()
        for reference, (actor, asked_at) in list(self.starting.items()):
            if time.monotonic() - asked_at > timeout:
                del self.starting[reference]
                self._kill(actor)
        if not (self.any_ready or self.starting or self.in_flight or self.idle):
            raise BatchCannotStart(f"no Ray worker started within {timeout:.0f} s: the cluster has "
                                   f"{self._free_cpus():.0f} free CPU(s)")

    def _give_up_on_pending(self, reason: str) -> None:
        for path in self.pending:
            self.plan.record(TriageRow.failure(self.plan.name(path), reason), path)
        self.pending = []

    @staticmethod
    def _free_cpus() -> float:
        import ray

        return ray.available_resources().get("CPU", 0.0)

    @staticmethod
    def _kill(actor) -> None:
        import ray

        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # already gone with its node
            pass

    def kill_all(self) -> None:
        for actor in self.idle + [a for _, a in self.in_flight.values()] + [a for a, _ in self.starting.values()]:
            self._kill(actor)
