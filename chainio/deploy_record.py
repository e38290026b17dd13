"""The deployment record, `deployments/<chainId>.json`: every step's address, transaction and
block, the deployer, the config (and its hash), the compiler and the git commit. A re-run with
the same config resumes from it (or does nothing); a different config is refused unless the
old record is archived explicitly (`--force-new`)."""

from __future__ import annotations

import datetime
import os
import subprocess
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from chainio.deploy import Adopt, Deploy, DeploymentConfig, Step, StepResult
from chainio.deploy_tx import PendingTx

ROOT = Path(__file__).resolve().parent.parent


class StepRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int
    step: str  # Step.describe(): a resumed run must plan the same step at the same index
    name: str | None = None
    contract: str | None = None
    address: str | None = None
    tx_hash: str | None = None
    block: int | None = None


class DeploymentRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chain_id: int
    network: str
    config_hash: str
    config: dict[str, Any]
    deployer: str
    git_commit: str
    git_dirty: bool
    compiler: dict[str, Any]
    started_at: str
    updated_at: str
    total_steps: int
    steps: list[StepRecord]
    complete: bool = False
    # The step whose transaction is signed and recorded but whose outcome is not (yet): a resume
    # reconciles it with the chain before anything else is sent (`chainio.deploy_tx.reconcile`).
    pending: PendingTx | None = None

    @property
    def addresses(self) -> dict[str, str]:
        return {s.name: s.address for s in self.steps if s.name is not None and s.address is not None}

    def deployment_config(self) -> DeploymentConfig:
        return DeploymentConfig.model_validate(self.config)

    def done(self) -> dict[int, StepResult]:
        return {s.index: StepResult(s.address, s.tx_hash, s.block) for s in self.steps}

    def add(self, index: int, step: Step, result: StepResult) -> None:
        named = isinstance(step, Deploy | Adopt)
        self.steps.append(
            StepRecord(
                index=index,
                step=step.describe(),
                name=step.name if named else None,
                contract=step.contract if named else None,
                address=result.address,
                tx_hash=result.tx_hash,
                block=result.block,
            )
        )
        self.pending = None
        self.updated_at = now()
        self.complete = len(self.steps) == self.total_steps


def record_path(directory: Path, chain_id: int) -> Path:
    return directory / f"{chain_id}.json"


def load(path: Path) -> DeploymentRecord | None:
    if not path.exists():
        return None
    return DeploymentRecord.model_validate_json(path.read_text(encoding="utf-8"))


def save(record: DeploymentRecord, path: Path) -> None:
    """Atomic: a crash leaves the previous record or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(record.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def archive(path: Path) -> Path:
    """Moves a superseded record aside (`<chainId>.<UTC time>.json`) and returns where."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.stem}.{stamp}.json")
    os.replace(path, target)
    return target


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def git_state() -> tuple[str, bool]:
    """HEAD and whether tracked files differ from it (untracked files do not count)."""

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("rev-parse", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return commit, dirty


def compiler_info(project: Any) -> dict[str, Any]:
    """The compiler name, version and settings from the project's manifest."""
    compilers = project.manifest.compilers or []
    for compiler in compilers:
        if compiler.name.lower() == "solidity":
            return {"name": compiler.name, "version": str(compiler.version), "settings": compiler.settings}
    return {"name": "unknown", "version": "unknown", "settings": {}}


def resume_check(record: DeploymentRecord, steps: list[Step]) -> str | None:
    """Why `steps` cannot resume `record` (its steps must be this plan's first steps), or None."""
    if len(steps) != record.total_steps:
        return f"the record has {record.total_steps} steps, this plan {len(steps)}"
    if record.pending is not None and record.pending.step != steps[record.pending.index].describe():
        return f"step {record.pending.index}'s pending transaction was for `{record.pending.step}`"
    for recorded in record.steps:
        planned = steps[recorded.index].describe()
        if recorded.step != planned:
            return f"step {recorded.index} was `{recorded.step}`, this plan has `{planned}`"
    return None


def new_record(config: DeploymentConfig, deployer: str, total_steps: int, project: Any) -> DeploymentRecord:
    commit, dirty = git_state()
    stamp = now()
    return DeploymentRecord(
        chain_id=config.chain_id,
        network=config.network,
        config_hash=config.digest(),
        config=config.model_dump(mode="json"),
        deployer=deployer,
        git_commit=commit,
        git_dirty=dirty,
        compiler=compiler_info(project),
        started_at=stamp,
        updated_at=stamp,
        total_steps=total_steps,
        steps=[],
    )
