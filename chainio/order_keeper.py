"""One order-keeper pass (issue 17, item 7; SPEC §5a): pending orders from the router's events
(`OrderSubmitted`, still held by `orderOf`), each executed once its fill is ready with the pinned
round id of every Chainlink source and, on mock deployments, the pull update of every Pyth source,
and each expired one cancelled (its execution fee to the keeper). One line per action with the
chain's result from the receipt's events (`OrderExecuted` price / `OrderCancelled` reason), human
units, and a heartbeat line per pass. Sending is injected, so the pass is the same on a testnet
and in tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chainio.contract import ChainRevert, LeanContract
from chainio.rpc import RpcClient
from pymodel.mock_pyth import encode_price_feed_update
from pymodel.order_router import ERROR_SELECTORS

WAD = 10**18
PHASE_MASK = 2**64 - 1  # the aggregator's round id within a proxy's phase
MAX_ROUND_WALK = 64  # rounds walked back before leaving the search to the adapter (no hint)
CHAINLINK, PYTH = 0, 1  # IOracleAdapter.SourceKind

_REASONS = {selector: name for name, selector in ERROR_SELECTORS.items()}

# (function, args, value) -> the receipt's events as (name, args by name); raises when it fails.
OrderSend = Callable[[str, tuple[Any, ...], int], list[tuple[str, Mapping[str, Any]]]]
# (contract name, address) -> a LeanContract with that ABI.
ContractAt = Callable[[str, str], LeanContract]


@dataclass
class OrderSummary:
    passes: int = 0
    executed: int = 0
    refused: int = 0
    expired: int = 0
    waiting: int = 0
    failed: int = 0
    lines: list[str] = field(default_factory=list)


def dollars(units: int, decimals: int) -> str:
    """`$1,234.56` from collateral units (truncated to cents)."""
    cents = units * 100 // 10**decimals
    return f"${cents // 100:,}.{cents % 100:02d}"


def price_text(wad: int) -> str:
    """`3,002.00` from a WAD price (truncated to cents)."""
    cents = wad * 100 // WAD
    return f"{cents // 100:,}.{cents % 100:02d}"


class OrderIndex:
    """Every (account, market) an `OrderSubmitted` named, scanned once in ranges of `chunk` blocks;
    `pending` returns those whose order is still held (not executed, not cancelled) with it."""

    def __init__(self, rpc: RpcClient, router: LeanContract, from_block: int, chunk: int = 5_000) -> None:
        self.rpc, self.router, self.next_block, self.chunk = rpc, router, from_block, chunk
        self.seen: dict[tuple[str, int], None] = {}

    def pending(self) -> list[tuple[str, int, Any]]:
        head = int(self.rpc.request("eth_blockNumber"), 16)
        while self.next_block <= head:
            last = min(head, self.next_block + self.chunk - 1)
            query = {"address": self.router.address, "fromBlock": hex(self.next_block), "toBlock": hex(last)}
            for log in self.rpc.request("eth_getLogs", [query]):
                event = self.router.registry.decode_log(log)
                if event.name == "OrderSubmitted":
                    self.seen[(event.arg("account"), event.arg("marketId"))] = None
            self.next_block = last + 1
        pairs = list(self.seen)
        orders = self.router.call_many([("orderOf", pair) for pair in pairs], raise_reverts=True)
        live = [(account, market, order) for (account, market), order in zip(pairs, orders, strict=True)]
        return [entry for entry in live if entry[2][4] != 0]  # Order.submittedAt


def pinned_round_id(feed: LeanContract, ready_at: int) -> int:
    """The first round by round id with `updatedAt >= readyAt` whose predecessor is older, or 0
    (no hint: the adapter walks back itself) where the latest round is older than `readyAt`, the
    walk reaches a phase start or runs past MAX_ROUND_WALK rounds."""
    round_id, _, _, updated_at, _ = feed.call("latestRoundData")
    if updated_at < ready_at:
        return 0
    for _ in range(MAX_ROUND_WALK):
        if round_id == 1:
            return round_id  # a feed's first round has no predecessor
        if round_id & PHASE_MASK <= 1:
            return 0
        try:
            previous_at = feed.call("getRoundData", round_id - 1)[3]
        except ChainRevert:
            return 0
        if previous_at < ready_at:
            return round_id
        round_id -= 1
    return 0


def pull_update(pyth: LeanContract, price_id: bytes, ready_at: int, pull_window: int) -> bytes | None:
    """The mock Pyth's latest print as an update, when it lies in `[readyAt, readyAt + window]`."""
    price, conf, expo, publish_time = pyth.call("getPriceUnsafe", price_id)
    if not ready_at <= publish_time <= ready_at + pull_window:
        return None
    return encode_price_feed_update(price_id, price, conf, expo, publish_time)


def order_pass(
    rpc: RpcClient,
    router: LeanContract,
    oracle: LeanContract,
    contract_at: ContractAt,
    index: OrderIndex,
    mocks: bool,
    decimals: int,
    keeper: str,
    send: OrderSend,
    summary: OrderSummary,
    log: Any,
    now: int | None = None,
) -> None:
    """Cancels every expired pending order and executes every ready one (a preview `eth_call`
    first: a fill not ready yet waits for a later pass). `mocks`: build pull updates from the mock
    Pyth's stored print; against real feeds none are sent (the adapter reads what is on chain).
    `now`: the time the transactions will run at (default: the latest block's timestamp)."""
    summary.passes += 1
    if now is None:
        now = int(rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    min_delay, max_delay = router.call("minExecutionDelay"), router.call("maxExecutionDelay")
    pull_window = router.call("PULL_FILL_WINDOW")
    pending = index.pending()
    acted = 0
    for account, market_id, order in pending:
        submitted_at, fee = order[4], order[3]
        name = f"{account} market {market_id}"
        if now >= submitted_at + max_delay:
            events = _send(send, "cancelOrder", (account, market_id), 0, name, summary, log)
            if events is None:
                continue
            summary.expired += 1
            acted += 1
            reason = _cancel_reason(events)
            log(
                f"cancelled {name}: {reason}, margin {dollars(order[1], decimals)} back, "
                f"fee {dollars(fee, decimals)} to the keeper"
            )
            continue
        ready_at = submitted_at + max(1, min_delay)
        if now < ready_at:
            summary.waiting += 1
            continue
        round_ids, updates = _pins(oracle, contract_at, market_id, ready_at, pull_window, mocks)
        value = 0
        if updates:
            pyths = [s for s in oracle.call("sourcesOf", market_id) if s[0] == PYTH]
            value = contract_at("MockPythSource", pyths[0][1]).call("getUpdateFee", updates)
        args = (account, market_id, round_ids, updates)
        try:
            router.call("executeOrder", *args, sender=keeper)
        except ChainRevert:
            summary.waiting += 1  # FillNotReady, a source's quorum not in yet: a later pass
            continue
        events = _send(send, "executeOrder", args, value, name, summary, log)
        if events is None:
            continue
        acted += 1
        executed = [args for event, args in events if event == "OrderExecuted"]
        if executed:
            summary.executed += 1
            log(
                f"executed  {name}: size {_size(order[0])} filled at {price_text(executed[0]['price'])} "
                f"(observed at {executed[0]['observedAt']}), fee {dollars(fee, decimals)} to the keeper"
            )
        else:
            summary.refused += 1
            log(f"refused   {name}: {_cancel_reason(events)}, margin back, fee {dollars(fee, decimals)} to the keeper")
    log(
        f"orders    pass {summary.passes} at {now}: {len(pending)} pending, {acted} acted on, "
        f"{summary.executed} executed, {summary.refused} refused, {summary.expired} expired, {summary.failed} failed"
    )


def _pins(
    oracle: LeanContract, contract_at: ContractAt, market_id: int, ready_at: int, pull_window: int, mocks: bool
) -> tuple[list[int], list[bytes]]:
    """The round id of every source (0 for a Pyth one) and the pull updates of the Pyth ones."""
    round_ids, updates = [], []
    for kind, feed, price_id, _, _ in oracle.call("sourcesOf", market_id):
        if kind == CHAINLINK:
            round_ids.append(pinned_round_id(contract_at("MockPriceFeed", feed), ready_at))
            continue
        round_ids.append(0)
        update = pull_update(contract_at("MockPythSource", feed), price_id, ready_at, pull_window) if mocks else None
        if update is not None:
            updates.append(update)
    return round_ids, updates


def _send(
    send: OrderSend, function: str, args: tuple[Any, ...], value: int, what: str, summary: OrderSummary, log: Any
) -> list[tuple[str, Mapping[str, Any]]] | None:
    try:
        return send(function, args, value)
    except Exception as error:
        summary.failed += 1
        log(f"FAILED    {function} {what}: {error}")
        return None


def _cancel_reason(events: list[tuple[str, Mapping[str, Any]]]) -> str:
    reasons = [args["reason"] for event, args in events if event == "OrderCancelled"]
    return _REASONS.get(bytes(reasons[0]), "0x" + bytes(reasons[0]).hex()) if reasons else "no OrderCancelled event"


def _size(size_delta: int) -> str:
    units = abs(size_delta) * 10_000 // WAD
    side = "long" if size_delta > 0 else "short"
    return f"{side} {units // 10_000}.{units % 10_000:04d}"


class OrderKeeper:
    """The order pass wired to a recorded deployment under ape (`scripts/keeper.py`): sends from
    `keeper` (an ape account) and reads each receipt's events back through `rpc`."""

    def __init__(
        self, rpc: RpcClient, registry: Any, project: Any, record: Any, keeper: Any, first_block: int, **tx_kwargs: Any
    ) -> None:
        from chainio.project import lean

        config = record.deployment_config()
        self.rpc, self.registry, self.summary = rpc, registry, OrderSummary()
        self.router_ape = project.OrderRouter.at(record.addresses["orderRouter"])
        self.router = lean(rpc, registry, project.OrderRouter, record.addresses["orderRouter"])
        self.oracle = lean(rpc, registry, project.OracleAdapter, record.addresses["oracle"])
        self.contract_at: ContractAt = lambda name, address: lean(rpc, registry, getattr(project, name), address)
        self.index = OrderIndex(rpc, self.router, first_block)
        self.mocks, self.decimals = config.uses_mocks_only, config.system.collateral_decimals
        self.keeper, self.tx_kwargs = keeper, tx_kwargs

    def send(self, function: str, args: tuple[Any, ...], value: int) -> list[tuple[str, Mapping[str, Any]]]:
        receipt = getattr(self.router_ape, function)(*args, sender=self.keeper, value=value, **self.tx_kwargs)
        logs = self.rpc.request("eth_getTransactionReceipt", [str(receipt.txn_hash)])["logs"]
        return [(event.name, dict(event.args)) for event in map(self.registry.decode_log, logs)]

    def run_pass(self, log: Any) -> None:
        order_pass(
            self.rpc,
            self.router,
            self.oracle,
            self.contract_at,
            self.index,
            self.mocks,
            self.decimals,
            self.keeper.address,
            self.send,
            self.summary,
            log,
        )
