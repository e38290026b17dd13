"""Errors and events of contracts/interfaces/IOracleAdapter.sol, one class per Solidity error and
event (same names, same fields), shared by `pymodel.oracle_adapter` and whoever matches reverts."""

from __future__ import annotations

from dataclasses import dataclass

from pymodel.core import ModelEvent
from pymodel.errors import Revert

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


@dataclass
class UnexpectedExponent(Revert):
    market_id: int
    expo: int


@dataclass
class SpreadTooWide(Revert):
    market_id: int
    median: int
    agreeing: int
    quorum: int


@dataclass
class PriceOutsideBand(Revert):
    market_id: int
    mark: int
    last_accepted: int


@dataclass
class UnsupportedExponent(Revert):
    expo: int


@dataclass
class InvalidSourceCount(Revert):
    count: int


@dataclass
class InvalidQuorum(Revert):
    quorum: int
    sources: int


@dataclass
class InvalidMaxSpread(Revert):
    max_spread_bps: int


@dataclass
class InvalidBand(Revert):
    band_bps: int


@dataclass
class InvalidBandWindow(Revert):
    band_window: int


@dataclass
class InvalidMaxPrice(Revert):
    max_price: int


@dataclass
class InvalidGracePeriod(Revert):
    grace_period: int


@dataclass
class ConfidenceTooWide(Revert):
    market_id: int
    conf: int
    price: int


@dataclass
class PullPriceBehindPush(Revert):
    market_id: int
    publish_time: int
    newest_push_at: int


@dataclass
class InvalidMaxConfidence(Revert):
    max_conf_bps: int


@dataclass
class InvalidPullLagTolerance(Revert):
    pull_lag_tolerance: int


@dataclass
class PriceAboveBound(Revert):
    market_id: int
    mark: int
    max_price: int


@dataclass
class SourceReverted(Revert):
    market_id: int
    feed: str


@dataclass
class MalformedAnswer(Revert):
    market_id: int
    feed: str
    size: int


@dataclass
class SourceReadOutOfGas(Revert):
    """Raised on chain only when the CALLER starved a source read; the model never runs short."""

    feed: str


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
class SourceSet(ModelEvent):
    market_id: int
    index: int
    kind: int
    feed: str
    price_id: bytes
    decimals: int
    max_age: int


@dataclass(frozen=True)
class OracleParamsSet(ModelEvent):
    market_id: int
    quorum: int
    max_spread_bps: int
    band_bps: int
    band_window: int
    max_price: int
    max_conf_bps: int
    pull_lag_tolerance: int


@dataclass(frozen=True)
class MarkAccepted(ModelEvent):
    market_id: int
    mark: int
    oldest_observed_at: int
    newest_observed_at: int


@dataclass(frozen=True)
class MarkPending(ModelEvent):
    market_id: int
    mark: int
    last_accepted: int
    newest_observed_at: int


@dataclass(frozen=True)
class SequencerFeedSet(ModelEvent):
    feed: str
    grace_period: int
