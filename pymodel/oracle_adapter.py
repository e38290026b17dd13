"""Mirrors contracts/OracleAdapter.sol: one Chainlink feed per market, validated, scaled to WAD.

Feeds are model contracts too. The adapter finds them through `feeds`, a registry
`address -> feed model` shared with whoever deploys them (register a feed model there under
its chain address as soon as it is deployed); `address(0)` is never in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymodel import evm
from pymodel.core import ZERO_ADDRESS, Env, EventLog, ModelEvent
from pymodel.errors import Revert
from pymodel.mock_price_feed import AggregatorV3
from pymodel.ownable import Ownable

# ---------------------------------------------------------------------------------------------
# Errors (IOracleAdapter)
# ---------------------------------------------------------------------------------------------


@dataclass
class FeedNotSet(Revert):
    market_id: int


@dataclass
class InvalidAnswer(Revert):
    market_id: int
    answer: int


@dataclass
class MissingTimestamp(Revert):
    market_id: int


@dataclass
class FutureTimestamp(Revert):
    market_id: int
    updated_at: int
    block_timestamp: int


@dataclass
class StalePrice(Revert):
    market_id: int
    updated_at: int
    block_timestamp: int
    max_age: int


@dataclass
class SequencerDown(Revert):
    pass


@dataclass
class SequencerGracePeriod(Revert):
    restarted_at: int
    block_timestamp: int
    grace_period: int


@dataclass
class InvalidMaxAge(Revert):
    max_age: int


@dataclass
class UnsupportedFeedDecimals(Revert):
    decimals: int


@dataclass
class ZeroFeed(Revert):
    pass


# ---------------------------------------------------------------------------------------------
# Events (IOracleAdapter)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedSet(ModelEvent):
    market_id: int
    feed: str
    decimals: int
    max_age: int


@dataclass(frozen=True)
class SequencerFeedSet(ModelEvent):
    feed: str
    grace_period: int


# ---------------------------------------------------------------------------------------------
# OracleAdapter
# ---------------------------------------------------------------------------------------------

MAX_AGE_LIMIT = 7 * 24 * 60 * 60  # 7 days
MAX_FEED_DECIMALS = 36
WAD_DECIMALS = 18


@dataclass(frozen=True)
class FeedConfig:
    feed: str = ZERO_ADDRESS
    decimals: int = 0
    max_age: int = 0


class OracleAdapter(Ownable):
    """Mirrors contracts/OracleAdapter.sol."""

    MAX_AGE_LIMIT = MAX_AGE_LIMIT
    MAX_FEED_DECIMALS = MAX_FEED_DECIMALS

    def __init__(self, address: str, log: EventLog, feeds: dict[str, AggregatorV3], initial_owner: str) -> None:
        super().__init__(address, log)
        self._init_ownable(initial_owner)
        self.feeds = feeds
        self._feeds: dict[int, FeedConfig] = {}
        self.sequencer_feed = ZERO_ADDRESS
        self.sequencer_grace_period = 0

    # Configuration

    def set_feed(self, env: Env, market_id: int, feed: str, max_age: int) -> None:
        """Mirrors OracleAdapter.setFeed."""
        self._check_owner(env)
        if feed == ZERO_ADDRESS:
            raise ZeroFeed()
        if max_age == 0 or max_age > MAX_AGE_LIMIT:
            raise InvalidMaxAge(max_age)
        decimals = self._feed(feed).decimals
        if decimals > MAX_FEED_DECIMALS:
            raise UnsupportedFeedDecimals(decimals)

        self._feeds[market_id] = FeedConfig(feed, decimals, max_age)

        self.emit(FeedSet(market_id, feed, decimals, max_age))

    def set_sequencer_feed(self, env: Env, feed: str, grace_period: int) -> None:
        """Mirrors OracleAdapter.setSequencerFeed."""
        self._check_owner(env)
        self.sequencer_feed = feed
        self.sequencer_grace_period = grace_period

        self.emit(SequencerFeedSet(feed, grace_period))

    # Price

    def price(self, env: Env, market_id: int) -> int:
        """Mirrors OracleAdapter.price."""
        wad, _ = self._price_with_time(env, market_id)
        return wad

    def price_with_time(self, env: Env, market_id: int) -> tuple[int, int]:
        """Mirrors OracleAdapter.priceWithTime: (price, observedAt)."""
        return self._price_with_time(env, market_id)

    def _price_with_time(self, env: Env, market_id: int) -> tuple[int, int]:
        """`price` and the feed's `updatedAt` (the one observation that produced it)."""
        config = self._feeds.get(market_id, FeedConfig())
        if config.feed == ZERO_ADDRESS:
            raise FeedNotSet(market_id)

        self._check_sequencer(env)

        _, answer, _, updated_at, _ = self._feed(config.feed).latest_round_data()
        if answer <= 0:
            raise InvalidAnswer(market_id, answer)
        if updated_at == 0:
            raise MissingTimestamp(market_id)
        if updated_at > env.timestamp:
            raise FutureTimestamp(market_id, updated_at, env.timestamp)
        if env.timestamp - updated_at > config.max_age:
            raise StalePrice(market_id, updated_at, env.timestamp, config.max_age)

        wad = self._scale_to_wad_down(answer, config.decimals)
        # A tiny answer of a feed with more than 18 decimals can round to 0: never return a zero price.
        if wad == 0:
            raise InvalidAnswer(market_id, answer)
        return wad, updated_at

    def feed_of(self, market_id: int) -> tuple[str, int, int]:
        """Mirrors OracleAdapter.feedOf: (feed, decimals, maxAge)."""
        config = self._feeds.get(market_id, FeedConfig())
        return config.feed, config.decimals, config.max_age

    # Internal

    def _check_sequencer(self, env: Env) -> None:
        """Chainlink L2 uptime feed: answer 0 = up, 1 = down; `startedAt` is when the status last
        changed, and 0 only for a round that does not exist. Off when no sequencer feed is set."""
        sequencer = self.sequencer_feed
        if sequencer == ZERO_ADDRESS:
            return

        _, status, started_at, _, _ = self._feed(sequencer).latest_round_data()
        if status != 0 or started_at == 0:
            raise SequencerDown()
        # A restart dated after this block counts as still in its grace period (not an underflow panic).
        if started_at > env.timestamp or env.timestamp - started_at <= self.sequencer_grace_period:
            raise SequencerGracePeriod(started_at, env.timestamp, self.sequencer_grace_period)

    @staticmethod
    def _scale_to_wad_down(answer: int, decimals: int) -> int:
        """Up to 18 decimals the scaling is exact (checked: an absurd answer panics 0x11 rather
        than wrap). Above 18 it divides and rounds down, dropping digits finer than 1e-18 USD."""
        if decimals <= WAD_DECIMALS:
            return evm.mul(answer, 10 ** (WAD_DECIMALS - decimals))
        return evm.div(answer, 10 ** (decimals - WAD_DECIMALS))

    def _feed(self, address: str) -> AggregatorV3:
        """The model of the feed deployed at `address` (a harness error if it was never registered)."""
        try:
            return self.feeds[address]
        except KeyError:
            raise LookupError(f"no feed model registered at {address}; add it to `feeds` when deploying") from None
