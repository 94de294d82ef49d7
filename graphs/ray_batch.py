"""The batch on a Ray cluster (`app.py batch INBOX --engine ray [--address HOST:PORT]`): the same plan, triage,
idempotence and resumability as the local pool, with the agents running in Ray actors on any number of nodes.

Each actor is one worker slot (one CPU): it opens its review service once, as a pool worker does, and reviews the
contracts the coordinator hands it one at a time, so a slow contract never holds others back. Nothing is sent back
but the triage row and the node; the review itself is in the shared database (CLAUSEFLOW_DATABASE_URL: checkpoints,
their blobs, the stored original), of which each node's data folder is a cache. The inbox is read by path, so every
node must see it at the same path.

Faults: an actor that dies is restarted once and its contract retried once by Ray; a second death is reported as a
failed row, as the pool does. If the coordinator is killed, Ray ends its actors; a rerun skips the contracts already
at their checkpoint (thread ids come from the content hash, and a review of one content runs under one lock).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from pydantic import BaseModel, Field

from graphs.batch_review import BatchPlan, BatchSettings, index_library_once, open_worker, review_with
from graphs.configuration import ReviewConfig
from graphs.triage import TriageRow

# what a driver passes on to the actors: where the records, the clause store and the model live, and offline switches
_FORWARDED_PREFIXES = ("CLAUSEFLOW_", "OPENAI_", "HF_", "TRANSFORMERS_")


def _forwarded_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(_FORWARDED_PREFIXES)}
    env["CLAUSEFLOW_ONNX_THREADS"] = "1"  # one actor per CPU
    return env


class ReviewWorker:
    """A Ray actor: one review service for the batch, one contract at a time."""

    def __init__(self, config_json: str, settings_json: str) -> None:
        self._service, self._extras = open_worker(config_json, settings_json, onnx_threads=1)

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
    workers: int


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
    from ray.exceptions import RayActorError

    plan = BatchPlan(settings, config, on_result)
    if not plan.copies:
        return RayBatchResult(rows=plan.rows, nodes=0, workers=0)
    index_library_once(config.data_dir)  # once, before any actor opens the clause store
    connect(address, workers or settings.workers)
    slots = workers or int(ray.cluster_resources().get("CPU", 1))
    worker_class = ray.remote(num_cpus=1, max_restarts=1, max_task_retries=1)(ReviewWorker)
    arguments = (config.model_dump_json(), settings.model_dump_json())
    idle = [worker_class.remote(*arguments) for _ in range(max(1, min(slots, len(plan.copies))))]
    started = len(idle)
    pending, in_flight, nodes = list(plan.copies), {}, set()
    try:
        while pending or in_flight:
            while idle and pending:
                actor, path = idle.pop(), pending.pop(0)
                in_flight[actor.review.remote(str(path), plan.name(path))] = (path, actor)
            done, _ = ray.wait(list(in_flight), num_returns=1)
            for reference in done:
                path, actor = in_flight.pop(reference)
                try:
                    row_json, node = ray.get(reference)
                    plan.record(TriageRow.model_validate_json(row_json), path)
                    nodes.add(node)
                    idle.append(actor)
                except RayActorError:  # died again after Ray's one restart and retry
                    plan.died_twice(path)
                    ray.kill(actor, no_restart=True)
                    idle.append(worker_class.remote(*arguments))
    finally:
        for actor in idle + [actor for _, actor in in_flight.values()]:
            ray.kill(actor, no_restart=True)
    return RayBatchResult(rows=plan.rows, nodes=len(nodes), workers=started)
