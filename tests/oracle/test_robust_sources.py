"""Sources that fail are outvoted (issue 17, item 4): a source that reverts, returns one word
instead of five, burns its gas or answers anything absurd (any int256, decimals 0-36) is left out
like a stale one and counted against the quorum; `price`, `priceWithTime` and `markStatus` never
revert because of one source, and `markStatus` / `sourceHealthOf` name why it was left out.
Model ⇄ chain parity on every call (tests/oracle/conftest.py); the faulty source is
contracts/mocks/FaultyFeed.sol, mirrored by pymodel/faulty_feed.py.
"""

from __future__ import annotations

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from chainio import RpcError
from chainio.contract import _revert_bytes
from pymodel.evm import INT256_MAX, INT256_MIN
from pymodel.faulty_feed import Mode
from pymodel.oracle_adapter import MAX_FEED_DECIMALS, MAX_PRICE_LIMIT, MarkStatus, SourceHealth, SourceKind

MARKET = 1
HOUR = 3600
AHEAD = 600
WAD = 10**18
CHAINLINK, PYTH = int(SourceKind.CHAINLINK), int(SourceKind.PYTH)
NO_ID = bytes(32)
PYTH_ID = (0xE9).to_bytes(32, "big")

BROKEN = {
    Mode.REVERTS: SourceHealth.REVERTED,
    Mode.SHORT_DATA: SourceHealth.MALFORMED,
    Mode.BURNS_GAS: SourceHealth.REVERTED,
}


def revert(name: str, *args: object) -> tuple:
    return ("revert", name, args)


def params(quorum: int = 2, spread: int = 100) -> tuple:
    return (quorum, spread, 0, 0, 0, 0, 0)


@pytest.fixture
def pair(oracle):
    """Two healthy 18-decimal MockPriceFeeds at $2,000 and $2,010."""
    return oracle.deploy_mock_price_feed(18, 2_000 * WAD), oracle.deploy_mock_price_feed(18, 2_010 * WAD)


def three_with(oracle, adapter, pair, faulty, kind: int = CHAINLINK) -> None:
    """MARKET on the pair and `faulty` (third, as a Chainlink feed or a Pyth id): quorum 2."""
    a, b = pair
    third = (kind, faulty.address, PYTH_ID if kind == PYTH else NO_ID, HOUR)
    sources = [(CHAINLINK, a.address, NO_ID, HOUR), (CHAINLINK, b.address, NO_ID, HOUR), third]
    assert oracle.transact(adapter, "setOracle", MARKET, sources, params())[0] == "ok"


@pytest.mark.parametrize("kind", [CHAINLINK, PYTH])
@pytest.mark.parametrize("mode", list(BROKEN))
def test_price__one_broken_source_of_three__left_out_market_live(oracle, adapter, pair, mode, kind):
    # A Pyth price is an int64: 8 decimals, as Pyth's USD feeds.
    faulty = (
        oracle.deploy_faulty_feed(18, 2_005 * WAD) if kind == CHAINLINK else oracle.deploy_faulty_feed(8, 2_005 * 10**8)
    )
    three_with(oracle, adapter, pair, faulty, kind)
    oracle.transact(faulty, "setMode", int(mode))
    assert oracle.view(adapter, "price", MARKET) == ("ok", 2_000 * WAD)  # lower median of the pair
    assert oracle.view(adapter, "priceWithTime", MARKET)[0] == "ok"
    assert oracle.view(adapter, "markStatus", MARKET) == ("ok", (MarkStatus.LIVE, 2, 2, BROKEN[mode]))
    health = (SourceHealth.OK, SourceHealth.OK, BROKEN[mode])
    assert oracle.view(adapter, "sourceHealthOf", MARKET) == ("ok", health)


@pytest.mark.parametrize("answer", [INT256_MAX, INT256_MIN, -1, 0, 2**200, MAX_PRICE_LIMIT + 1])
def test_price__one_absurd_answer_of_three__outvoted_never_a_panic(oracle, adapter, pair, answer):
    faulty = oracle.deploy_faulty_feed(18, 2_005 * WAD)
    three_with(oracle, adapter, pair, faulty)
    oracle.transact(faulty, "setRoundData", answer, oracle.now())
    assert oracle.view(adapter, "price", MARKET) == ("ok", 2_000 * WAD)
    expected = SourceHealth.ABSURD if answer > 0 else SourceHealth.NON_POSITIVE
    assert oracle.view(adapter, "markStatus", MARKET) == ("ok", (MarkStatus.LIVE, 2, 2, expected))


@pytest.mark.parametrize(
    ("mode", "error"),
    [(Mode.REVERTS, "SourceReverted"), (Mode.BURNS_GAS, "SourceReverted"), (Mode.SHORT_DATA, "MalformedAnswer")],
)
def test_price__only_source_broken__below_quorum_with_a_named_error(oracle, adapter, mode, error):
    faulty = oracle.deploy_faulty_feed(8, 2_000 * 10**8)
    oracle.transact(adapter, "setFeed", MARKET, faulty.address, HOUR)
    oracle.transact(faulty, "setMode", int(mode))
    args = (MARKET, faulty.address, 32) if mode == Mode.SHORT_DATA else (MARKET, faulty.address)
    assert oracle.view(adapter, "price", MARKET) == revert(error, *args)
    assert oracle.view(adapter, "priceWithTime", MARKET) == revert(error, *args)
    assert oracle.transact(adapter, "updateMark", MARKET) == revert(error, *args)
    assert oracle.view(adapter, "markStatus", MARKET) == ("ok", (MarkStatus.BELOW_QUORUM, 0, 0, BROKEN[mode]))


def test_price__two_broken_of_three__below_quorum_first_fault_named(oracle, adapter, pair):
    faulty = oracle.deploy_faulty_feed(18, 2_005 * WAD)
    three_with(oracle, adapter, pair, faulty)
    oracle.transact(faulty, "setMode", int(Mode.SHORT_DATA))
    oracle.transact(pair[0], "setRoundData", 2_000 * WAD, oracle.now() - HOUR - 1)  # stale
    status = oracle.view(adapter, "markStatus", MARKET)
    assert status == ("ok", (MarkStatus.BELOW_QUORUM, 1, 1, SourceHealth.STALE))
    assert oracle.view(adapter, "price", MARKET)[1] == "StalePrice"


def test_price__broken_source_recovers__counts_again(oracle, adapter, pair):
    faulty = oracle.deploy_faulty_feed(18, 2_005 * WAD)
    three_with(oracle, adapter, pair, faulty)
    oracle.transact(faulty, "setMode", int(Mode.REVERTS))
    assert oracle.view(adapter, "price", MARKET) == ("ok", 2_000 * WAD)
    oracle.transact(faulty, "setMode", int(Mode.HEALTHY))
    assert oracle.view(adapter, "price", MARKET) == ("ok", 2_005 * WAD)  # median of three again


@pytest.mark.parametrize("mode", list(BROKEN))
def test_sequencer_feed_broken__counts_as_down_mark_status_answers(oracle, adapter, pair, mode):
    a, _ = pair
    oracle.transact(adapter, "setFeed", MARKET, a.address, HOUR)
    sequencer = oracle.deploy_faulty_feed(0, 0)
    oracle.transact(adapter, "setSequencerFeed", sequencer.address, 0)
    oracle.transact(sequencer, "setMode", int(mode))
    assert oracle.view(adapter, "price", MARKET) == revert("SequencerDown")
    assert oracle.view(adapter, "markStatus", MARKET) == ("ok", (MarkStatus.SEQUENCER_DOWN, 0, 0, SourceHealth.OK))


def test_price__caller_starves_a_gas_burning_source__whole_call_reverts_never_leaves_a_source_out(
    oracle, adapter, pair, rpc
):
    """Chain only (gas is not modelled): with too little gas for a source's SOURCE_READ_GAS the
    read fails because of the CALLER; the adapter reverts `SourceReadOutOfGas` (or the call runs
    out of gas) rather than leave the source out, so no caller picks which sources count. With
    enough gas the same call prices."""
    faulty = oracle.deploy_faulty_feed(18, 2_005 * WAD)
    three_with(oracle, adapter, pair, faulty)
    oracle.transact(faulty, "setMode", int(Mode.BURNS_GAS))
    data = adapter.chain.codec.encode_call("price", (MARKET,))
    outcomes = set()
    for gas in range(60_000, 200_000, 10_000):
        try:
            reply = rpc.request("eth_call", [{"to": adapter.address, "data": data, "gas": hex(gas)}, "latest"])
            outcomes.add(int(reply, 16))
        except RpcError as error:
            raw = _revert_bytes(error)
            outcomes.add("out of gas" if not raw else adapter.chain.registry.decode_revert(raw)[0])
    assert outcomes <= {"SourceReadOutOfGas", "out of gas", 2_000 * WAD}, outcomes
    assert "SourceReadOutOfGas" in outcomes
    reply = rpc.request("eth_call", [{"to": adapter.address, "data": data, "gas": hex(400_000)}, "latest"])
    assert int(reply, 16) == 2_000 * WAD


@settings(max_examples=min(40, settings().max_examples))
@given(
    answer=st.one_of(st.sampled_from([INT256_MAX, INT256_MIN, 0, 1, -1]), st.integers(INT256_MIN, INT256_MAX)),
    decimals=st.integers(0, MAX_FEED_DECIMALS),
    age=st.integers(-5, 2 * HOUR),
    mode=st.sampled_from(list(Mode)),
)
@example(answer=INT256_MAX, decimals=0, age=0, mode=Mode.HEALTHY)
@example(answer=1, decimals=36, age=0, mode=Mode.HEALTHY)
def test_price__any_answer_decimals_and_mode_of_one_source__model_equals_chain_never_panics(
    oracle, adapter, pair, answer, decimals, age, mode
):
    """The faulty source beside the healthy pair: whatever it answers, the market is live on the
    pair (quorum 2, the pair within the spread), and model and chain agree on every view."""
    faulty = _faulty(oracle, decimals)
    sources = oracle.view(adapter, "sourcesOf", MARKET)[1]
    if len(sources) < 3 or sources[2][1] != faulty.address:
        three_with(oracle, adapter, pair, faulty)
    t = oracle.now() + AHEAD
    oracle.transact(pair[0], "setRoundData", 2_000 * WAD, t)
    oracle.transact(pair[1], "setRoundData", 2_010 * WAD, t)
    oracle.transact(faulty, "setRoundData", answer, t - age)
    oracle.transact(faulty, "setMode", int(mode))
    price = oracle.view(adapter, "price", MARKET, at=t)
    assert price[0] == "ok", price
    status = oracle.view(adapter, "markStatus", MARKET)
    assert status[1][0] == MarkStatus.LIVE
    assert oracle.view(adapter, "sourceHealthOf", MARKET)[0] == "ok"
    event(SourceHealth(status[1][3]).name)


def _faulty(oracle, decimals: int):
    """One FaultyFeed per decimals per test (Hypothesis reuses them across examples)."""
    cache = oracle.__dict__.setdefault("faulty_by_decimals", {})
    if decimals not in cache:
        cache[decimals] = oracle.deploy_faulty_feed(decimals, 10**decimals)
    return cache[decimals]
