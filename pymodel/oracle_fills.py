"""Mirrors the pinned fills of contracts/OracleAdapter.sol (`setOrderRouter`, `pinFill`,
`unpin` and their internals), as a mixin of `pymodel.oracle_adapter.OracleAdapter`: the fill mark
of an order is fixed by its `readyAt`, not by when a keeper calls (SPEC §5a).

The transient pin (EIP-1153) is three plain fields reset by `unpin`; the router calls `unpin`
in the same transaction, so nothing outlives it. Native value (the pull update fee and its
refund) is not modelled: the harness's MockPyth charges no fee and keepers send none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymodel import evm
from pymodel.core import ZERO_ADDRESS, Env, ModelEvent
from pymodel.errors import Revert

MAX_ROUND_WALK = 8
UINT64_MASK = 2**64 - 1


@dataclass
class NotOrderRouter(Revert):
    caller: str


@dataclass
class OrderRouterAlreadySet(Revert):
    pass


@dataclass
class RoundHintCount(Revert):
    hints: int
    sources: int


@dataclass
class BadRoundHint(Revert):
    market_id: int
    index: int
    round_id: int


@dataclass
class PhaseStartRound(Revert):
    market_id: int
    index: int
    round_id: int


@dataclass
class RoundWalkTooLong(Revert):
    market_id: int
    index: int


@dataclass
class FillNotReady(Revert):
    market_id: int
    present: int
    closes_at: int


@dataclass
class PinnedBelowQuorum(Revert):
    market_id: int
    present: int
    quorum: int


@dataclass
class InsufficientUpdateFee(Revert):
    fee: int
    value: int


@dataclass
class RefundFailed(Revert):
    pass


@dataclass(frozen=True)
class OrderRouterSet(ModelEvent):
    router: str


class PinnedFills:
    """The adapter's pinned fills; `OracleAdapter` provides the sources, params and reads."""

    def _init_pinned_fills(self) -> None:
        self.order_router = ZERO_ADDRESS
        self._pinned_market = 0
        self._pinned_price = 0
        self._pinned_observed_at = 0

    def set_order_router(self, env: Env, router: str) -> None:
        """Mirrors OracleAdapter.setOrderRouter."""
        from pymodel.oracle_errors import ZeroFeed

        self._check_owner(env)
        if self.order_router != ZERO_ADDRESS:
            raise OrderRouterAlreadySet()
        if router == ZERO_ADDRESS:
            raise ZeroFeed()
        self.order_router = router

        self.emit(OrderRouterSet(router))

    def pin_fill(
        self,
        env: Env,
        market_id: int,
        ready_at: int,
        fill_window: int,
        pull_fill_window: int,
        round_ids: list[int],
        pull_updates: list[bytes],
    ) -> tuple[int, int]:
        """Mirrors OracleAdapter.pinFill (no value: the harness pays no update fee)."""
        from pymodel.oracle_adapter import OK, SourceKind
        from pymodel.oracle_errors import FeedNotSet

        if env.sender != self.order_router:
            raise NotOrderRouter(env.sender)
        sources = self._sources.get(market_id, [])
        if len(sources) == 0:
            raise FeedNotSet(market_id)
        self._check_sequencer(env)
        if len(round_ids) != 0 and len(round_ids) != len(sources):
            raise RoundHintCount(len(round_ids), len(sources))
        wads: list[int] = []
        times: list[int] = []
        for i, source in enumerate(sources):
            if source.kind == SourceKind.CHAINLINK:
                hint = 0 if len(round_ids) == 0 else round_ids[i]
                r = self._pinned_round(env, market_id, i, source, ready_at, hint)
            else:
                r = self._pinned_pull(env, market_id, i, source, ready_at, pull_fill_window, pull_updates)
            # Only an observation in [readyAt, readyAt + fillWindow] is this order's.
            if r.reason != OK or r.observed_at > evm.add(ready_at, fill_window):
                continue
            wads.append(r.wad)
            times.append(r.observed_at)
        present = len(wads)
        closes_at = evm.add(ready_at, fill_window)
        if present < len(sources) and env.timestamp <= closes_at:
            raise FillNotReady(market_id, present, closes_at)
        quorum = self._params_of(market_id).quorum
        if present < quorum:
            raise PinnedBelowQuorum(market_id, present, quorum)
        mark, observed_at = self._pinned_median(market_id, wads, times, quorum)

        self._pinned_market = market_id + 1
        self._pinned_price = mark
        self._pinned_observed_at = observed_at
        return mark, observed_at

    def unpin(self, env: Env) -> None:
        """Mirrors OracleAdapter.unpin."""
        if env.sender != self.order_router:
            raise NotOrderRouter(env.sender)
        self._pinned_market = 0
        self._pinned_price = 0
        self._pinned_observed_at = 0

    # Internal

    def _pinned_round(self, env: Env, market_id: int, index: int, source: Any, ready_at: int, hint: int) -> Any:
        """A pinned fill's Chainlink source: its first round by round id with `updatedAt >=
        readyAt`, the round before it older (see the contract)."""
        from pymodel.oracle_adapter import OK, REVERTED, STALE, Reading

        r = Reading(reason=REVERTED)
        ok, round_id, answer, updated_at = self._round_of(source.feed, hint, hint == 0)
        # A round the keeper names must exist: naming a bad one cannot leave a source out.
        if not ok and hint != 0:
            raise BadRoundHint(market_id, index, hint)
        if not ok:
            return r
        if updated_at < ready_at:
            if hint != 0:
                raise BadRoundHint(market_id, index, hint)
            r.reason = STALE  # nothing at or after readyAt yet
            return r
        for _ in range(MAX_ROUND_WALK + 1):
            # Round 1 of a feed that is no proxy (phase 0) has no predecessor: it is the first.
            if round_id == 1:
                r.reason = OK
                break
            if round_id & UINT64_MASK <= 1:
                raise PhaseStartRound(market_id, index, round_id)
            ok_previous, _, _, previous_at = self._round_of(source.feed, round_id - 1, False)
            if not ok_previous and hint != 0:
                raise BadRoundHint(market_id, index, hint)
            if not ok_previous:
                return r
            if previous_at < ready_at:
                r.reason = OK
                break
            if hint != 0:
                raise BadRoundHint(market_id, index, hint)
            round_id -= 1
            updated_at = previous_at
        if r.reason != OK:
            raise RoundWalkTooLong(market_id, index)
        _, _, answer, _ = self._round_of(source.feed, round_id, False)
        r.answer = answer
        r.observed_at = updated_at
        r.reason = self._valid_pinned(env, r, source)
        if r.reason == OK:
            r.wad = self._scale_to_wad_down(r.answer, source.decimals)
        return r

    def _round_of(self, feed: str, round_id: int, latest: bool) -> tuple[bool, int, int, int]:
        """`latestRoundData()` (latest) or `getRoundData(roundId)`, read like a live source."""
        from pymodel.oracle_adapter import CHAINLINK_WORDS, _as_int256

        if latest:
            ok, size, words = self._staticcall_words(lambda model: model.latest_round_data(), feed)
        else:
            ok, size, words = self._staticcall_words(lambda model: model.get_round_data(round_id), feed)
        ok = ok and size >= CHAINLINK_WORDS * 32
        return ok, words[0], _as_int256(words[1]), words[3]

    def _valid_pinned(self, env: Env, r: Any, source: Any) -> int:
        """A pinned observation's checks: positive, not in the future, at most MAX_PRICE_LIMIT and
        non-zero once scaled (its age is the window's business)."""
        from pymodel.oracle_adapter import ABSURD, FUTURE, NON_POSITIVE, OK, SCALES_TO_ZERO

        if r.answer <= 0:
            return NON_POSITIVE
        if r.observed_at > env.timestamp:
            return FUTURE
        if self._exceeds_price_limit(r.answer, source.decimals):
            return ABSURD
        if self._scale_to_wad_down(r.answer, source.decimals) == 0:
            return SCALES_TO_ZERO
        return OK

    def _pinned_pull(
        self,
        env: Env,
        market_id: int,
        index: int,
        source: Any,
        ready_at: int,
        pull_fill_window: int,
        pull_updates: list[bytes],
    ) -> Any:
        """A pinned fill's pull source: the keeper's update in [readyAt, readyAt + pullFillWindow]
        (`parsePriceFeedUpdates`), or without update data the stored print in that range."""
        from pymodel.core import try_call
        from pymodel.oracle_adapter import (
            BAD_EXPONENT,
            OK,
            PYTH_WORDS,
            STALE,
            WIDE_CONFIDENCE,
            Reading,
        )

        r = Reading(reason=STALE)
        pyth = self._source_model(source.feed)
        if len(pull_updates) == 0:
            ok, size, words = self._staticcall_words(lambda model: model.get_price_unsafe(source.price_id), source.feed)
            if not ok or size < PYTH_WORDS * 32:
                return r
            if words[3] < ready_at or words[3] > evm.add(ready_at, pull_fill_window):
                return r
            p = pyth.get_price_unsafe(source.price_id)
        else:
            fee = pyth.get_update_fee(pull_updates)
            if fee > 0:
                raise InsufficientUpdateFee(fee, 0)
            parsed: list[Any] = []

            def parse() -> None:
                parsed.extend(
                    pyth.parse_price_feed_updates(
                        env.calling(self.address),
                        pull_updates,
                        [source.price_id],
                        ready_at & UINT64_MASK,
                        evm.add(ready_at, pull_fill_window) & UINT64_MASK,
                    )
                )

            # `try pyth.parsePriceFeedUpdates(...) {} catch {}`: a refused parse is undone.
            if try_call(self.log, parse) is not None:
                return r
            p = parsed[0].price
        r.answer = p.price
        r.conf = p.conf
        r.expo = p.expo
        r.observed_at = p.publish_time
        r.reason = self._valid_pinned(env, r, source)
        if r.reason == OK and r.expo != -source.decimals:
            r.reason = BAD_EXPONENT
        if r.reason == OK and self._confidence_too_wide(market_id, r):
            r.reason = WIDE_CONFIDENCE
        if r.reason == OK:
            r.wad = self._scale_to_wad_down(r.answer, source.decimals)
        return r

    def _pinned_median(self, market_id: int, wads: list[int], times: list[int], quorum: int) -> tuple[int, int]:
        """The lower median of the pinned observations, at least `quorum` within the spread, at
        most the sanity bound; with the newest agreeing observation's time."""
        from pymodel.oracle_errors import PriceAboveBound, SpreadTooWide

        mark = self._lower_median(wads)
        max_spread_bps = self._params_of(market_id).max_spread_bps
        agreeing = 0
        newest_at = 0
        for wad, time in zip(wads, times, strict=True):
            distance = wad - mark if wad > mark else mark - wad
            if evm.mul(distance, 10_000) > evm.mul(mark, max_spread_bps):
                continue
            if time > newest_at:
                newest_at = time
            agreeing += 1
        if agreeing < quorum:
            raise SpreadTooWide(market_id, mark, agreeing, quorum)
        max_price = self._max_price(market_id)
        if mark > max_price:
            raise PriceAboveBound(market_id, mark, max_price)
        return mark, newest_at
