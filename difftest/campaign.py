"""Fuzz campaigns: N shards of the stateful differential fuzzer (difftest/shard.py), each with
its own Anvil and Hypothesis seed, on local processes or on a Dask cluster, gathered into one
record (difftest/campaign_record.py). `ape run fuzz` (scripts/fuzz.py) and `make fuzz-deep` are
the command line over `run_campaign`.

Local shards run in a `ProcessPoolExecutor` (spawned processes, one shard each at a time) and
report progress through a multiprocessing queue. On Dask (`scheduler="tcp://host:8786"`, the
convention of `ape run simulate`, or a `distributed.Client`) each shard is one task and reports
through the worker's structured events (`log_event` / `subscribe_topic`); its workers run one
thread each (`dask worker --nthreads 1 ...`) from a checkout of the same commit, with the
toolchain installed and the contracts compiled (`make compile`): the record keeps each shard's
commit. A campaign's shards share a budget: `steps` (transactions, split evenly), a deadline
(`budget_minutes` from the start), or by default the profile's sequences.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from difftest.campaign_record import (
    CampaignRecord,
    Coverage,
    Failure,
    Fault,
    ShardResult,
    ShardSpec,
    Totals,
)

ROOT = Path(__file__).resolve().parent.parent
Progress = Callable[["CampaignProgress"], None]


@dataclass
class CampaignOptions:
    shards: int = 2
    profile: str = "deep"
    steps: int | None = None  # transactions, all shards together
    budget_minutes: float | None = None
    seed: int | None = None  # None: drawn (and recorded)
    scheduler: Any = None  # None: local processes; a "tcp://host:port" address or a distributed.Client
    workers: int | None = None  # local processes at once (default: the CPU count)
    rpc_timeout: float = 60.0
    chunk: int = 25
    max_restarts: int = 3
    root: Path = ROOT  # the checkout on the workers
    faults: dict[int, Fault] = field(default_factory=dict)  # shard -> an injected fault (tests)

    def __post_init__(self) -> None:
        if self.shards < 1:
            raise ValueError(f"shards: at least 1, got {self.shards}")
        if self.steps is not None and self.steps < self.shards:
            raise ValueError(f"steps: at least one transaction per shard ({self.shards}), got {self.steps}")
        if self.budget_minutes is not None and self.budget_minutes <= 0:
            raise ValueError(f"budget_minutes: must be > 0, got {self.budget_minutes}")


def shard_seeds(seed: int, shards: int) -> list[int]:
    draw = random.Random(seed)
    return [draw.getrandbits(48) for _ in range(shards)]


def plan(options: CampaignOptions, seed: int, started: float) -> list[ShardSpec]:
    """Every shard's spec: seed, steps per sequence (the profile's), its share of the budget."""
    from difftest.profiles import stateful_profile

    profile = stateful_profile(options.profile)
    sequences = None
    if options.steps is None and options.budget_minutes is None:
        sequences = max(1, -(-profile.examples // options.shards))
    steps = None if options.steps is None else -(-options.steps // options.shards)
    deadline = None if options.budget_minutes is None else started + options.budget_minutes * 60
    return [
        ShardSpec(
            shard=i,
            seed=s,
            profile=options.profile,
            steps_per_sequence=profile.steps,
            max_sequences=sequences,
            max_transactions=steps,
            deadline=deadline,
            chunk=options.chunk,
            rpc_timeout=options.rpc_timeout,
            max_restarts=options.max_restarts,
            root=str(options.root),
            fault=options.faults.get(i),
        )
        for i, s in enumerate(shard_seeds(seed, options.shards))
    ]


@dataclass
class CampaignProgress:
    """The latest report of every shard, as the progress line shows it."""

    shards: int
    started: float = field(default_factory=time.monotonic)
    latest: dict[int, dict[str, Any]] = field(default_factory=dict)
    finished: set[int] = field(default_factory=set)

    def update(self, message: dict[str, Any]) -> None:
        self.latest[int(message["shard"])] = message

    def totals(self) -> tuple[int, int, Coverage]:
        sequences = sum(m["sequences"] for m in self.latest.values())
        transactions = sum(m["transactions"] for m in self.latest.values())
        reached = Coverage()
        for m in self.latest.values():
            reached = reached.add(Coverage(**m["coverage"]))
        return sequences, transactions, reached

    def line(self) -> str:
        from difftest.fuzz_report import progress_line

        done = len(self.finished)
        running = sum(1 for s, m in self.latest.items() if s not in self.finished and m["state"] != "done")
        sequences, transactions, reached = self.totals()
        return progress_line(
            self.shards, running, done, sequences, transactions, time.monotonic() - self.started, reached
        )


# Where shards run


_QUEUE: Any = None  # the progress queue, in a local worker process


def _local_init(progress_queue: Any) -> None:
    global _QUEUE
    _QUEUE = progress_queue


def _local_shard(spec: dict[str, Any]) -> dict[str, Any]:
    from difftest.shard import run_shard

    return run_shard(spec, report=_QUEUE.put).model_dump(mode="json")


def _dask_shard(spec: dict[str, Any], topic: str) -> dict[str, Any]:
    from distributed import get_worker

    from difftest.shard import run_shard

    worker = get_worker()
    return run_shard(spec, report=lambda message: worker.log_event(topic, message)).model_dump(mode="json")


def _not_started(spec: ShardSpec, error: BaseException) -> ShardResult:
    failure = Failure(
        shard=spec.shard,
        seed=spec.seed,
        chunk=0,
        chunk_seed=0,
        kind="error",
        error=f"the shard's worker failed: {type(error).__name__}: {error}",
        shrunk_sequence=[],
    )
    return ShardResult(shard=spec.shard, seed=spec.seed, status="not started", failure=failure)


def _run_local(
    specs: list[ShardSpec], workers: int | None, progress: CampaignProgress, tick: Callable[[], None]
) -> list[ShardResult]:
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    results: dict[int, ShardResult] = {}
    size = min(len(specs), workers or os.cpu_count() or 1)
    pool = ProcessPoolExecutor(max_workers=size, mp_context=context, initializer=_local_init, initargs=(messages,))
    with pool:
        futures: dict[Future[dict[str, Any]], ShardSpec] = {
            pool.submit(_local_shard, spec.model_dump(mode="json")): spec for spec in specs
        }
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            _drain(messages, progress)
            for future in done:
                spec = futures[future]
                try:
                    results[spec.shard] = ShardResult.model_validate(future.result())
                except Exception as error:  # the worker process died
                    results[spec.shard] = _not_started(spec, error)
                progress.finished.add(spec.shard)
            tick()
        _drain(messages, progress)
    return [results[spec.shard] for spec in specs]


def _drain(messages: Any, progress: CampaignProgress) -> None:
    while True:
        try:
            progress.update(messages.get_nowait())
        except queue.Empty:
            return


def _run_dask(
    specs: list[ShardSpec], scheduler: Any, progress: CampaignProgress, tick: Callable[[], None]
) -> list[ShardResult]:
    from distributed import Client

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    topic = f"fuzz-progress-{uuid.uuid4().hex[:12]}"
    lock = threading.Lock()

    def on_event(event: Any) -> None:
        with lock:
            progress.update(event[1])

    client.subscribe_topic(topic, on_event)
    try:
        futures = [
            client.submit(_dask_shard, spec.model_dump(mode="json"), topic, key=f"{topic}-{spec.shard}", pure=False)
            for spec in specs
        ]
        while not all(future.done() for future in futures):
            time.sleep(1.0)
            with lock:
                progress.finished |= {spec.shard for spec, f in zip(specs, futures, strict=True) if f.done()}
                tick()
        results = []
        for spec, future in zip(specs, futures, strict=True):
            try:
                results.append(ShardResult.model_validate(future.result()))
            except Exception as error:
                results.append(_not_started(spec, error))
        return results
    finally:
        client.unsubscribe_topic(topic)
        if client is not scheduler:
            client.close()


# The campaign


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def run_campaign(
    options: CampaignOptions,
    on_progress: Progress | None = None,
    regressions_dir: Path | None = None,
) -> CampaignRecord:
    """Runs every shard to the end of the budget and returns the record. `on_progress` sees the
    campaign's progress about once a second; a failing shard's regression vectors are written
    to `regressions_dir` (their content is in the record either way)."""
    seed = options.seed if options.seed is not None else random.SystemRandom().getrandbits(32)
    started_at, started = datetime.now(UTC), time.time()
    specs = plan(options, seed, started)
    progress = CampaignProgress(options.shards)

    def tick() -> None:
        if on_progress is not None:
            on_progress(progress)

    if options.scheduler is None:
        results = _run_local(specs, options.workers, progress, tick)
        scheduler = f"local processes ({min(len(specs), options.workers or os.cpu_count() or 1)} at once)"
    else:
        results = _run_dask(specs, options.scheduler, progress, tick)
        given = options.scheduler
        scheduler = given if isinstance(given, str) else f"dask {given.scheduler.address}"
    wall = time.time() - started
    failures = [r.failure for r in results if r.failure is not None]
    for failure in failures:
        for vector in failure.regression_vectors:
            if regressions_dir is not None:
                regressions_dir.mkdir(parents=True, exist_ok=True)
                path = regressions_dir / vector.name
                path.write_text(_json(vector.vector), encoding="utf-8")
                vector.path = str(path)
    coverage = Coverage()
    for r in results:
        coverage = coverage.add(r.coverage)
    transactions = sum(r.transactions for r in results)
    commit = _git(options.root, "rev-parse", "HEAD")
    dirty = _git(options.root, "status", "--porcelain", "--untracked-files=no")
    return CampaignRecord(
        started_at=started_at.isoformat(timespec="seconds"),
        git_commit=commit.strip() if commit else None,
        git_dirty=None if dirty is None else bool(dirty.strip()),
        profile=options.profile,
        steps_per_sequence=specs[0].steps_per_sequence,
        shards=options.shards,
        seed=seed,
        seeds=[spec.seed for spec in specs],
        scheduler=scheduler,
        budget_minutes=options.budget_minutes,
        budget_steps=options.steps,
        wall_s=wall,
        cpu_s=sum(r.cpu_s + r.anvil_cpu_s for r in results),
        totals=Totals(
            sequences=sum(r.sequences for r in results),
            transactions=transactions,
            tx_per_s=transactions / wall if wall > 0 else 0.0,
            mismatches=sum(1 for f in failures if f.kind == "mismatch"),
            invariant_violations=sum(1 for f in failures if f.kind == "invariant"),
            other_failures=sum(1 for f in failures if f.kind == "error"),
            infrastructure_errors=sum(len(r.infrastructure_errors) for r in results),
        ),
        coverage=coverage,
        passed=all(r.status == "passed" for r in results),
        results=results,
        failures=failures,
    )


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2) + "\n"
