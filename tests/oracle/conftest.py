"""The oracle layer deployed twice, on Anvil and in the model, with one helper per kind of action.

`OracleWorld.transact` / `.view` run the same action on both sides and assert the same
outcome: the same return value and the same ordered events (emitter, name, values), or the
same revert (error name and arguments); after every transaction the twin's public state is
compared as well. They return that outcome, so a test states only what should happen.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from chainio import ChainRevert, DecodedEvent, LeanContract
from chainio.project import lean
from pymodel.core import Env, EventLog
from pymodel.errors import Revert
from pymodel.faulty_feed import FaultyFeed
from pymodel.mock_price_feed import ChainlinkMockV3Aggregator, MockPriceFeed
from pymodel.mock_pyth import MockPyth, encode_price_feed_update
from pymodel.oracle_adapter import OracleAdapter
from pymodel.system import snake_case

# ("ok", value) | ("ok", [(emitter, event, values), ...]) for a transaction | ("revert", error, args)
Outcome = tuple[Any, ...]

# Markets whose `feedOf` is compared after every adapter transaction: tests use only these.
MARKETS = (0, 1, 2, 3)


def chain_event(event: DecodedEvent) -> tuple[str, str, tuple[Any, ...]]:
    return event.emitter, event.name, event.values()


@dataclass
class Twin:
    """One contract on both sides, and the views that make up its public state."""

    chain: LeanContract
    model: Any
    state_views: Callable[[], list[tuple[str, tuple[Any, ...]]]] = field(default=lambda: [])

    @property
    def address(self) -> str:
        return self.chain.address


class OracleWorld:
    def __init__(self, project: Any, rpc: Any, registry: Any, deployer: Any) -> None:
        self.project = project
        self.rpc = rpc
        self.registry = registry
        self.deployer = deployer
        self.log = EventLog()
        self.feeds: dict[str, Any] = {}  # the model's feed registry: address -> feed model
        self._feeds_by_decimals: dict[int, Twin] = {}

    # ----------------------------------------------------------------------------------------
    # Block time
    # ----------------------------------------------------------------------------------------

    def block_timestamp(self, block: str | int = "latest") -> int:
        tag = block if isinstance(block, str) else hex(block)
        return int(self.rpc.request("eth_getBlockByNumber", [tag, False])["timestamp"], 16)

    def now(self) -> int:
        """The chain's time now: mines an empty block at the node's clock first, since the latest
        block may be minutes old when the node sat idle (only calls, or another test file)."""
        self.rpc.request("evm_mine", [])
        return self.block_timestamp()

    def mine_at(self, timestamp: int) -> None:
        """Mines an empty block at exactly `timestamp`: what the next `eth_call` sees."""
        latest = self.block_timestamp()
        assert timestamp >= latest, f"block time cannot go back from {latest} to {timestamp}"
        self.rpc.request("evm_mine", [timestamp])
        assert self.block_timestamp() == timestamp

    # ----------------------------------------------------------------------------------------
    # Deployment (ape deploys; the constructor's events are compared with the model's)
    # ----------------------------------------------------------------------------------------

    def deploy(self, contract: str, model_of: Callable[[str, Env], Any], *args: Any) -> Twin:
        container = getattr(self.project, contract)
        instance = container.deploy(*args, sender=self.deployer)
        receipt = self.rpc.request("eth_getTransactionReceipt", [instance.txn_hash])
        env = Env(self.deployer.address, self.block_timestamp(int(receipt["blockNumber"], 16)))
        model = model_of(instance.address, env)
        chain_events = [chain_event(self.registry.decode_log(log)) for log in receipt["logs"]]
        assert self._model_events() == chain_events
        return Twin(lean(self.rpc, self.registry, container, instance.address), model)

    def deploy_adapter(self) -> Twin:
        twin = self.deploy(
            "OracleAdapter",
            lambda address, env: OracleAdapter(address, self.log, self.feeds, env.sender),
            self.deployer.address,
        )
        twin.state_views = lambda: [
            ("owner", ()),
            ("sequencerFeed", ()),
            ("sequencerGracePeriod", ()),
            *(("feedOf", (market,)) for market in MARKETS),
            *(("sourcesOf", (market,)) for market in MARKETS),
            *(("oracleParamsOf", (market,)) for market in MARKETS),
            *(("markOf", (market,)) for market in MARKETS),
        ]
        return twin

    def deploy_mock_price_feed(self, decimals: int, answer: int) -> Twin:
        twin = self.deploy(
            "MockPriceFeed",
            lambda address, env: MockPriceFeed(address, self.log, env, decimals, answer),
            decimals,
            answer,
        )
        twin.state_views = lambda: [("decimals", ()), ("latestRoundId", ()), ("latestRoundData", ())]
        self.feeds[twin.address] = twin.model
        return twin

    def deploy_faulty_feed(self, decimals: int, answer: int) -> Twin:
        """contracts/mocks/FaultyFeed.sol: healthy until `setMode`, any answer via `setRoundData`."""
        twin = self.deploy(
            "FaultyFeed",
            lambda address, env: FaultyFeed(address, self.log, env, decimals, answer),
            decimals,
            answer,
        )
        twin.state_views = lambda: [("decimals", ()), ("mode", ()), ("latestRoundId", ())]
        self.feeds[twin.address] = twin.model
        return twin

    def deploy_chainlink_mock(self, decimals: int, answer: int) -> Twin:
        twin = self.deploy(
            "ChainlinkMockV3Aggregator",
            lambda address, env: ChainlinkMockV3Aggregator(address, self.log, env, decimals, answer),
            decimals,
            answer,
        )
        twin.state_views = lambda: [
            ("decimals", ()),
            ("latestRound", ()),
            ("latestAnswer", ()),
            ("latestTimestamp", ()),
            ("latestRoundData", ()),
        ]
        self.feeds[twin.address] = twin.model
        return twin

    def deploy_mock_pyth(self, price_id: bytes, decimals: int, answer: int, publish_time: int) -> Twin:
        """Pyth's MockPyth (no fee) holding `price_id` at `answer` with exponent `-decimals`."""
        twin = self.deploy(
            "MockPythSource",
            lambda address, env: MockPyth(address, self.log, 60, 0),
            60,
            0,
        )
        twin.state_views = lambda: [("getPriceUnsafe", (price_id,)), ("priceFeedExists", (price_id,))]
        self.feeds[twin.address] = twin.model
        self.push_pyth(twin, price_id, decimals, answer, publish_time)
        return twin

    def push_pyth(self, twin: Twin, price_id: bytes, decimals: int, answer: int, publish_time: int) -> Outcome:
        """`updatePriceFeeds([createPriceFeedUpdateData(id, answer, 0, -decimals, ..., publish_time, 0)])`."""
        update = encode_price_feed_update(price_id, answer, 0, -decimals, publish_time)
        return self.transact(twin, "updatePriceFeeds", [update])

    def feed_with_decimals(self, decimals: int) -> Twin:
        """One MockPriceFeed per decimals, deployed on first use (Hypothesis reuses them)."""
        if decimals not in self._feeds_by_decimals:
            self._feeds_by_decimals[decimals] = self.deploy_mock_price_feed(decimals, 10**decimals)
        return self._feeds_by_decimals[decimals]

    # ----------------------------------------------------------------------------------------
    # Actions on both sides
    # ----------------------------------------------------------------------------------------

    def transact(self, twin: Twin, fn: str, *args: Any, sender: str | None = None) -> Outcome:
        """Sends `fn(*args)` on chain and runs its mirror in the model at the same block time."""
        sender = sender or self.deployer.address
        try:
            # Dry run first: a reverted transaction would be mined, and `LeanContract.transact`
            # cannot trace it under `--prune-history`. Nothing here reverts on block time.
            twin.chain.call(fn, *args, sender=sender)
            receipt = twin.chain.transact(fn, *args, sender=sender)
            timestamp = self.block_timestamp(receipt.block_number)
            chain: Outcome = ("ok", [chain_event(event) for event in receipt.events])
        except ChainRevert as revert:
            timestamp = self.block_timestamp()
            chain = ("revert", *revert.signature())
        model = self._run_model(twin.model, fn, args, Env(sender, timestamp))
        if model[0] == "ok":
            model = ("ok", self._model_events())
        else:
            self.log.take()  # a revert emits nothing
        assert model == chain, f"{fn}{args}: model {model} != chain {chain}"
        self.assert_same_state(twin)
        return chain

    def view(self, twin: Twin, fn: str, *args: Any, at: int | None = None) -> Outcome:
        """`eth_call` of `fn(*args)` against the latest block (first mined at `at`, if given)."""
        if at is not None:
            self.mine_at(at)
        timestamp = self.block_timestamp()
        chain = self._run_chain_view(twin.chain, fn, args)
        model = self._run_model(twin.model, fn, args, Env(self.deployer.address, timestamp))
        assert model == chain, f"{fn}{args} at {timestamp}: model {model} != chain {chain}"
        return chain

    def assert_same_state(self, twin: Twin) -> None:
        views = twin.state_views()
        env = Env(self.deployer.address, self.block_timestamp())
        replies = twin.chain.call_many(list(views))
        for (fn, args), reply in zip(views, replies, strict=True):
            chain = ("revert", *reply.signature()) if isinstance(reply, ChainRevert) else ("ok", reply)
            assert self._run_model(twin.model, fn, args, env) == chain, f"state {fn}{args}"

    # ----------------------------------------------------------------------------------------
    # Internals
    # ----------------------------------------------------------------------------------------

    def _model_events(self) -> list[tuple[str, str, tuple[Any, ...]]]:
        return [(event.emitter, event.name, event.values) for event in self.log.take()]

    @staticmethod
    def _run_chain_view(contract: LeanContract, fn: str, args: tuple[Any, ...]) -> Outcome:
        try:
            return ("ok", contract.call(fn, *args))
        except ChainRevert as revert:
            return ("revert", *revert.signature())

    @staticmethod
    def _run_model(model: Any, fn: str, args: tuple[Any, ...], env: Env) -> Outcome:
        """The model's `snake_case(fn)`: a method (given `env` first if it takes one) or a public field."""
        member = getattr(model, snake_case(fn))
        try:
            if not callable(member):
                return ("ok", member)
            params = list(inspect.signature(member).parameters)
            return ("ok", member(env, *args) if params[:1] == ["env"] else member(*args))
        except Revert as revert:
            return ("revert", *revert.signature())


# ----------------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------------


@pytest.fixture
def oracle(project, rpc, registry, deployer) -> OracleWorld:
    return OracleWorld(project, rpc, registry, deployer)


@pytest.fixture
def adapter(oracle) -> Twin:
    return oracle.deploy_adapter()


@pytest.fixture
def stranger(accounts) -> str:
    """Any account but the owner."""
    return accounts[1].address
