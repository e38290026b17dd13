"""Golden vectors (difftest/vectors.py): every committed vector in tests/vectors/ replays on a
fresh deployment with model = chain = recorded, at any genesis; differences are reported at the
right action and path; the file format is validated with pydantic and its schema cannot drift.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_utils import to_checksum_address
from pydantic import ValidationError

from difftest.ledger import Action, Ledger
from difftest.orders import trade
from difftest.vectors import (
    REPLAY_GENESIS,
    SCHEMA_PATH,
    ReplayResult,
    Symbols,
    Vector,
    genesis_time,
    replay,
    save_regression,
    vector_from_ledger,
    vector_json_schema_text,
)
from pymodel.config import default_config, default_market
from pymodel.core import EmittedEvent
from pymodel.erc20 import MockStablecoin
from pymodel.evm import UINT256_MAX
from pymodel.system import Outcome

VECTORS = Path(__file__).parent / "vectors"
FILES = sorted(VECTORS.rglob("*.json"))
USD = 10**6
WAD = 10**18
FEED = 10**8
DAY = 24 * 3600

# A vector as someone writes it by hand: no recorded outcomes, no final state, the config's
# top-level defaults left out, a delayed oracle round written relative to genesis.
HANDWRITTEN = {
    "format": "perp-backstop/vector/1",
    "description": "hand-written: an LP deposit, a short, a late round, a close",
    "config": {"markets": [default_market(1, "ETH-USD", 3_000, 6).model_dump()]},
    "actors": ["owner", "lp", "trader"],
    "actions": [
        {"at": "0", "sender": "lp", "contract": "token", "function": "mint", "args": ["@lp", "100000000000"]},
        {"at": "0", "sender": "lp", "contract": "token", "function": "approve", "args": ["#pool", "100000000000"]},
        {"at": "0", "sender": "lp", "contract": "pool", "function": "deposit", "args": ["100000000000", "@lp"]},
        {"at": "0", "sender": "trader", "contract": "token", "function": "mint", "args": ["@trader", "1000000000"]},
        {
            "at": "0",
            "sender": "trader",
            "contract": "token",
            "function": "approve",
            "args": ["#orderRouter", "1000000000"],
        },
        {
            "at": "0",
            "sender": "trader",
            "contract": "orderRouter",
            "function": "submitOrder",
            "args": ["1", "-1000000000000000000", "500000000", "2990000000000000000000"],
        },
        {
            "at": "2",
            "sender": "owner",
            "contract": "feed1",
            "function": "setRoundData",
            "args": ["300000000000", "t+2"],
        },
        {
            "at": "2",
            "sender": "owner",
            "contract": "orderRouter",
            "function": "executeOrder",
            "args": ["@trader", "1", [], []],
        },
        {
            "at": "120",
            "sender": "owner",
            "contract": "feed1",
            "function": "setRoundData",
            "args": ["295000000000", "t+60"],
        },
        {
            "at": "120",
            "sender": "trader",
            "contract": "orderRouter",
            "function": "submitOrder",
            "args": ["1", "1000000000000000000", "0", "0"],
        },
        {
            "at": "122",
            "sender": "owner",
            "contract": "feed1",
            "function": "setRoundData",
            "args": ["295000000000", "t+121"],
        },
        {
            "at": "122",
            "sender": "owner",
            "contract": "orderRouter",
            "function": "executeOrder",
            "args": ["@trader", "1", [], []],
        },
    ],
}


def _stringify_ints(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_stringify_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: _stringify_ints(v) for k, v in value.items()}
    return value


HANDWRITTEN = _stringify_ints(HANDWRITTEN)


@pytest.fixture
def run(project, accounts, rpc, registry) -> Callable[..., ReplayResult]:
    """`replay` on this process's Anvil, each call under an EVM snapshot reverted afterwards."""

    def run(vector: Vector, **options) -> ReplayResult:
        snapshot = rpc.request("evm_snapshot")
        try:
            return replay(vector, project, accounts, rpc, registry, **options)
        finally:
            rpc.request("evm_revert", [snapshot])

    return run


def load(name: str) -> Vector:
    return Vector.load(VECTORS / f"{name}.json")


# Committed vectors


def test_vectors__golden_set_is_committed():
    assert len(FILES) >= 4, f"expected the golden vectors in {VECTORS}"


IDS = [str(p.relative_to(VECTORS).with_suffix("")) for p in FILES]


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_vector__replays__exact_match(path, run):
    vector = Vector.load(path)

    result = run(vector)

    assert result.ok, result.summary(vector)
    assert result.actions_run == len(vector.actions)
    # A regression vector is saved before its bug is fixed; once it replays, record it.
    name = path.relative_to(VECTORS.parent.parent)
    assert vector.recorded, f"record the outcomes: `ape run replay {name} --record {name}`"
    assert vector.dumps() == path.read_text(encoding="utf-8"), f"{name} is not in canonical form"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_vector__another_genesis__same_recording(path, run, rpc):
    # Times are stored relative to genesis, so a later deployment replays identically.
    vector = Vector.load(path)
    result = run(vector, genesis=genesis_time(rpc) + 5 * DAY + 7)
    assert result.ok, result.summary(vector)


# Differences


def tampered(vector: Vector, index: int, change: Callable[[dict], None]) -> Vector:
    data = vector.to_json_data()
    change(data["actions"][index]["expect"] if index >= 0 else data)
    return Vector.model_validate(data)


def test_tampered_event_value__reported_at_action_and_path(run):
    vector = load("liquidation_bad_debt_waterfall")
    index = next(i for i, a in enumerate(vector.actions) if a.function == "liquidate" and not a.expect.reverted)
    events = [e.event for e in vector.actions[index].expect.events]
    position = events.index("BadDebtSettled")
    original = vector.actions[index].expect.events[position].args[5]  # fromPool

    def change(expect: dict) -> None:
        expect["events"][position]["args"][5] = str(int(original) + 1)

    result = run(tampered(vector, index, change))

    assert not result.ok
    difference = result.first_difference
    assert difference.action_index == index
    assert difference.path == f"expect.events[{position}].args[5]"
    assert (difference.expected, difference.actual) == (str(int(original) + 1), original)
    assert f"action {index} (engine.liquidate" in result.summary(vector)


def test_tampered_revert_time__reported_at_action_and_path(run):
    vector = load("oracle_stale_async_redeem")
    index = next(i for i, a in enumerate(vector.actions) if a.expect.error == "StalePrice")
    assert vector.actions[index].expect.args[2] == "t+4203"  # blockTimestamp, relative to genesis

    def change(expect: dict) -> None:
        expect["args"][2] = "t+4204"

    result = run(tampered(vector, index, change))

    assert result.first_difference.model_dump(exclude={"message"}) == {
        "action_index": index,
        "path": "expect.args[2]",
        "expected": "t+4204",
        "actual": "t+4203",
    }


def test_tampered_outcome_kind__whole_outcome_reported(run):
    vector = load("admin_market_params_pause")
    index = 0  # a stranger's setMarketParams reverts

    def change(expect: dict) -> None:
        expect.clear()
        expect.update({"return": None, "events": []})

    result = run(tampered(vector, index, change))

    difference = result.first_difference
    assert (difference.action_index, difference.path) == (0, "expect")
    assert difference.actual["error"] == "OwnableUnauthorizedAccount"


def test_tampered_final_state__reported_with_state_path(run):
    vector = load("lp_deposit_open_close")
    cash = vector.final_state["pool.cash"]

    def change(data: dict) -> None:
        data["final_state"]["pool.cash"] = str(int(cash) - 1)

    result = run(tampered(vector, -1, change))

    difference = result.first_difference
    assert (difference.action_index, difference.path) == (None, 'final_state["pool.cash"]')
    assert (difference.expected, difference.actual) == (str(int(cash) - 1), cash)
    assert result.actions_run == len(vector.actions)


def test_model_chain_disagreement__parity_difference_and_nothing_recorded(run, monkeypatch):
    vector = load("lp_deposit_open_close")

    def minted_one_too_many(self, env, to, amount):
        self._mint(to, amount + 1)

    monkeypatch.setattr(MockStablecoin, "mint", minted_one_too_many)
    result = run(vector, record=True)

    difference = result.first_difference
    assert (difference.action_index, difference.path) == (0, "parity.outcome.events[0].args[2]")
    assert (difference.expected, difference.actual) == ("1000000000001", "1000000000000")  # model, chain
    assert "model != chain at action 0" in result.summary(vector)
    assert result.recorded is None and result.actions_run == 1
    assert result.model.outcomes[0] != result.chain.outcomes[0]


# Hand-written vectors and recording


def test_handwritten_without_outcomes__replays_and_records(run):
    vector = Vector.model_validate_json(json.dumps(HANDWRITTEN))
    assert not vector.recorded

    result = run(vector, record=True)

    assert result.ok, result.summary(vector)
    recorded = result.recorded
    assert recorded.recorded and recorded.actions[2].expect.return_ == str(100_000 * USD * 10**6)
    round_events = recorded.actions[8].expect.events
    assert [e.args[2] for e in round_events if e.event == "AnswerUpdated"] == ["t+60"]
    assert [a.model_copy(update={"expect": None}) for a in recorded.actions] == list(vector.actions)
    # The recording replays exactly, and reads back from its own canonical text.
    assert Vector.model_validate_json(recorded.dumps()) == recorded
    assert run(recorded).ok


def test_vector_from_ledger__records_history_and_replays(run, project, accounts, rpc, registry):
    snapshot = rpc.request("evm_snapshot")
    try:
        actors = [a.address for a in accounts[:4]]
        ledger = Ledger.deploy(project, accounts[0], actors, default_config(), rpc, registry, genesis_time(rpc))
        owner, lp, trader, keeper = actors
        ledger.mint_and_approve(lp, 500_000 * USD)
        ledger.act(lp, "pool", "deposit", 500_000 * USD, lp)
        ledger.mint_and_approve(trader, 2_000 * USD)
        trade(ledger, trader, 2, WAD // 10, 1_000 * USD, 61_000 * WAD)
        ledger.advance(90)
        ledger.set_price(2, 51_000 * FEED, updated_at=ledger.now - 30)
        ledger.act(keeper, "engine", "liquidate", trader, 2)
        ledger.act(owner, "engine", "setGuardian", keeper)
        vector = vector_from_ledger(ledger, "from a ledger", ["owner", "lp", "trader", "keeper"])
    finally:
        rpc.request("evm_revert", [snapshot])

    assert vector.recorded and len(vector.actions) == len(ledger.history)
    assert vector.actions[-1].args == ["@keeper"] and vector.final_state["engine.guardian"] == "@keeper"
    set_price = next(a for a in vector.actions if a.function == "setRoundData" and a.args[0] == str(51_000 * FEED))
    assert (set_price.at, set_price.args) == (92, [str(51_000 * FEED), "t+62"])  # the order filled at t+2
    result = run(vector)
    assert result.ok, result.summary(vector)


def test_save_regression__content_hashed_file_with_failing_action(project, accounts, rpc, registry, tmp_path):
    snapshot = rpc.request("evm_snapshot")
    try:
        actors = [a.address for a in accounts[:3]]
        ledger = Ledger.deploy(project, accounts[0], actors, default_config(), rpc, registry, genesis_time(rpc))
        ledger.mint_and_approve(actors[1], 1_000 * USD)
        ledger.advance(5)
        failing = Action(actors[1], "pool", "deposit", (1_000 * USD, actors[1]), ledger.now)
        path = save_regression(ledger, tmp_path / "regressions", "found by a fuzzer", failing=failing)
        again = save_regression(ledger, tmp_path / "regressions", "found by a fuzzer", failing=failing)
    finally:
        rpc.request("evm_revert", [snapshot])

    assert path == again and re.fullmatch(r"regression-[0-9a-f]{12}\.json", path.name)
    vector = Vector.load(path)
    assert vector.description == "found by a fuzzer" and vector.final_state is None
    assert all(a.expect is not None for a in vector.actions[:-1])
    last = vector.actions[-1]
    assert (last.at, last.sender, last.function, last.args, last.expect) == (
        5,
        "actor1",
        "deposit",
        [str(1_000 * USD), "@actor1"],
        None,
    )
    assert vector.actions[1].args == ["#engine", str(UINT256_MAX)]  # mint_and_approve's first approval


def test_time_slots__block_times_relative_to_genesis__other_integers_plain():
    genesis, alice = 1_900_000_000, "0x" + "a1" * 20
    symbols = Symbols(genesis, {"alice": to_checksum_address(alice)}, {"engine": "0x" + "e0" * 20})
    events = [
        EmittedEvent("0x" + "e0" * 20, "CooldownStarted", (alice, genesis + 5, 9)),
        EmittedEvent("0x" + "e0" * 20, "UnstakeRequested", (alice, genesis + 5, 7, 8, genesis - 3, genesis + 9)),
    ]
    recorded = symbols.encode_outcome(Outcome(reverted=False, events=events), "cooldown")
    assert [e.args for e in recorded.events] == [
        ["@alice", "t+5", "9"],
        ["@alice", str(genesis + 5), "7", "8", "t-3", "t+9"],
    ]
    for error, expected in [
        (("NotInUnstakeWindow", (alice, genesis + 10, genesis + 20)), ["@alice", "t+10", "t+20"]),
        (("ClaimTooEarly", (alice, genesis)), ["@alice", "t+0"]),
        (("LiquidationCooldown", (alice, 1, genesis + 30)), ["@alice", "1", "t+30"]),
        (("SequencerGracePeriod", (genesis - 60, genesis, 3_600)), ["t-60", "t+0", "3600"]),
        (("FutureTimestamp", (1, genesis + 1, genesis)), ["1", "t+1", "t+0"]),
        (("MissingTimestamp", (1,)), ["1"]),
    ]:
        assert symbols.encode_outcome(Outcome(reverted=True, error=error), "f").args == expected
    state = symbols.encode_state(
        {
            f"safetyModule.cooldownStartOf/{alice}": genesis + 7,
            f"safetyModule.pendingOf/{alice}": (10, genesis + 8, genesis + 9),
            f"pool.redeemRequestOf/{alice}": (10, 0, 0),  # 0: no request, not a time
        }
    )
    assert state == {
        "pool.redeemRequestOf/@alice": ["10", "0", "0"],
        "safetyModule.cooldownStartOf/@alice": "t+7",
        "safetyModule.pendingOf/@alice": ["10", "t+8", "t+9"],
    }
    assert [symbols.decode(v) for v in ("t+7", "t-3", "-12", "@alice", "#engine")] == [
        genesis + 7,
        genesis - 3,
        -12,
        to_checksum_address(alice),
        "0x" + "e0" * 20,
    ]


# The file format


def vector_text(**changes) -> str:
    data = json.loads(json.dumps(HANDWRITTEN))
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        target = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is None:
            del target[int(key) if key.isdigit() else key]
        else:
            target[int(key) if key.isdigit() else key] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": "perp-backstop/vector/1", ', r"Invalid JSON"),
        (vector_text(config=None), r"config\n  Field required"),
        (vector_text(format="perp-backstop/vector/0"), r"format\n  Input should be 'perp-backstop/vector/1'"),
        (vector_text(**{"actions.0.args": ["@lp", 5]}), r"actions\.0\.args\n.*integers are written as decimal strings"),
        (vector_text(**{"actions.0.sender": "bob"}), r"actions\[0\]\.sender: 'bob' is not one of the actors"),
        (vector_text(**{"actions.0.function": "mintt"}), r"actions\[0\]\.function: token .* has no function 'mintt'"),
        (vector_text(**{"actions.0.contract": "feed9"}), r"actions\[0\]\.contract: 'feed9' is not one of"),
        (vector_text(**{"actions.0.args": ["@lp"]}), r"actions\[0\]\.args: token\.mint\(to, amount\) takes 2"),
        (vector_text(**{"actions.0.args": ["@bob", "1"]}), r"actions\[0\]\.args\[0\] \(to\): '@bob' names no actor"),
        (
            vector_text(**{"actions.2.args": ["1e18", "@lp"]}),
            r"actions\[2\]\.args\[0\] \(assets\): expected an integer",
        ),
        (vector_text(**{"actions.9.at": "119"}), r"actions\[9\]\.at: 119 is before the previous action's 120"),
        (vector_text(**{"config.markets.0.initial_margin_bps": "0"}), r"initialMarginBps=0"),
        (vector_text(**{"actions.0.expect": {"error": "X", "return": "1"}}), r"a revert \(X\) has neither"),
    ],
    ids=[
        "invalid_json",
        "missing_config",
        "unknown_format",
        "json_number",
        "unknown_sender",
        "unknown_function",
        "unknown_contract",
        "wrong_arity",
        "unknown_actor_symbol",
        "not_an_integer",
        "time_goes_back",
        "invalid_config",
        "revert_with_return",
    ],
)
def test_malformed_vector__pydantic_error_names_the_field(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ValidationError, match=message):
        Vector.load(path)


def test_schema__committed_file_is_generated_from_the_models():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == vector_json_schema_text(), (
        "docs/vector.schema.json is stale: regenerate it with `.venv/bin/python -m difftest.vectors`"
    )


def test_genesis__fixed_while_in_the_future_else_after_head(rpc):
    head = int(rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    assert genesis_time(rpc) == (REPLAY_GENESIS if REPLAY_GENESIS > head else head + 100)
