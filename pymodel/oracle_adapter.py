"""Mirrors contracts/OracleAdapter.sol: a multi-source mark per market (lower median of the fresh
sources, quorum, spread around the median, price band), scaled to WAD.

Sources are model contracts too (Chainlink-style feeds and MockPyth). The adapter finds them
through `feeds`, a registry `address -> source model` shared with whoever deploys them (register
a model there under its chain address as soon as it is deployed); `address(0)` is never in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, NamedTuple

from pymodel import evm
from pymodel.core import ZERO_ADDRESS, Env, EventLog
from pymodel.errors import Revert
from pymodel.mock_price_feed import AggregatorV3
from pymodel.mock_pyth import MockPyth
from pymodel.oracle_errors import (  # noqa: F401 (re-exported: the errors and events of IOracleAdapter)
    ConfidenceTooWide,
    FeedNotSet,
    FeedSet,
    FutureTimestamp,
    InvalidAnswer,
    InvalidBand,
    InvalidBandWindow,
    InvalidGracePeriod,
    InvalidMaxAge,
    InvalidMaxConfidence,
    InvalidMaxPrice,
    InvalidMaxSpread,
    InvalidPullLagTolerance,
    InvalidQuorum,
    InvalidSourceCount,
    MalformedAnswer,
    MarkAccepted,
    MarkPending,
    MissingTimestamp,
    OracleParamsSet,
    PriceAboveBound,
    PriceOutsideBand,
    PullPriceBehindPush,
    SequencerDown,
    SequencerFeedSet,
    SequencerGracePeriod,
    SourceReadOutOfGas,
    SourceReverted,
    SourceSet,
    SpreadTooWide,
    StalePrice,
    UnexpectedExponent,
    UnsupportedExponent,
    UnsupportedFeedDecimals,
    ZeroFeed,
)
from pymodel.oracle_fills import MAX_ROUND_WALK, PinnedFills
from pymodel.ownable import Ownable

# ---------------------------------------------------------------------------------------------
# Types (IOracleAdapter)
# ---------------------------------------------------------------------------------------------

MAX_AGE_LIMIT = 7 * 24 * 60 * 60  # 7 days
MAX_FEED_DECIMALS = 36
MAX_SOURCES = 5
MAX_SPREAD_BPS = 5_000
MAX_BAND_BPS = 10_000
MAX_BAND_WINDOW = 24 * 60 * 60  # 1 day
MAX_PRICE_LIMIT = 10**36  # the LP pool's valuation multiplies open interest by the price
MAX_GRACE_PERIOD = 24 * 60 * 60  # 1 day
MAX_CONF_BPS = 1_000
MAX_PULL_LAG_TOLERANCE = 60 * 60  # 1 hour
SOURCE_READ_GAS = 100_000
WAD_DECIMALS = 18
BPS = 10_000
NO_PRICE_ID = bytes(32)


class SourceKind(IntEnum):
    CHAINLINK = 0
    PYTH = 1


class SourceHealth(IntEnum):
    """IOracleAdapter.SourceHealth: OK, or why a source is left out (each reading's reason code)."""

    OK = 0
    NON_POSITIVE = 1
    NO_TIMESTAMP = 2
    FUTURE = 3
    STALE = 4
    BAD_EXPONENT = 5
    SCALES_TO_ZERO = 6
    REVERTED = 7
    MALFORMED = 8
    ABSURD = 9
    WIDE_CONFIDENCE = 10
    BEHIND_PUSH = 11


class MarkStatus(IntEnum):
    LIVE = 0
    NOT_CONFIGURED = 1
    SEQUENCER_DOWN = 2
    BELOW_QUORUM = 3
    SPREAD_TOO_WIDE = 4
    OUTSIDE_BAND = 5
    ABOVE_BOUND = 6


class SourceSpec(NamedTuple):
    """IOracleAdapter.SourceSpec: what the owner configures (`price_id` for Pyth only)."""

    kind: int
    feed: str
    price_id: bytes
    max_age: int

    def as_tuple(self) -> tuple[Any, ...]:
        return tuple(self)


class Source(NamedTuple):
    """IOracleAdapter.Source: equal to the chain's decoded tuple."""

    kind: int
    feed: str
    price_id: bytes
    decimals: int
    max_age: int


class OracleParams(NamedTuple):
    """IOracleAdapter.OracleParams."""

    quorum: int = 0
    max_spread_bps: int = 0
    band_bps: int = 0
    band_window: int = 0
    max_price: int = 0  # WAD; 0 = MAX_PRICE_LIMIT
    max_conf_bps: int = 0  # a pull price's confidence at most this share of it; 0 = no limit
    pull_lag_tolerance: int = 0  # seconds a pull print may be older than the newest push observation

    def as_tuple(self) -> tuple[Any, ...]:
        return tuple(self)


class Mark(NamedTuple):
    """IOracleAdapter.Mark: the last accepted mark and the pending one."""

    price: int = 0
    accepted_at: int = 0
    pending_price: int = 0
    pending_observed_at: int = 0


# Why a source was left out (0: it was not): SourceHealth's codes, under the short names the readings use.
OK = SourceHealth.OK
NON_POSITIVE = SourceHealth.NON_POSITIVE
NO_TIMESTAMP = SourceHealth.NO_TIMESTAMP
FUTURE = SourceHealth.FUTURE
STALE = SourceHealth.STALE
BAD_EXPONENT = SourceHealth.BAD_EXPONENT
SCALES_TO_ZERO = SourceHealth.SCALES_TO_ZERO
REVERTED = SourceHealth.REVERTED
MALFORMED = SourceHealth.MALFORMED
ABSURD = SourceHealth.ABSURD
WIDE_CONFIDENCE = SourceHealth.WIDE_CONFIDENCE
BEHIND_PUSH = SourceHealth.BEHIND_PUSH
# Return words of `latestRoundData()` and of `getPriceUnsafe(bytes32)`.
CHAINLINK_WORDS = 5
PYTH_WORDS = 4
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
UINT256_MAX = 2**256 - 1


def _as_int256(word: int) -> int:
    """`int256(uint256 word)`: the explicit (unchecked) reinterpretation of a return word."""
    return word - 2**256 if word >= 2**255 else word


@dataclass
class Reading:
    """One source's reading: its WAD price and time, or why it was left out."""

    reason: int = OK
    kind: int = SourceKind.CHAINLINK
    newest_push_at: int = 0
    feed: str = ZERO_ADDRESS
    size: int = 0
    wad: int = 0
    observed_at: int = 0
    answer: int = 0
    conf: int = 0
    expo: int = 0
    max_age: int = 0


@dataclass
class Evaluation:
    """Steps 3-5 of `price`, without reverting."""

    fresh: int = 0
    agreeing: int = 0
    mark: int = 0
    oldest_at: int = 0
    newest_at: int = 0
    first_rejected: Reading = field(default_factory=Reading)


# ---------------------------------------------------------------------------------------------
# OracleAdapter
# ---------------------------------------------------------------------------------------------


class OracleAdapter(PinnedFills, Ownable):
    """Mirrors contracts/OracleAdapter.sol."""

    MAX_AGE_LIMIT = MAX_AGE_LIMIT
    MAX_FEED_DECIMALS = MAX_FEED_DECIMALS
    MAX_SOURCES = MAX_SOURCES
    MAX_SPREAD_BPS = MAX_SPREAD_BPS
    MAX_BAND_BPS = MAX_BAND_BPS
    MAX_BAND_WINDOW = MAX_BAND_WINDOW
    MAX_PRICE_LIMIT = MAX_PRICE_LIMIT
    MAX_GRACE_PERIOD = MAX_GRACE_PERIOD
    MAX_CONF_BPS = MAX_CONF_BPS
    MAX_PULL_LAG_TOLERANCE = MAX_PULL_LAG_TOLERANCE
    SOURCE_READ_GAS = SOURCE_READ_GAS
    MAX_ROUND_WALK = MAX_ROUND_WALK

    def __init__(self, address: str, log: EventLog, feeds: dict[str, Any], initial_owner: str) -> None:
        super().__init__(address, log)
        self._init_ownable(initial_owner)
        self.feeds = feeds
        self._sources: dict[int, list[Source]] = {}
        self._params: dict[int, OracleParams] = {}
        self._marks: dict[int, Mark] = {}
        self.sequencer_feed = ZERO_ADDRESS
        self.sequencer_grace_period = 0
        self._init_pinned_fills()

    # Configuration

    def set_feed(self, env: Env, market_id: int, feed: str, max_age: int) -> None:
        """Mirrors OracleAdapter.setFeed."""
        self._check_owner(env)
        if feed == ZERO_ADDRESS:
            raise ZeroFeed()
        if max_age == 0 or max_age > MAX_AGE_LIMIT:
            raise InvalidMaxAge(max_age)
        decimals = self._aggregator(feed).decimals
        if decimals > MAX_FEED_DECIMALS:
            raise UnsupportedFeedDecimals(decimals)

        self._sources[market_id] = [Source(SourceKind.CHAINLINK, feed, NO_PRICE_ID, decimals, max_age)]
        self._params[market_id] = self._params.get(market_id, OracleParams())._replace(quorum=1)

        self.emit(FeedSet(market_id, feed, decimals, max_age))

    def set_oracle(self, env: Env, market_id: int, sources: list[Any], params: Any) -> None:
        """Mirrors OracleAdapter.setOracle."""
        self._check_owner(env)
        sources = [SourceSpec(*spec) for spec in sources]
        params = OracleParams(*params)
        if len(sources) == 0 or len(sources) > MAX_SOURCES:
            raise InvalidSourceCount(len(sources))
        # The contract deletes and pushes as it goes; a revert discards both, so the model
        # builds the list first and stores it with the parameters.
        configured: list[Source] = []
        for i, spec in enumerate(sources):
            if spec.kind not in (SourceKind.CHAINLINK, SourceKind.PYTH):
                raise AssertionError("the ABI rejects a kind outside the enum before the function runs")
            if spec.feed == ZERO_ADDRESS:
                raise ZeroFeed()
            if spec.max_age == 0 or spec.max_age > MAX_AGE_LIMIT:
                raise InvalidMaxAge(spec.max_age)
            decimals = self._decimals_of(spec)
            configured.append(Source(spec.kind, spec.feed, bytes(spec.price_id), decimals, spec.max_age))

            self.emit(SourceSet(market_id, i, spec.kind, spec.feed, bytes(spec.price_id), decimals, spec.max_age))
        if params.quorum == 0 or params.quorum > len(sources):
            raise InvalidQuorum(params.quorum, len(sources))
        if params.max_spread_bps > MAX_SPREAD_BPS:
            raise InvalidMaxSpread(params.max_spread_bps)
        if params.band_bps > MAX_BAND_BPS:
            raise InvalidBand(params.band_bps)
        if params.band_window > MAX_BAND_WINDOW:
            raise InvalidBandWindow(params.band_window)
        if params.max_price > MAX_PRICE_LIMIT:
            raise InvalidMaxPrice(params.max_price)
        if params.max_conf_bps > MAX_CONF_BPS:
            raise InvalidMaxConfidence(params.max_conf_bps)
        if params.pull_lag_tolerance > MAX_PULL_LAG_TOLERANCE:
            raise InvalidPullLagTolerance(params.pull_lag_tolerance)
        self._sources[market_id] = configured
        self._params[market_id] = params

        self.emit(OracleParamsSet(market_id, *params))

    def set_sequencer_feed(self, env: Env, feed: str, grace_period: int) -> None:
        """Mirrors OracleAdapter.setSequencerFeed."""
        self._check_owner(env)
        if grace_period > MAX_GRACE_PERIOD:
            raise InvalidGracePeriod(grace_period)
        self.sequencer_feed = feed
        self.sequencer_grace_period = grace_period

        self.emit(SequencerFeedSet(feed, grace_period))

    # Mark (anyone)

    def update_mark(self, env: Env, market_id: int) -> bool:
        """Mirrors OracleAdapter.updateMark."""
        e = self._evaluate_or_revert(env, market_id)
        last = self._marks.get(market_id, Mark())
        if self._passes_band(env, market_id, e):
            self._marks[market_id] = Mark(e.mark, env.timestamp, 0, 0)

            self.emit(MarkAccepted(market_id, e.mark, e.oldest_at, e.newest_at))
            return True
        self._marks[market_id] = last._replace(pending_price=e.mark, pending_observed_at=e.newest_at)

        self.emit(MarkPending(market_id, e.mark, last.price, e.newest_at))
        return False

    # Price

    def price(self, env: Env, market_id: int) -> int:
        """Mirrors OracleAdapter.price."""
        mark, _ = self._price_with_time(env, market_id)
        return mark

    def price_with_time(self, env: Env, market_id: int) -> tuple[int, int]:
        """Mirrors OracleAdapter.priceWithTime: (mark, oldest observation time behind it)."""
        return self._price_with_time(env, market_id)

    def mark_status(self, env: Env, market_id: int) -> tuple[int, int, int, int]:
        """Mirrors OracleAdapter.markStatus: (status, fresh, agreeing, first fault)."""
        if len(self._sources.get(market_id, [])) == 0:
            return MarkStatus.NOT_CONFIGURED, 0, 0, SourceHealth.OK
        if not self._sequencer_up(env):
            return MarkStatus.SEQUENCER_DOWN, 0, 0, SourceHealth.OK
        e = self._evaluate(env, market_id)
        first_fault = SourceHealth(e.first_rejected.reason)
        quorum = self._params_of(market_id).quorum
        if e.fresh < quorum:
            return MarkStatus.BELOW_QUORUM, e.fresh, e.agreeing, first_fault
        if e.agreeing < quorum:
            return MarkStatus.SPREAD_TOO_WIDE, e.fresh, e.agreeing, first_fault
        if e.mark > self._max_price(market_id):
            return MarkStatus.ABOVE_BOUND, e.fresh, e.agreeing, first_fault
        if not self._passes_band(env, market_id, e):
            return MarkStatus.OUTSIDE_BAND, e.fresh, e.agreeing, first_fault
        return MarkStatus.LIVE, e.fresh, e.agreeing, first_fault

    def source_health_of(self, env: Env, market_id: int) -> tuple[int, ...]:
        """Mirrors OracleAdapter.sourceHealthOf: each source's health, in source order."""
        return tuple(SourceHealth(reading.reason) for reading in self._read_all(env, market_id))

    def feed_of(self, market_id: int) -> tuple[str, int, int]:
        """Mirrors OracleAdapter.feedOf: the first source's (feed, decimals, maxAge)."""
        sources = self._sources.get(market_id, [])
        if len(sources) == 0:
            return ZERO_ADDRESS, 0, 0
        return sources[0].feed, sources[0].decimals, sources[0].max_age

    def sources_of(self, market_id: int) -> tuple[tuple[Any, ...], ...]:
        return tuple(tuple(source) for source in self._sources.get(market_id, []))

    def oracle_params_of(self, market_id: int) -> tuple[int, ...]:
        return tuple(self._params_of(market_id))

    def mark_of(self, market_id: int) -> tuple[int, ...]:
        return tuple(self._marks.get(market_id, Mark()))

    # Internal

    def _params_of(self, market_id: int) -> OracleParams:
        return self._params.get(market_id, OracleParams())

    def _price_with_time(self, env: Env, market_id: int) -> tuple[int, int]:
        # During a pinned fill the engine trades at the order's pinned mark.
        if self._pinned_market == market_id + 1:
            return self._pinned_price, self._pinned_observed_at
        e = self._evaluate_or_revert(env, market_id)
        if not self._passes_band(env, market_id, e):
            raise PriceOutsideBand(market_id, e.mark, self._marks.get(market_id, Mark()).price)
        return e.mark, e.oldest_at

    def _evaluate_or_revert(self, env: Env, market_id: int) -> Evaluation:
        """Steps 1-5b of `price`: reverts when the market has no sources, the sequencer is down,
        fewer than `quorum` sources are fresh (with the first left-out source's error) or agree,
        or the mark is above the market's sanity bound."""
        if len(self._sources.get(market_id, [])) == 0:
            raise FeedNotSet(market_id)

        self._check_sequencer(env)

        e = self._evaluate(env, market_id)
        quorum = self._params_of(market_id).quorum
        if e.fresh < quorum:
            self._revert_rejected(env, market_id, e.first_rejected)
        if e.agreeing < quorum:
            raise SpreadTooWide(market_id, e.mark, e.agreeing, quorum)
        max_price = self._max_price(market_id)
        if e.mark > max_price:
            raise PriceAboveBound(market_id, e.mark, max_price)
        return e

    def _max_price(self, market_id: int) -> int:
        """The market's sanity bound: `max_price`, or MAX_PRICE_LIMIT where it is 0."""
        max_price = self._params_of(market_id).max_price
        return MAX_PRICE_LIMIT if max_price == 0 else max_price

    def _evaluate(self, env: Env, market_id: int) -> Evaluation:
        """Reads every source, takes the lower median of the fresh ones and counts the sources
        within `maxSpreadBps` of it, with the oldest and newest of their observation times."""
        e = Evaluation()
        wads: list[int] = []
        times: list[int] = []
        for reading in self._read_all(env, market_id):
            if reading.reason != OK:
                if e.first_rejected.reason == OK:
                    e.first_rejected = reading
                continue
            wads.append(reading.wad)
            times.append(reading.observed_at)
            e.fresh += 1
        if e.fresh == 0:
            return e

        e.mark = self._lower_median(wads)
        max_spread_bps = self._params_of(market_id).max_spread_bps
        for i in range(e.fresh):
            distance = wads[i] - e.mark if wads[i] > e.mark else e.mark - wads[i]
            if evm.mul(distance, BPS) > evm.mul(e.mark, max_spread_bps):
                continue
            if e.agreeing == 0 or times[i] < e.oldest_at:
                e.oldest_at = times[i]
            if times[i] > e.newest_at:
                e.newest_at = times[i]
            e.agreeing += 1
        return e

    def _read_all(self, env: Env, market_id: int) -> list[Reading]:
        """Step 3 for every source, then the pull rule: a fresh pull (Pyth) reading published more
        than `pullLagTolerance` seconds before the newest fresh push (Chainlink) observation is
        left out (`BEHIND_PUSH`), so whoever pushes a pull update can only choose among prints no
        older than what the push feeds already show."""
        readings = [self._read(env, market_id, source) for source in self._sources.get(market_id, [])]
        newest_push_at = 0
        for r in readings:
            if r.reason != OK or r.kind != SourceKind.CHAINLINK:
                continue
            if r.observed_at > newest_push_at:
                newest_push_at = r.observed_at
        tolerance = self._params_of(market_id).pull_lag_tolerance
        for r in readings:
            if r.reason != OK or r.kind != SourceKind.PYTH:
                continue
            if evm.add(r.observed_at, tolerance) < newest_push_at:
                r.reason = BEHIND_PUSH
                r.newest_push_at = newest_push_at
        return readings

    def _passes_band(self, env: Env, market_id: int, e: Evaluation) -> bool:
        """Step 6: no band, no accepted mark yet, the accepted mark older than the window, a mark
        within the band, or one confirmed by a pending mark beyond the band on the same side that
        was observed before this one."""
        params = self._params_of(market_id)
        last = self._marks.get(market_id, Mark())
        if params.band_bps == 0 or last.price == 0:
            return True
        if env.timestamp - last.accepted_at > params.band_window:
            return True
        distance = e.mark - last.price if e.mark > last.price else last.price - e.mark
        if evm.mul(distance, BPS) <= evm.mul(last.price, params.band_bps):
            return True
        if last.pending_price == 0:
            return False
        if (last.pending_price > last.price) != (e.mark > last.price):
            return False
        return e.newest_at > last.pending_observed_at

    def _read(self, env: Env, market_id: int, source: Source) -> Reading:
        """One source, validated in the documented order; never reverts because of the source: a
        call that reverts or runs out of its SOURCE_READ_GAS, short return data, an exponent
        outside int32 or an answer beyond MAX_PRICE_LIMIT once scaled leave it out. Every return
        word is read as a full word (no abi.decode range check can revert)."""
        r = Reading(max_age=source.max_age, feed=source.feed, kind=source.kind)
        if source.kind == SourceKind.CHAINLINK:
            ok, r.size, words = self._staticcall_words(lambda feed: feed.latest_round_data(), source.feed)
        else:
            ok, r.size, words = self._staticcall_words(lambda feed: feed.get_price_unsafe(source.price_id), source.feed)
        if not ok:
            r.reason = REVERTED
            return r
        if source.kind == SourceKind.CHAINLINK:
            if r.size < CHAINLINK_WORDS * 32:
                r.reason = MALFORMED
            r.answer = _as_int256(words[1])
            r.observed_at = words[3]
        else:
            expo = _as_int256(words[2])
            if r.size < PYTH_WORDS * 32 or expo < INT32_MIN or expo > INT32_MAX:
                r.reason = MALFORMED
            else:
                r.expo = expo
            r.answer = _as_int256(words[0])
            r.conf = words[1]
            r.observed_at = words[3]
        if r.reason != OK:
            return r

        if r.answer <= 0:
            r.reason = NON_POSITIVE
        elif r.observed_at == 0:
            r.reason = NO_TIMESTAMP
        elif r.observed_at > env.timestamp:
            r.reason = FUTURE
        elif env.timestamp - r.observed_at > r.max_age:
            r.reason = STALE
        elif source.kind == SourceKind.PYTH and r.expo != -source.decimals:
            r.reason = BAD_EXPONENT
        elif self._exceeds_price_limit(r.answer, source.decimals):
            r.reason = ABSURD
        elif source.kind == SourceKind.PYTH and self._confidence_too_wide(market_id, r):
            r.reason = WIDE_CONFIDENCE
        if r.reason != OK:
            return r

        r.wad = self._scale_to_wad_down(r.answer, source.decimals)
        # A tiny answer of a feed with more than 18 decimals can round to 0: never a zero price.
        if r.wad == 0:
            r.reason = SCALES_TO_ZERO
        return r

    def _staticcall_words(self, call: Any, address: str) -> tuple[bool, int, tuple[int, ...]]:
        """`staticcall` of the source model at `address` with at most SOURCE_READ_GAS: whether it
        succeeded (a `Revert`, `OutOfGas` included, is a failure), the size of its reply in bytes
        and its first CHAINLINK_WORDS words as uint256 (zero-padded, as the contract's buffer)."""
        try:
            reply = tuple(call(self._source_model(address)))
        except Revert:
            return False, 0, (0,) * CHAINLINK_WORDS
        words = tuple(int(word) & UINT256_MAX for word in reply[:CHAINLINK_WORDS])  # the raw word
        return True, 32 * len(reply), words + (0,) * (CHAINLINK_WORDS - len(words))

    def _confidence_too_wide(self, market_id: int, r: Reading) -> bool:
        """A Pyth confidence interval wider than `maxConfBps` of the price (same exponent: compared
        as they are; 0 = no limit). `conf` is a full word: a product that would overflow is too wide."""
        max_conf_bps = self._params_of(market_id).max_conf_bps
        if max_conf_bps == 0:
            return False
        if r.conf > evm.div(UINT256_MAX, BPS):
            return True
        return evm.mul(r.conf, BPS) > evm.mul(r.answer, max_conf_bps)

    @staticmethod
    def _exceeds_price_limit(answer: int, decimals: int) -> bool:
        """Whether `answer` scaled to WAD would exceed MAX_PRICE_LIMIT (exact, no overflow)."""
        if decimals <= WAD_DECIMALS:
            return answer > evm.div(MAX_PRICE_LIMIT, 10 ** (WAD_DECIMALS - decimals))
        return evm.div(answer, 10 ** (decimals - WAD_DECIMALS)) > MAX_PRICE_LIMIT

    @staticmethod
    def _revert_rejected(env: Env, market_id: int, r: Reading) -> None:
        if r.reason == REVERTED:
            raise SourceReverted(market_id, r.feed)
        if r.reason == MALFORMED:
            raise MalformedAnswer(market_id, r.feed, r.size)
        if r.reason in (NON_POSITIVE, SCALES_TO_ZERO, ABSURD):
            raise InvalidAnswer(market_id, r.answer)
        if r.reason == WIDE_CONFIDENCE:
            raise ConfidenceTooWide(market_id, r.conf, r.answer)
        if r.reason == BEHIND_PUSH:
            raise PullPriceBehindPush(market_id, r.observed_at, r.newest_push_at)
        if r.reason == NO_TIMESTAMP:
            raise MissingTimestamp(market_id)
        if r.reason == FUTURE:
            raise FutureTimestamp(market_id, r.observed_at, env.timestamp)
        if r.reason == STALE:
            raise StalePrice(market_id, r.observed_at, env.timestamp, r.max_age)
        raise UnexpectedExponent(market_id, r.expo)

    def _decimals_of(self, spec: SourceSpec) -> int:
        """Chainlink: `feed.decimals()` (at most 36). Pyth: `-expo` of the id's current price
        (the id must exist: MockPyth reverts `PriceFeedNotFound` otherwise)."""
        if spec.kind == SourceKind.CHAINLINK:
            decimals = self._aggregator(spec.feed).decimals
            if decimals > MAX_FEED_DECIMALS:
                raise UnsupportedFeedDecimals(decimals)
            return decimals
        expo = self._pyth(spec.feed).get_price_unsafe(bytes(spec.price_id)).expo
        if expo > 0 or expo < -MAX_FEED_DECIMALS:
            raise UnsupportedExponent(expo)
        return -expo

    @staticmethod
    def _lower_median(values: list[int]) -> int:
        """The element at index (n - 1) // 2 of the values sorted ascending."""
        ordered = sorted(values)
        return ordered[(len(ordered) - 1) // 2]

    def _check_sequencer(self, env: Env) -> None:
        """Chainlink L2 uptime feed: answer 0 = up, 1 = down; `startedAt` is when the status last
        changed, and 0 only for a round that does not exist. Off when no sequencer feed is set. A
        sequencer feed that reverts or answers short counts as down."""
        sequencer = self.sequencer_feed
        if sequencer == ZERO_ADDRESS:
            return

        ok, status, started_at = self._read_sequencer(sequencer)
        if not ok or status != 0 or started_at == 0:
            raise SequencerDown()
        # A restart dated after this block counts as still in its grace period (not an underflow panic).
        if started_at > env.timestamp or env.timestamp - started_at <= self.sequencer_grace_period:
            raise SequencerGracePeriod(started_at, env.timestamp, self.sequencer_grace_period)

    def _sequencer_up(self, env: Env) -> bool:
        """`_check_sequencer` as a boolean, for `markStatus`."""
        sequencer = self.sequencer_feed
        if sequencer == ZERO_ADDRESS:
            return True

        ok, status, started_at = self._read_sequencer(sequencer)
        if not ok or status != 0 or started_at == 0:
            return False
        return started_at <= env.timestamp and env.timestamp - started_at > self.sequencer_grace_period

    def _read_sequencer(self, sequencer: str) -> tuple[bool, int, int]:
        """The uptime feed's (answer, startedAt); `ok` false when it reverted or answered short."""
        ok, size, words = self._staticcall_words(lambda feed: feed.latest_round_data(), sequencer)
        ok = ok and size >= CHAINLINK_WORDS * 32
        return ok, _as_int256(words[1]), words[2]

    @staticmethod
    def _scale_to_wad_down(answer: int, decimals: int) -> int:
        """Up to 18 decimals the scaling is exact (an answer that would exceed MAX_PRICE_LIMIT was
        left out before). Above 18 it divides and rounds down, dropping digits finer than 1e-18 USD."""
        if decimals <= WAD_DECIMALS:
            return evm.mul(answer, 10 ** (WAD_DECIMALS - decimals))
        return evm.div(answer, 10 ** (decimals - WAD_DECIMALS))

    def _aggregator(self, address: str) -> AggregatorV3:
        """The model of the Chainlink-style feed at `address` (a harness error if never registered)."""
        return self._source_model(address)

    def _pyth(self, address: str) -> MockPyth:
        return self._source_model(address)

    def _source_model(self, address: str) -> Any:
        try:
            return self.feeds[address]
        except KeyError:
            raise LookupError(f"no source model registered at {address}; add it to `feeds` when deploying") from None
