"""Mirrors Pyth's `MockPyth` (node_modules/@pythnetwork/pyth-sdk-solidity/MockPyth.sol), deployed
through contracts/mocks/MockPythSource.sol: the pull-oracle source the oracle adapter reads.

Only what the adapter and the harness use is mirrored: `updatePriceFeeds` (an update not newer
than the stored price is ignored, silently), `getPriceUnsafe`, `priceFeedExists`, `getUpdateFee`
and `createPriceFeedUpdateData` (the update encoding, `abi.encode(PriceFeed, prevPublishTime)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from pymodel import evm
from pymodel.core import Env, EventLog, ModelContract, ModelEvent
from pymodel.errors import Revert

WORD = 32


class PythPrice(NamedTuple):
    """`PythStructs.Price`; equal to the chain's decoded tuple."""

    price: int
    conf: int
    expo: int
    publish_time: int


class PriceFeed(NamedTuple):
    """`PythStructs.PriceFeed`."""

    id: bytes
    price: PythPrice
    ema_price: PythPrice


@dataclass
class PriceFeedNotFound(Revert):
    pass


@dataclass
class InsufficientFee(Revert):
    pass


@dataclass
class PriceFeedNotFoundWithinRange(Revert):
    pass


@dataclass(frozen=True)
class PriceFeedUpdate(ModelEvent):
    id: bytes
    publish_time: int
    price: int
    conf: int


def _word(value: int, signed: bool = False) -> bytes:
    return value.to_bytes(WORD, "big", signed=signed)


def create_price_feed_update_data(
    price_id: bytes,
    price: int,
    conf: int,
    expo: int,
    ema_price: int,
    ema_conf: int,
    publish_time: int,
    prev_publish_time: int,
) -> bytes:
    """MockPyth.createPriceFeedUpdateData: `abi.encode(PriceFeed, prevPublishTime)`, the EMA price
    sharing the price's exponent and publish time."""
    words = [bytes(price_id), _word(price, True), _word(conf), _word(expo, True), _word(publish_time)]
    words += [_word(ema_price, True), _word(ema_conf), _word(expo, True), _word(publish_time)]
    return b"".join([*words, _word(prev_publish_time)])


def encode_price_feed_update(
    price_id: bytes, price: int, conf: int, expo: int, publish_time: int, prev_publish_time: int = 0
) -> bytes:
    """An update whose EMA price equals the price (the adapter reads only the price)."""
    return create_price_feed_update_data(price_id, price, conf, expo, price, conf, publish_time, prev_publish_time)


def _decode_price_feed(data: bytes) -> PriceFeed:
    """`abi.decode(data, (PythStructs.PriceFeed))`: ten static words, extra bytes ignored. Only
    well-formed updates are modelled (the harness encodes them; abi.decode's own reverts are not)."""
    assert len(data) >= 10 * WORD, "a PriceFeed update is at least ten words"

    def word(i: int, signed: bool = False) -> int:
        return int.from_bytes(data[i * WORD : (i + 1) * WORD], "big", signed=signed)

    def price_at(i: int) -> PythPrice:
        return PythPrice(word(i, True), word(i + 1), word(i + 2, True), word(i + 3))

    return PriceFeed(data[:WORD], price_at(1), price_at(5))


class MockPyth(ModelContract):
    """Mirrors MockPyth.sol (via contracts/mocks/MockPythSource.sol)."""

    def __init__(self, address: str, log: EventLog, valid_time_period: int, single_update_fee_in_wei: int) -> None:
        super().__init__(address, log)
        self.valid_time_period = valid_time_period
        self.single_update_fee_in_wei = single_update_fee_in_wei
        self._price_feeds: dict[bytes, PriceFeed] = {}

    def update_price_feeds(self, env: Env, update_data: list[bytes], value: int = 0) -> None:
        """Mirrors MockPyth.updatePriceFeeds (payable; the harness sends no value)."""
        required_fee = self.get_update_fee(update_data)
        if value < required_fee:
            raise InsufficientFee()

        for data in update_data:
            price_feed = _decode_price_feed(bytes(data))
            stored = self._price_feeds.get(price_feed.id)
            last_publish_time = stored.price.publish_time if stored else 0

            if last_publish_time < price_feed.price.publish_time:
                # Price information is more recent than the existing price information.
                self._price_feeds[price_feed.id] = price_feed
                self.emit(
                    PriceFeedUpdate(
                        price_feed.id,
                        price_feed.price.publish_time & evm.uint_max(64),  # uint64(publishTime)
                        price_feed.price.price,
                        price_feed.price.conf,
                    )
                )

    def parse_price_feed_updates(
        self,
        env: Env,
        update_data: list[bytes],
        price_ids: list[bytes],
        min_publish_time: int,
        max_publish_time: int,
        value: int = 0,
    ) -> list[PriceFeed]:
        """Mirrors MockPyth.parsePriceFeedUpdates (= parsePriceFeedUpdatesWithConfig without the
        uniqueness check): per id, the first update of it in [min, max]; every update it decodes
        on the way that is newer than the stored one is stored (and emitted), as the mock does."""
        required_fee = self.get_update_fee(update_data)
        if value < required_fee:
            raise InsufficientFee()

        feeds: list[PriceFeed] = []
        for price_id in price_ids:
            found: PriceFeed | None = None
            for data in update_data:
                feed = _decode_price_feed(bytes(data))
                publish_time = feed.price.publish_time
                stored = self._price_feeds.get(feed.id)
                if (stored.price.publish_time if stored else 0) < publish_time:
                    self._price_feeds[feed.id] = feed
                    self.emit(
                        PriceFeedUpdate(feed.id, publish_time & evm.uint_max(64), feed.price.price, feed.price.conf)
                    )
                if feed.id == bytes(price_id):
                    if min_publish_time <= publish_time <= max_publish_time:
                        found = feed
                        break
                    found = None
            if found is None:
                raise PriceFeedNotFoundWithinRange()
            feeds.append(found)
        return feeds

    @staticmethod
    def create_price_feed_update_data(*args: int | bytes) -> bytes:
        """Mirrors MockPyth.createPriceFeedUpdateData (pure)."""
        return create_price_feed_update_data(*args)  # type: ignore[arg-type]

    def get_update_fee(self, update_data: list[bytes]) -> int:
        return evm.mul(self.single_update_fee_in_wei, len(update_data))

    def price_feed_exists(self, price_id: bytes) -> bool:
        stored = self._price_feeds.get(bytes(price_id))
        return stored is not None and stored.id != bytes(WORD)

    def query_price_feed(self, price_id: bytes) -> PriceFeed:
        stored = self._price_feeds.get(bytes(price_id))
        if stored is None or stored.id == bytes(WORD):
            raise PriceFeedNotFound()
        return stored

    def get_price_unsafe(self, price_id: bytes) -> PythPrice:
        """AbstractPyth.getPriceUnsafe: the stored price, whatever its age."""
        return self.query_price_feed(price_id).price
