"""One keeper pass over a recorded deployment: open positions from the engine's events,
`previewLiquidation` on each, liquidation where the reward covers the gas cost, then ADL steps
(`pymodel.adl.adl_plan` on the model rebuilt from the chain's history) where a side is over
its trigger, and `syncAdl` where a side's stored ADL flag outlived its ratio (at or below the
target with nobody observing it), and `refreshBankruptcyBound` where a side's bankruptcy bound
is looser than its open positions need (the pool's redemption mark would read too low). Sending
is injected, so the pass is the same on a testnet and in tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chainio.contract import ChainRevert, LeanContract
from chainio.rpc import RpcClient

WAD = 10**18


def decimal(value: int, decimals: int, places: int = 2) -> str:
    """`value / 10**decimals` written exactly (ints only), thousands grouped, trailing zeros
    dropped down to `places` fractional digits."""
    sign = "-" if value < 0 else ""
    whole, fraction = divmod(abs(value), 10**decimals)
    digits = f"{fraction:0{decimals}d}".rstrip("0").ljust(places, "0") if decimals else ""
    return f"{sign}{whole:,}" + (f".{digits}" if digits else "")


def usd(units: int, decimals: int) -> str:
    """Collateral units as dollars: `$5,521.130473`."""
    text = decimal(units, decimals)
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


@dataclass
class Summary:
    iterations: int = 0
    checked: int = 0
    liquidated: int = 0
    unprofitable: int = 0
    adl_steps: int = 0
    adl_flags_cleared: int = 0
    bounds_refreshed: int = 0
    failed: int = 0
    rewards: int = 0  # collateral units, from the Liquidated events
    bad_debt: int = 0  # collateral units, from the BadDebtSettled events
    lines: list[str] = field(default_factory=list)

    def line(self, decimals: int = 6) -> str:
        return (
            f"summary: {self.iterations} pass(es), {self.checked} position check(s), {self.liquidated} "
            f"liquidated (rewards {usd(self.rewards, decimals)}, bad debt {usd(self.bad_debt, decimals)}), "
            f"{self.unprofitable} below the gas cost, {self.adl_steps} ADL step(s), "
            f"{self.adl_flags_cleared} ADL flag(s) cleared, {self.bounds_refreshed} bound(s) refreshed, "
            f"{self.failed} failed"
        )

    def heartbeat(self, block: int, positions: int, before: Summary, seconds: float) -> str:
        """One line per pass: what this pass did (against the counts `before` it)."""
        return (
            f"pass {self.iterations} at block {block}: {positions} open position(s), "
            f"{self.liquidated - before.liquidated} liquidated, {self.adl_steps - before.adl_steps} ADL step(s), "
            f"{self.bounds_refreshed - before.bounds_refreshed} bound(s), {self.failed - before.failed} failed "
            f"({seconds:.1f} s)"
        )


@dataclass(frozen=True)
class Sent:
    """A mined transaction: its hash and its events as (name, values in ABI order)."""

    tx_hash: str
    events: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def event(self, name: str) -> tuple[Any, ...] | None:
        return next((values for event, values in self.events if event == name), None)


# (function, args) -> what was mined (a Sent, or just its hash); raises ChainRevert / any
# exception when the transaction fails.
Send = Callable[[str, tuple[Any, ...]], "Sent | str"]


def _try_send(send: Send, function: str, args: tuple[Any, ...], what: str, summary: Summary, log: Any) -> Sent | None:
    """What was mined, or None when it failed (a race with another keeper, a price move):
    counted, reported as `FAILED <function> <what>: <error>`, and the pass goes on."""
    try:
        sent = send(function, args)
    except Exception as error:
        summary.failed += 1
        log(f"FAILED    {function} {what}: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
        return None
    return sent if isinstance(sent, Sent) else Sent(str(sent))


class PositionIndex:
    """Every (account, market) an engine event named, scanned once, in block ranges of `chunk`
    (public RPCs cap `eth_getLogs` ranges); `refresh` scans the new blocks and returns the pairs
    that still hold a position."""

    def __init__(self, rpc: RpcClient, engine: LeanContract, from_block: int, chunk: int = 5_000) -> None:
        self.rpc = rpc
        self.engine = engine
        self.next_block = from_block
        self.chunk = chunk
        self.seen: dict[tuple[str, int], None] = {}

    def refresh(self) -> list[tuple[str, int]]:
        head = int(self.rpc.request("eth_blockNumber"), 16)
        while self.next_block <= head:
            last = min(head, self.next_block + self.chunk - 1)
            query = {"address": self.engine.address, "fromBlock": hex(self.next_block), "toBlock": hex(last)}
            for log in self.rpc.request("eth_getLogs", [query]):
                values = dict(self.engine.registry.decode_log(log).args)
                if "account" in values and "marketId" in values:
                    self.seen[(values["account"], values["marketId"])] = None
            self.next_block = last + 1
        candidates = list(self.seen)
        if not candidates:
            return []
        positions = self.engine.call_many([("positionOf", pair) for pair in candidates], raise_reverts=True)
        return [pair for pair, position in zip(candidates, positions, strict=True) if position[0] != 0]


def open_positions(rpc: RpcClient, engine: LeanContract, from_block: int) -> list[tuple[str, int]]:
    """Every (account, market) some engine event named, that still has a position."""
    return PositionIndex(rpc, engine, from_block).refresh()


def liquidation_pass(
    engine: LeanContract,
    positions: list[tuple[str, int]],
    gas_cost: int,
    send: Send,
    summary: Summary,
    log: Any,
    decimals: int = 6,
) -> None:
    """Liquidates each position whose preview pays at least `gas_cost` (collateral units); the
    line reports what the chain's `Liquidated` / `BadDebtSettled` events say happened (the
    preview's expectation where a sender gives no events), in dollars."""
    previews = engine.call_many([("previewLiquidation", pair) for pair in positions])
    for (account, market_id), preview in zip(positions, previews, strict=True):
        summary.checked += 1
        if isinstance(preview, ChainRevert):
            continue  # PositionHealthy, LiquidationCooldown, a stale oracle: nothing to do now
        (_, execution, _, size_closed, realised, reward, penalty, refund, shortfall, f_if, f_sm, f_pool, _) = preview
        if reward < gas_cost:
            summary.unprofitable += 1
            log(
                f"skip      {account} market {market_id}: reward {usd(reward, decimals)} "
                f"< gas cost {usd(gas_cost, decimals)}"
            )
            continue
        sent = _try_send(send, "liquidate", (account, market_id), f"{account} market {market_id}", summary, log)
        if sent is None:
            continue
        summary.liquidated += 1
        source = "events"
        if (event := sent.event("Liquidated")) is not None:
            (_, _, _, _, execution, _, size_closed, realised, reward, penalty, refund) = event
            debt = sent.event("BadDebtSettled")
            shortfall, f_if, f_sm, f_pool = debt[2:6] if debt is not None else (0, 0, 0, 0)
        else:
            source = "preview"
        summary.rewards += reward
        summary.bad_debt += shortfall
        split = (
            f", bad debt {usd(shortfall, decimals)} (insurance {usd(f_if, decimals)}, safety module "
            f"{usd(f_sm, decimals)}, pool {usd(f_pool, decimals)})"
            if shortfall
            else ""
        )
        log(
            f"liquidated {account} market {market_id}: size {decimal(size_closed, 18, 0)} at "
            f"{usd(execution, 18)}, realised {usd(realised, decimals)}, reward {usd(reward, decimals)}, "
            f"penalty {usd(penalty, decimals)}, refund {usd(refund, decimals)}{split} ({source}) tx {sent.tx_hash}"
        )


# MarketState fields the bound pass reads (IPerpEngine.MarketState order).
LONG_POSITIONS, SHORT_POSITIONS, LONG_BOUND, SHORT_BOUND = 11, 12, 13, 14


def bound_pass(
    engine: LeanContract,
    market_ids: list[int],
    positions: list[tuple[str, int]],
    send: Send,
    summary: Summary,
    log: Any,
) -> None:
    """`refreshBankruptcyBound` on every side whose stored bound is looser than the exact one of
    its open positions (`positions`: every (account, market) that may hold one, e.g. from
    `PositionIndex`). A bound only ever widens by itself, so once the position that set it is gone
    the redemption mark deducts too much (an LP's exit priced low: docs/DESIGN.md, "Mark"); the
    refresh lists the side's accounts, ascending, and costs gas in their number. A side whose open
    count differs from the positions found (one opened since the scan) waits for the next pass."""
    from pymodel.engine import Position, bankruptcy_key

    scale = engine.call("notionalScale")
    held = engine.call_many([("positionOf", pair) for pair in positions], raise_reverts=True)
    for market_id in market_ids:
        state = engine.call("marketState", market_id)
        for is_long, count, stored in (
            (True, state[LONG_POSITIONS], state[LONG_BOUND]),
            (False, state[SHORT_POSITIONS], state[SHORT_BOUND]),
        ):
            side = [
                (account, Position(*position))
                for (account, market), position in zip(positions, held, strict=True)
                if market == market_id and position[0] != 0 and (position[0] > 0) == is_long
            ]
            if not side:
                continue
            keys = [bankruptcy_key(position, scale) for _, position in side]
            exact = max(keys) if is_long else min(keys)
            name = f"market {market_id} {'long' if is_long else 'short'}"
            if exact == stored:
                continue
            if len(side) != count:
                log(f"bound     {name}: {len(side)} of {count} open positions found, next pass")
                continue
            accounts = sorted((account for account, _ in side), key=lambda account: int(account, 16))
            sent = _try_send(send, "refreshBankruptcyBound", (market_id, is_long, accounts), name, summary, log)
            if sent is None:
                continue
            summary.bounds_refreshed += 1
            if (event := sent.event("BankruptcyBoundRefreshed")) is not None:
                exact = event[2]
            log(f"bound     {name} refreshed from {stored} to {exact} ({len(accounts)} positions) tx {sent.tx_hash}")


def adl_sides(engine: LeanContract, market_ids: list[int]) -> tuple[list[tuple[int, bool]], list[tuple[int, bool]]]:
    """(market, is_long) sides whose profit ratio is over the trigger (or, once open, the target),
    and sides whose stored flag is set while the ratio is at or below the target (ADL is closed
    there whatever the flag says, but a stale flag would reopen it above the target, below the
    trigger: `syncAdl` clears it)."""
    trigger, target = engine.call("adlTriggerBps"), engine.call("adlTargetBps")
    triggered, stale = [], []
    for market_id in market_ids:
        state = engine.call("marketState", market_id)
        for is_long, active in ((True, state[9]), (False, state[10])):
            try:
                ratio = engine.call("sideProfitRatio", market_id, is_long)
            except ChainRevert:
                continue
            if ratio > (target if active else trigger):
                triggered.append((market_id, is_long))
            elif active:
                stale.append((market_id, is_long))
    return triggered, stale


def adl_pass(
    rpc: RpcClient,
    engine: LeanContract,
    market_ids: list[int],
    model_now: Callable[[], Any] | None,
    keeper: str,
    send: Send,
    summary: Summary,
    log: Any,
    decimals: int = 6,
) -> None:
    """`syncAdl` on every side whose flag outlived its ratio, then ADL steps in `adl_plan`'s
    order on every triggered side. `model_now()` is the model of the deployment as the chain
    holds it now (a System); None where the model cannot mirror it (real feeds): triggered sides
    are then reported, not acted on."""
    from pymodel.adl import adl_plan
    from pymodel.core import Env

    sides, stale = adl_sides(engine, market_ids)
    for market_id, is_long in stale:
        side = "long" if is_long else "short"
        sent = _try_send(send, "syncAdl", (market_id, is_long), f"market {market_id} {side}", summary, log)
        if sent is None:
            continue
        summary.adl_flags_cleared += 1
        synced = sent.event("AdlFlagSynced")
        ratio = f" at {decimal(synced[2], 2)}%" if synced is not None else ""
        log(f"ADL flag  market {market_id} {side} cleared (ratio{ratio} at or below the target) tx {sent.tx_hash}")
    if not sides:
        return
    if model_now is None:
        for market_id, is_long in sides:
            log(f"ADL       market {market_id} {'long' if is_long else 'short'} triggered: real feeds, no model plan")
        return
    if not engine.call("isAdlKeeper", keeper):
        for market_id, is_long in sides:
            side = "long" if is_long else "short"
            log(f"ADL       market {market_id} {side} triggered: {keeper} lacks the ADL keeper role (setAdlKeeper)")
        return
    head = rpc.request("eth_getBlockByNumber", ["latest", False])
    system = model_now()
    env = Env(keeper, int(head["timestamp"], 16))
    for market_id, is_long in sides:
        side = "long" if is_long else "short"
        for account, reduction in adl_plan(system.c.engine, env, market_id, is_long):
            what = f"{account} market {market_id} {side} by {reduction}"
            sent = _try_send(send, "autoDeleverage", (account, market_id, reduction), what, summary, log)
            if sent is None:
                break
            summary.adl_steps += 1
            step = sent.event("AutoDeleveraged")
            result = (
                f" (closed {decimal(abs(step[3]), 18, 0)} at {usd(step[4], 18)}, realised {usd(step[5], decimals)},"
                f" ratio {decimal(step[7], 2)}% -> {decimal(step[8], 2)}%)"
                if step is not None
                else ""
            )
            log(f"ADL       {account} market {market_id} {side} reduced by {reduction}{result} tx {sent.tx_hash}")
