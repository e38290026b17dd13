"""The schema of a fuzz campaign's record (`fuzz-campaign.json`, written by `ape run fuzz`).

One file says what was fuzzed, on which tree, for how long, what it reached and what went
wrong: the git commit, the Hypothesis profile, every seed, per-shard and total counts, the
coverage counters, wall and CPU time, and for a failure the shard, its seeds, the shrunk
sequence and the regression vector the shard wrote (its content, collected from the worker).
A sequence interrupted by the chain (Anvil died or stalled) is an infrastructure error, never a
passed sequence: the shard restarts on a fresh Anvil and runs that chunk again from its seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT = "perp-backstop/fuzz-campaign/1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Coverage(_Model):
    """Actions that reached each outcome (difftest/coverage.py)."""

    liquidations: int = 0
    bad_debt_settlements: int = 0
    slashes: int = 0
    adl_steps: int = 0
    haircuts: int = 0
    refused_fills: int = 0
    bound_refreshes: int = 0

    def add(self, other: Coverage) -> Coverage:
        return Coverage(**{k: getattr(self, k) + getattr(other, k) for k in type(self).model_fields})


class Fault(_Model):
    """Fault injection for the campaign's own tests: on the shard's first Anvil, once it has
    sent `after_transactions`, the next block write first kills the node (SIGKILL) or stops it
    (SIGSTOP): always inside a sequence."""

    kind: Literal["kill", "stop"]
    after_transactions: int = Field(ge=0)


class ShardSpec(_Model):
    """What one shard runs (sent to the worker as JSON)."""

    shard: int = Field(ge=0)
    seed: int = Field(ge=0)
    profile: str
    steps_per_sequence: int = Field(ge=1)
    max_sequences: int | None = Field(default=None, ge=1)
    max_transactions: int | None = Field(default=None, ge=1)
    deadline: float | None = Field(default=None, description="Unix time after which no chunk starts")
    chunk: int = Field(default=25, ge=1, description="sequences between budget checks (and per retry)")
    rpc_timeout: float = Field(default=60.0, gt=0)
    max_restarts: int = Field(default=3, ge=0)
    root: str = Field(description="the project checkout on the worker (its toolchain and build)")
    fault: Fault | None = None


class InfrastructureError(_Model):
    attempt: int = Field(description="the shard's Anvil, 0 for the first")
    chunk: int
    chunk_seed: int
    sequence: int = Field(description="the interrupted sequence, 1-based within the chunk (0: while deploying)")
    error: str = Field(description="what failed: the call, the node and the block")
    status: Literal["infrastructure error, retried", "infrastructure error, gave up"]


class RegressionVector(_Model):
    name: str
    path: str | None = Field(default=None, description="where the campaign wrote it")
    vector: dict[str, Any]


class Failure(_Model):
    shard: int
    seed: int = Field(description="the shard's seed")
    chunk: int
    chunk_seed: int = Field(description="the Hypothesis seed that reproduces the failure")
    kind: Literal["mismatch", "invariant", "error"]
    error: str
    shrunk_sequence: list[str]
    regression_vectors: list[RegressionVector] = Field(default_factory=list)


class ShardResult(_Model):
    shard: int
    seed: int
    status: Literal["passed", "failed", "gave up", "not started"]
    commit: str | None = None
    host: str | None = None
    sequences: int = 0
    transactions: int = 0
    chunks: int = 0
    fuzz_s: float = Field(default=0.0, description="wall seconds in sequences (deployments excluded)")
    wall_s: float = 0.0
    cpu_s: float = Field(default=0.0, description="the worker process's CPU seconds")
    anvil_cpu_s: float = Field(default=0.0, description="its Anvils' CPU seconds (Linux)")
    restarts: int = 0
    coverage: Coverage = Field(default_factory=Coverage)
    outcomes: dict[str, int] = Field(default_factory=dict)
    infrastructure_errors: list[InfrastructureError] = Field(default_factory=list)
    failure: Failure | None = None

    @property
    def tx_per_s(self) -> float:
        return self.transactions / self.fuzz_s if self.fuzz_s > 0 else 0.0


class Totals(_Model):
    sequences: int
    transactions: int
    tx_per_s: float = Field(description="transactions / campaign wall time")
    mismatches: int
    invariant_violations: int
    other_failures: int
    infrastructure_errors: int


class CampaignRecord(_Model):
    format: Literal["perp-backstop/fuzz-campaign/1"] = FORMAT
    started_at: str
    git_commit: str | None
    git_dirty: bool | None
    profile: str
    steps_per_sequence: int
    shards: int
    seed: int = Field(description="the campaign seed; shard i's seed is derived from it")
    seeds: list[int]
    scheduler: str
    budget_minutes: float | None
    budget_steps: int | None
    wall_s: float
    cpu_s: float = Field(description="workers' and Anvils' CPU seconds, all shards")
    totals: Totals
    coverage: Coverage
    passed: bool
    results: list[ShardResult]
    failures: list[Failure]

    def dump(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> CampaignRecord:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))
