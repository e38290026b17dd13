"""What `ape run watch` prints: one line per compared block (trades, liquidations with their
waterfall split, ADL, deposits and stakes, oracle rounds) and the risk panel, in dollars. Read
from the chain's decoded events and the model (equal to the chain once a block is compared)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from chainio.watch import BlockReport, TxReport
from pymodel.core import Env
from pymodel.errors import Revert
from pymodel.system import System

WAD = 10**18


def amount(value: int, decimals: int, places: int = 2) -> str:
    """`value` in units of 10**-decimals as a decimal string, truncated to `places` (exact: no floats)."""
    sign, value = ("-", -value) if value < 0 else ("", value)
    whole, fraction = divmod(value, 10**decimals)
    digits = f"{fraction:0{decimals}d}"[:places] if decimals else ""
    return f"{sign}{whole:,}" + (f".{digits.ljust(places, '0')}" if places else "")


def usd(value: int, decimals: int) -> str:
    return "-$" + amount(-value, decimals) if value < 0 else "$" + amount(value, decimals)


def short(address: str) -> str:
    return address[:8] + "…"


def _event_line(
    event: Any, decimals: int, names: dict[str, str], feed_decimals: dict[str, int], by_name: dict[str, Any]
) -> str | None:
    """One event worth a reader's attention, or None. `names`: the model's name of each system
    address; `feed_decimals`: each feed's; `by_name`: the transaction's events by name."""
    a = dict(event.args)
    name = event.name
    size = lambda v: amount(v, 18, 4)  # noqa: E731 (base units: 1e18)
    price = lambda v: usd(v, 18)  # noqa: E731 (WAD)
    if name == "PositionIncreased":
        return (
            f"open {short(a['account'])} m{a['marketId']} {size(a['sizeDelta'])} at {price(a['executionPrice'])} "
            f"(size {size(a['size'])}, margin {usd(a['margin'], decimals)}, fee {usd(a['fee'], decimals)})"
        )
    if name == "PositionDecreased":
        return (
            f"close {short(a['account'])} m{a['marketId']} {size(a['sizeDelta'])} at {price(a['executionPrice'])} "
            f"(pnl {usd(a['realisedPnl'], decimals)}, size {size(a['size'])}, paid out {usd(a['payout'], decimals)})"
        )
    if name == "Liquidated":
        line = (
            f"LIQUIDATED {short(a['account'])} m{a['marketId']} {size(a['sizeClosed'])} at "
            f"{price(a['executionPrice'])} (oracle {price(a['oraclePrice'])}, "
            f"bankruptcy {price(a['bankruptcyPrice'])}), "
            f"reward {usd(a['keeperReward'], decimals)}"
        )
        for debt in by_name.get("BadDebtSettled", []):
            d = dict(debt.args)
            if d["account"] == a["account"] and d["marketId"] == a["marketId"]:
                line += (
                    f", bad debt {usd(d['shortfall'], decimals)} = insurance {usd(d['fromInsurance'], decimals)} "
                    f"+ safety module {usd(d['fromSafetyModule'], decimals)} + pool {usd(d['fromPool'], decimals)}"
                )
        return line
    if name == "AutoDeleveraged":
        return (
            f"ADL {short(a['account'])} m{a['marketId']} {size(a['sizeClosed'])} at {price(a['oraclePrice'])} "
            f"(pnl {usd(a['realisedPnl'], decimals)}, side ratio {a['ratioBeforeBps']} -> {a['ratioAfterBps']} bps)"
        )
    if name == "ProfitHaircut":
        return f"haircut {short(a['account'])} {usd(a['haircut'], decimals)} of {usd(a['owed'], decimals)}"
    if name == "DeficitUncovered":
        return f"uncovered deficit +{usd(a['amount'], decimals)} (total {usd(a['total'], decimals)})"
    if name == "OrderSubmitted":
        return (
            f"order {short(a['account'])} m{a['marketId']} {size(a['sizeDelta'])} margin {usd(a['marginIn'], decimals)}"
        )
    if name == "OrderCancelled":
        return f"order of {short(a['account'])} m{a['marketId']} cancelled (reason {a['reason']})"
    if name == "Deposit" and names.get(event.emitter) == "pool":
        return f"LP deposit {usd(a['assets'], decimals)} by {short(a['sender'])}"
    if name == "RedeemRequested":
        return f"LP redeem request {short(a['owner'])} {usd(a['assets'], decimals)}"
    if name == "Withdraw":
        return f"LP withdraw {usd(a['assets'], decimals)} to {short(a['receiver'])}"
    if name == "Staked":
        return f"stake {usd(a['assets'], decimals)} by {short(a['staker'])}"
    if name == "UnstakeRequested":
        return f"unstake request {short(a['staker'])} {usd(a['assets'], decimals)}"
    if name == "BucketFunded":
        return f"insurance m{a['marketId']} +{usd(a['amount'], decimals)}"
    if name == "AnswerUpdated":
        feed = names.get(event.emitter, short(event.emitter))
        return f"{feed} round {a['roundId']}: {usd(a['current'], feed_decimals.get(event.emitter, 0))}"
    if name == "Transfer" and names.get(event.emitter) == "token" and int(a["from"], 16) == 0:
        return f"mint {usd(a['value'], decimals)} to {short(a['to'])}"
    if name == "SourceSet":
        return f"oracle m{a['marketId']} source {a['index']} = {a['feed']}"
    return None


def tx_line(tx: TxReport, decimals: int, names: dict[str, str], feed_decimals: dict[str, int]) -> str:
    head = f"{tx.contract}.{tx.function} from {short(tx.sender)}"
    if tx.outcome.reverted:
        error = tx.outcome.error
        return f"{head}: reverted {error[0] if error else ''}"
    by_name: dict[str, list[Any]] = {}
    for event in tx.events:
        by_name.setdefault(event.name, []).append(event)
    parts = [line for e in tx.events if (line := _event_line(e, decimals, names, feed_decimals, by_name)) is not None]
    return f"{head}: " + "; ".join(parts) if parts else head


def block_lines(report: BlockReport, system: System, deployed_block: int) -> list[str]:
    """`block N t=T: k tx, state = model` then one indented line per transaction (blocks of the
    deployment's own steps print nothing until the last: `deployed`)."""
    if report.number < deployed_block and not report.transactions:
        return []
    decimals = system.config.collateral_decimals
    names = {address: name for name, address in system.addresses.by_name().items()}
    feed_decimals = {
        address: system.c.by_name(name).decimals for address, name in names.items() if name.startswith("feed")
    }
    what = f"{len(report.transactions)} tx"
    if report.number == deployed_block:
        what = "deployed" + (f", {what}" if report.transactions else "")
    compared = "state = model" if report.state_compared else "state not compared (deploying)"
    lines = [f"block {report.number} t={report.timestamp}: {what}, {compared}"]
    lines += [f"  {tx_line(tx, decimals, names, feed_decimals)}" for tx in report.transactions]
    return lines


def risk_panel(system: System, timestamp: int, title: str) -> Table:
    """Per market: the mark's source round, open interest, positions, ADL; then the backstop."""
    c = system.c
    decimals = system.config.collateral_decimals
    engine = c.engine
    table = Table(title=title, title_justify="left")
    for column in ("market", "feed price", "long OI", "short OI", "positions L/S", "ADL ratio L/S bps", "insurance"):
        table.add_column(column, justify="right")
    open_interest = 0
    for market in system.config.markets:
        m = market.market_id
        state = engine.market_state(m)
        feed = c.sources[m][0]
        answer = feed.latest_round_data()
        feed_price = usd(answer[1], feed.decimals)
        mark = answer[1] * 10 ** (18 - feed.decimals)
        scale = engine.notional_scale
        long_oi = state.long_size * mark // scale
        short_oi = state.short_size * mark // scale
        open_interest += long_oi + short_oi
        ratios = []
        for is_long, active in ((True, state.adl_long_active), (False, state.adl_short_active)):
            try:
                ratio = str(engine.side_profit_ratio(Env(system.addresses.engine, timestamp), m, is_long))
            except Revert as error:
                ratio = type(error).__name__
            ratios.append(ratio + ("*" if active else ""))
        table.add_row(
            f"{m} {market.symbol}",
            feed_price,
            usd(long_oi, decimals),
            usd(short_oi, decimals),
            f"{state.long_positions}/{state.short_positions}",
            " / ".join(ratios),
            usd(c.insurance_fund.bucket_of(m), decimals),
        )
    insurance = sum(c.insurance_fund.buckets.values())
    bps = insurance * 10_000 // open_interest if open_interest else None
    ratio = f"{bps // 100}.{bps % 100:02d}%" if bps is not None else "-"
    table.caption = (
        f"pool cash {usd(c.pool.cash, decimals)}, "
        f"safety module {usd(c.safety_module.total_assets, decimals)}, insurance/OI {ratio}, "
        f"uncovered deficit {usd(engine.uncovered_deficit, decimals)}, socialised loss "
        f"{usd(engine.socialised_loss, decimals)}"
    )
    table.caption_justify = "left"
    return table
