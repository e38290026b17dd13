"""One shard of a fuzz campaign (difftest/campaign.py), run in a worker process.

The shard starts its own Anvil (difftest/chain_process.py), deploys the fuzz world on it and
runs the stateful machine (difftest/machine.py) in chunks of sequences, chunk `c` from the
Hypothesis seed `chunk_seed(seed, c)`, checking its budget (sequences, transactions, a deadline)
between chunks. A chunk's counts are added only once it has finished: if the chain dies or
stalls (`ChainUnavailable`), the chunk's partial counts are dropped, the interrupted sequence is
recorded as an infrastructure error, and the chunk runs again from its seed on a fresh Anvil
(so nothing a broken chain touched is counted as passed). A failing example (model != chain, an
invariant) is shrunk by Hypothesis on the chain as usual; the shard then stops with the shrunk
sequence and the regression vector `LedgerMachine.act` wrote.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from difftest.campaign_record import Coverage, Failure, InfrastructureError, RegressionVector, ShardResult, ShardSpec
from difftest.chain_process import Anvil, ArtifactProject, ChainUnavailable, funded_accounts
from difftest.coverage import coverage
from difftest.ledger import Ledger, ParityError, genesis_time
from difftest.machine import FuzzWorld, LedgerMachine

Report = Callable[[dict[str, Any]], None]
REPORT_EVERY_S = 2.0


def chunk_seed(shard_seed: int, chunk: int) -> int:
    """The Hypothesis seed of a shard's chunk (deterministic: a retried chunk replays)."""
    return (shard_seed * 1_000_003 + chunk * 7_919) % 2**63


def git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


class CampaignWorld(FuzzWorld):
    """The fuzz world, telling the shard when each sequence starts."""

    on_sequence: Callable[[], None] | None = None

    def fresh_ledger(self) -> Ledger:
        if self.on_sequence is not None:
            self.on_sequence()
        return super().fresh_ledger()


class CampaignMachine(LedgerMachine):
    """The fuzz machine, keeping a regression vector also when the shrunk example's difference
    shows at its last block, compared in `teardown` (`LedgerMachine.act` keeps one for a
    difference raised by an action)."""

    def teardown(self) -> None:
        from hypothesis.control import current_build_context

        try:
            super().teardown()
        except ParityError as error:
            if current_build_context().is_final and error.action is not None:
                from difftest.vectors import save_regression

                description = "stateful fuzzing: first model/chain difference"
                save_regression(self.ledger, self.world.vectors_dir, description, failing=error.action)
            raise


class ShardRun:
    def __init__(self, spec: ShardSpec, report: Report | None) -> None:
        self.spec = spec
        self.report = report
        self.root = Path(spec.root)
        self.result = ShardResult(
            shard=spec.shard, seed=spec.seed, status="passed", commit=git_commit(self.root), host=socket.gethostname()
        )
        self.outcomes: Counter[str] = Counter()
        self.chunk = 0
        self.attempt = 0
        self.started = time.monotonic()
        self.cpu_started = time.process_time()
        self.last_report = 0.0
        self.vectors_dir = Path(tempfile.mkdtemp(prefix=f"fuzz-shard{spec.shard}-"))
        self.world: CampaignWorld | None = None
        self.chunk_start: tuple[int, int] = (0, 0)  # world.steps, world.examples when the chunk began

    # Budget

    def spent(self) -> bool:
        spec, r = self.spec, self.result
        return (
            (spec.deadline is not None and time.time() >= spec.deadline)
            or (spec.max_sequences is not None and r.sequences >= spec.max_sequences)
            or (spec.max_transactions is not None and r.transactions >= spec.max_transactions)
        )

    def chunk_size(self) -> int:
        spec, r = self.spec, self.result
        size = spec.chunk
        if spec.max_sequences is not None:
            size = min(size, spec.max_sequences - r.sequences)
        if spec.max_transactions is not None:
            # Rules send one to several transactions (about 1.5 a step): observed once a chunk ran.
            per_sequence = r.transactions / r.sequences if r.sequences else spec.steps_per_sequence * 3 // 2
            size = min(size, max(1, -(-int(spec.max_transactions - r.transactions) // max(1, int(per_sequence)))))
        return max(1, size)

    # Progress

    def send(self, state: str, force: bool = False) -> None:
        now = time.monotonic()
        if self.report is None or (not force and now - self.last_report < REPORT_EVERY_S):
            return
        self.last_report = now
        r, partial_tx, partial_seq = self.result, 0, 0
        if self.world is not None and state == "running":
            partial_tx = self.world.steps - self.chunk_start[0]
            partial_seq = max(0, self.world.examples - self.chunk_start[1] - 1)
        self.report(
            {
                "shard": r.shard,
                "state": state,
                "sequences": r.sequences + partial_seq,
                "transactions": r.transactions + partial_tx,
                "coverage": r.coverage.model_dump(),
                "restarts": r.restarts,
                "elapsed": now - self.started,
            }
        )

    # Running

    def run(self) -> ShardResult:
        try:
            while not self.spent() and self.result.status == "passed":
                self.run_on_fresh_anvil()
        except Exception as error:  # a bug outside the fuzzing itself (no Anvil, no build): say so
            self.result.status = "failed"
            self.result.failure = self.failure("error", error, [])
        r = self.result
        r.wall_s = time.monotonic() - self.started
        r.cpu_s = time.process_time() - self.cpu_started
        r.outcomes = dict(sorted(self.outcomes.items()))
        self.send("done" if r.status == "passed" else r.status, force=True)
        return r

    def run_on_fresh_anvil(self) -> None:
        anvil = Anvil(self.root, self.spec.rpc_timeout)
        try:
            project = ArtifactProject(self.root, anvil.rpc)
            world = CampaignWorld(
                project, funded_accounts(anvil.rpc), anvil.rpc, project.registry, genesis_time(anvil.rpc), ""
            )
            world.vectors_dir = str(self.vectors_dir)
            world.on_sequence = lambda: self.send("running")
            self.world = world
            if self.spec.fault is not None and self.attempt == 0:
                self.arm_fault(anvil, world)
            machine = type(f"LedgerMachineShard{self.spec.shard}", (CampaignMachine,), {"world": world})
            while not self.spent():
                self.run_chunk(world, machine)
                if self.result.status != "passed":
                    return
        except ChainUnavailable as error:
            self.infrastructure_error(error)
        finally:
            self.result.anvil_cpu_s += anvil.cpu_seconds() or 0.0
            anvil.stop()
            self.world = None

    def arm_fault(self, anvil: Anvil, world: CampaignWorld) -> None:
        fault = self.spec.fault
        assert fault is not None

        def before_write() -> None:
            if world.steps < fault.after_transactions or anvil.rpc.before_write is None:
                return
            anvil.rpc.before_write = None  # once
            if fault.kind == "kill":
                anvil.signal(signal.SIGKILL)
                anvil.process.wait()
            else:
                anvil.signal(signal.SIGSTOP)
                anvil.wait_stopped()  # stopped before the write, however loaded the machine

        anvil.rpc.before_write = before_write

    def run_chunk(self, world: CampaignWorld, machine: type[LedgerMachine]) -> None:
        from hypothesis import Phase, seed, settings
        from hypothesis.reporting import with_reporter
        from hypothesis.stateful import get_state_machine_test

        from difftest import profiles  # noqa: F401  (registers the profiles)

        size, seed_value = self.chunk_size(), chunk_seed(self.spec.seed, self.chunk)
        base = settings.get_profile(self.spec.profile)
        # No explain phase: it reruns the shrunk example under a tracer, slow on a chain, and the
        # shrunk steps and the regression vector say what failed.
        phases = [phase for phase in base.phases if phase != Phase.explain]
        per_sequence = self.spec.steps_per_sequence
        chosen = settings(base, max_examples=size, stateful_step_count=per_sequence, database=None, phases=phases)
        test = seed(seed_value)(get_state_machine_test(machine, settings=chosen))
        steps, examples, runs = world.steps, world.examples, len(world.rules_per_example)
        outcomes = Counter(world.outcomes)
        self.chunk_start = (steps, examples)
        lines: list[str] = []
        started = time.monotonic()
        try:  # a ChainUnavailable goes through: nothing of an interrupted chunk is counted
            with with_reporter(lines.append):
                test()
        except Exception as error:
            kind = "mismatch" if isinstance(_first(error), ParityError) else "invariant"
            if not isinstance(_first(error), AssertionError):
                kind = "error"
            self.result.status = "failed"
            self.result.failure = self.failure(kind, error, lines)
            return
        r = self.result
        r.fuzz_s += time.monotonic() - started
        r.transactions += world.steps - steps
        r.sequences += sum(1 for n in world.rules_per_example[runs:] if n >= 0)
        r.chunks += 1
        gained = Counter(world.outcomes)
        gained.subtract(outcomes)
        self.outcomes.update({k: v for k, v in gained.items() if v > 0})
        r.coverage = Coverage(**coverage(self.outcomes))
        self.chunk += 1
        self.send("running", force=True)

    def infrastructure_error(self, error: ChainUnavailable) -> None:
        world = self.world
        sequence = 0 if world is None else max(0, world.examples - self.chunk_start[1])
        self.attempt += 1
        self.result.restarts += 1
        gave_up = self.attempt > self.spec.max_restarts
        self.result.infrastructure_errors.append(
            InfrastructureError(
                attempt=self.attempt - 1,
                chunk=self.chunk,
                chunk_seed=chunk_seed(self.spec.seed, self.chunk),
                sequence=sequence,
                error=str(error),
                status="infrastructure error, gave up" if gave_up else "infrastructure error, retried",
            )
        )
        if gave_up:
            self.result.status = "gave up"
        self.send("restarting", force=True)

    def failure(self, kind: str, error: BaseException, lines: list[str]) -> Failure:
        notes = [str(n) for n in getattr(error, "__notes__", [])]
        shrunk = [line for text in [*lines, *notes] for line in str(text).splitlines() if line.strip()]
        vectors = [
            RegressionVector(name=path.name, vector=json.loads(path.read_text(encoding="utf-8")))
            for path in sorted(self.vectors_dir.glob("regression-*.json"))
        ]
        return Failure(
            shard=self.spec.shard,
            seed=self.spec.seed,
            chunk=self.chunk,
            chunk_seed=chunk_seed(self.spec.seed, self.chunk),
            kind=kind,  # type: ignore[arg-type]
            error=f"{type(_first(error)).__name__}: {_first(error)}"[:4_000],
            shrunk_sequence=shrunk,
            regression_vectors=vectors,
        )


def _first(error: BaseException) -> BaseException:
    """The first error of a Hypothesis ExceptionGroup (several distinct failures), else itself."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def run_shard(spec: ShardSpec | dict[str, Any], report: Report | None = None) -> ShardResult:
    """Runs one shard to the end of its budget (or its first failure) and returns its result."""
    if isinstance(spec, dict):
        spec = ShardSpec.model_validate(spec)
    return ShardRun(spec, report).run()
