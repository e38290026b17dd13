"""Checks a recorded deployment against the chain: every step's parameters and wiring read
back through the contracts' views, and every deployed runtime code equal to the compiled
artifact with the immutables masked. Each difference is one line naming what and where."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_utils import keccak

from chainio.contract import ChainRevert, LeanContract
from chainio.deploy import ZERO_ADDRESS, Adopt, Call, Deploy, Step, resolve

# (getter, its arguments, the expected value) triples for one step, given the step's resolved
# arguments. A new step kind gets its read-back here.
Expectations = list[tuple[str, tuple[Any, ...], Any]]

PROPOSER_ROLE, EXECUTOR_ROLE, CANCELLER_ROLE = (keccak(text=f"{r}_ROLE") for r in ("PROPOSER", "EXECUTOR", "CANCELLER"))
DEFAULT_ADMIN_ROLE = bytes(32)


def _timelock_readback(a: tuple[Any, ...]) -> Expectations:
    """The delay, each proposer (who also cancels) and executor, and no admin but itself: the
    deployer keeps no way around the delay (a given `admin` would be one)."""
    delay, proposers, executors, admin = a
    expectations: Expectations = [("getMinDelay", (), delay)]
    expectations += [("hasRole", (role, p), True) for p in proposers for role in (PROPOSER_ROLE, CANCELLER_ROLE)]
    expectations += [("hasRole", (EXECUTOR_ROLE, e), True) for e in executors]
    if admin == ZERO_ADDRESS:
        expectations += [("hasRole", (DEFAULT_ADMIN_ROLE, p), False) for p in proposers]
    return expectations


CONSTRUCTOR_READBACK: dict[str, Callable[[tuple[Any, ...]], Expectations]] = {
    "Timelock": _timelock_readback,
    "MockStablecoin": lambda a: [("name", (), a[0]), ("symbol", (), a[1]), ("decimals", (), a[2])],
    "MockPriceFeed": lambda a: [("decimals", (), a[0]), ("getRoundData", (1,), (1, a[1], None, None, 1))],
    "MockPythSource": lambda a: [("getValidTimePeriod", (), a[0])],
    "OracleAdapter": lambda a: [("owner", (), a[0])],
    "LPPool": lambda a: [
        ("asset", (), a[0]),
        ("owner", (), a[1]),
        ("redeemCooldown", (), a[2]),
        ("redeemWindow", (), a[3]),
    ],
    "InsuranceFund": lambda a: [("collateral", (), a[0]), ("owner", (), a[1])],
    "SafetyModule": lambda a: [
        ("collateral", (), a[0]),
        ("owner", (), a[1]),
        ("cooldownPeriod", (), a[2]),
        ("unstakeWindow", (), a[3]),
        ("maxSlashBps", (), a[4]),
        ("slashWindow", (), a[5]),
        ("exitDelay", (), a[6]),
    ],
    "PerpEngine": lambda a: [
        (name, (), value)
        for name, value in zip(
            ("collateral", "oracle", "pool", "insuranceFund", "safetyModule", "owner"), a, strict=True
        )
    ],
    "OrderRouter": lambda a: [
        (name, (), value) for name, value in zip(("collateral", "oracle", "engine", "owner"), a, strict=True)
    ],
}

# Contracts a deployed contract creates in its own constructor, found through its getters. Their
# addresses are the creator's immutables, which the code comparison masks, so their code is
# checked on its own: the engine's modules run in the engine's storage (DELEGATECALL).
CREATED: dict[str, tuple[tuple[str, str], ...]] = {
    "PerpEngine": (
        ("liquidationModule", "LiquidationModule"),
        ("adlModule", "AdlModule"),
        ("marketParamsValidator", "MarketParamsValidator"),
    ),
}
# The engine's immutables that each of its modules carries a copy of (and reads while it runs for
# the engine): they must equal the engine's.
_ENGINE_IMMUTABLES = (
    "collateral",
    "oracle",
    "pool",
    "insuranceFund",
    "safetyModule",
    "notionalScale",
    "marketParamsValidator",
)
SHARED_IMMUTABLES: dict[str, tuple[str, ...]] = {
    "LiquidationModule": _ENGINE_IMMUTABLES,
    "AdlModule": _ENGINE_IMMUTABLES,
}

CALL_READBACK: dict[str, Callable[[tuple[Any, ...]], Expectations]] = {
    "setFeed": lambda a: [("feedOf", (a[0],), (a[1], None, a[2]))],
    "setSequencerFeed": lambda a: [("sequencerFeed", (), a[0]), ("sequencerGracePeriod", (), a[1])],
    "setEngine": lambda a: [("engine", (), a[0])],
    "setFeeShares": lambda a: [("insuranceShareBps", (), a[0]), ("safetyModuleShareBps", (), a[1])],
    "setPoolLimits": lambda a: [("maxUtilisationBps", (), a[0]), ("reserveFactorBps", (), a[1])],
    "setAdlParams": lambda a: [("adlTriggerBps", (), a[0]), ("adlTargetBps", (), a[1])],
    "setGuardian": lambda a: [("guardian", (), a[0])],
    "listMarket": lambda a: [("marketParams", (a[0],), a[1])],
    # Source i: (kind, feed, priceId, decimals read from the feed, maxAge).
    "setOracle": lambda a: [
        ("sourcesOf", (a[0],), [(kind, feed, price_id, None, max_age) for kind, feed, price_id, max_age in a[1]]),
        ("oracleParamsOf", (a[0],), a[2]),
    ],
    # A Pyth source's first price: live data that later updates replace, nothing to read back.
    "updatePriceFeeds": lambda a: [],
    "setOrderRouter": lambda a: [("orderRouter", (), a[0])],
    "setExecutionParams": lambda a: [
        ("executionFee", (), a[0]),
        ("minExecutionDelay", (), a[1]),
        ("maxExecutionDelay", (), a[2]),
    ],
    "setAdlKeeper": lambda a: [("isAdlKeeper", (a[0],), a[1])],
    "transferOwnership": lambda a: [("owner", (), a[0])],
    "setPusher": lambda a: [("isPusher", (a[0],), a[1])],
}


def _matches(expected: Any, actual: Any) -> bool:
    """Equal, with None in `expected` matching anything and addresses compared case-blind."""
    if expected is None:
        return True
    if isinstance(expected, tuple | list) and isinstance(actual, tuple | list):
        return len(expected) == len(actual) and all(_matches(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, str) and isinstance(actual, str) and expected.startswith("0x"):
        return expected.lower() == actual.lower()
    return expected == actual


def immutable_mask(runtime: bytes) -> list[bool]:
    """True at each byte of a PUSH32 operand that is all zeros in the artifact: solc leaves
    immutables as zeros there (a literal zero would be PUSH0), and fills them at deployment."""
    mask = [False] * len(runtime)
    i = 0
    while i < len(runtime):
        op = runtime[i]
        if 0x60 <= op <= 0x7F:
            width = op - 0x5F
            if op == 0x7F and runtime[i + 1 : i + 33] == bytes(32):
                for j in range(i + 1, min(i + 33, len(runtime))):
                    mask[j] = True
            i += 1 + width
        else:
            i += 1
    return mask


def code_difference(artifact: bytes, deployed: bytes) -> str | None:
    """Where the deployed runtime code differs from the artifact (immutables masked)."""
    if len(artifact) != len(deployed):
        return f"runtime code is {len(deployed)} bytes, the artifact {len(artifact)}"
    mask = immutable_mask(artifact)
    for i, (a, d) in enumerate(zip(artifact, deployed, strict=True)):
        if a != d and not mask[i]:
            return f"runtime code differs from the artifact at byte {i} (outside the immutables)"
    return None


def verify(
    steps: list[Step],
    addresses: dict[str, str],
    contract_at: Callable[[str, str], LeanContract],
    code_at: Callable[[str], bytes],
    artifact_runtime: Callable[[str], bytes],
) -> list[str]:
    """Every difference between the plan and the chain, one line each (empty: all match)."""
    differences: list[str] = []
    contracts = {s.name: s.contract for s in steps if isinstance(s, Deploy | Adopt)}
    # A contract handed over later reads its final owner back there, not its constructor's.
    handed_over = {s.target for s in steps if isinstance(s, Call) and s.function == "transferOwnership"}

    def expect(name: str, what: str, expectations: Expectations) -> None:
        contract = contract_at(contracts[name], addresses[name])
        for getter, args, expected in expectations:
            try:
                actual = contract.call(getter, *args)
            except ChainRevert as revert:
                differences.append(f"{name}.{getter}{args} reverted with {revert} ({what})")
                continue
            if not _matches(expected, actual):
                differences.append(f"{name}.{getter}{args} = {actual!r}, expected {expected!r} ({what})")

    for step in steps:
        if isinstance(step, Adopt):
            if not code_at(addresses[step.name]):
                differences.append(f"{step.name}: no code at {addresses[step.name]}")
            continue
        if isinstance(step, Deploy):
            address = addresses[step.name]
            deployed = code_at(address)
            if not deployed:
                differences.append(f"{step.name} ({step.contract}): no code at {address}")
                continue
            found = code_difference(artifact_runtime(step.contract), deployed)
            if found:
                differences.append(f"{step.name} ({step.contract}) at {address}: {found}")
            readback = CONSTRUCTOR_READBACK.get(step.contract)
            if readback is None:
                differences.append(f"{step.name}: no read-back for {step.contract} constructor arguments")
            else:
                expectations = readback(resolve(step.args, addresses))
                if step.name in handed_over:
                    expectations = [e for e in expectations if e[0] != "owner"]
                expect(step.name, f"constructor of {step.contract}", expectations)
            if step.contract in CREATED:
                creator = contract_at(step.contract, address)
                differences += _created_differences(
                    step.name, CREATED[step.contract], creator, code_at, contract_at, artifact_runtime
                )
            continue
        assert isinstance(step, Call)
        readback = CALL_READBACK.get(step.function)
        if readback is None:
            differences.append(f"{step.target}.{step.function}: no read-back for this call")
        else:
            # The clock only dates a Pyth source's first update, which has nothing to read back.
            expect(step.target, f"{step.function}", readback(resolve(step.args, addresses, clock=lambda: 0)))
    return differences


def _created_differences(
    name: str,
    created_by_it: tuple[tuple[str, str], ...],
    creator: LeanContract,
    code_at: Callable[[str], bytes],
    contract_at: Callable[[str, str], LeanContract],
    artifact_runtime: Callable[[str], bytes],
) -> list[str]:
    """What differs in the contracts `creator` made in its constructor (`CREATED`): their code
    against the artifacts (immutables masked) and the immutables they share with it."""
    differences = []
    for getter, contract in created_by_it:
        label = f"{name}.{getter} ({contract})"
        address = creator.call(getter)
        deployed = code_at(address)
        if not deployed:
            differences.append(f"{label}: no code at {address}")
            continue
        found = code_difference(artifact_runtime(contract), deployed)
        if found:
            differences.append(f"{label} at {address}: {found}")
            continue
        created = contract_at(contract, address)
        for immutable in SHARED_IMMUTABLES.get(contract, ()):
            theirs, ours = created.call(immutable), creator.call(immutable)
            if theirs != ours:
                differences.append(f"{label}.{immutable} = {theirs!r}, {name}'s is {ours!r}")
    return differences


def step_reads_back(
    step: Step, addresses: dict[str, str], contract_at: Callable[[str, str], LeanContract], contracts: dict[str, str]
) -> bool:
    """Whether the chain already shows `step`'s effect through its read-back (a deployment's
    constructor arguments at `addresses[step.name]`, a call's wiring): how a resume tells a step
    that landed under another transaction from one that never did. A step without a read-back
    never counts as landed."""
    if isinstance(step, Deploy):
        readback = CONSTRUCTOR_READBACK.get(step.contract)
        name, contract = step.name, step.contract
    elif isinstance(step, Call):
        readback = CALL_READBACK.get(step.function)
        name, contract = step.target, contracts[step.target]
    else:
        return True
    if readback is None:
        return False
    expectations = readback(resolve(step.args, addresses, clock=lambda: 0))
    if not expectations:
        return False
    instance = contract_at(contract, addresses[name])
    try:
        return all(_matches(expected, instance.call(getter, *args)) for getter, args, expected in expectations)
    except ChainRevert:
        return False
