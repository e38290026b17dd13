"""What `ape run status` shows of a deployment, read from its views in one pass: each market
(mark and its sources' status, open interest, ADL ratios and flags, insurance per OI), the
pool, the insurance buckets, the safety module, the uncovered deficit, and each open position
with its liquidation and bankruptcy prices and its place in the ADL queue (a quantile by the
ranking score, as the venues' public indicator: 5 = first to be deleveraged)."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any

from chainio.contract import ChainRevert, LeanContract
from chainio.keeper import decimal, usd
from pymodel.oracle_adapter import MarkStatus, SourceHealth


def _label(member: IntEnum) -> str:
    """An IOracleAdapter enum value as the status line prints it (MarkStatus.SPREAD_TOO_WIDE:
    "spread too wide"), from the model's mirror of the enum."""
    return member.name.lower().replace("_", " ")


LIGHTS = 5


def adl_lights(rank: int, count: int) -> int:
    """1..5: the top fifth of the side's profitable positions by score shows 5 (rank 0 first)."""
    return -(-LIGHTS * (count - rank) // count)


def snapshot(
    contracts: dict[str, LeanContract],
    market_ids: list[int],
    positions: list[tuple[str, int]],
    decimals: int,
    ranking: Callable[[int, bool], list[str]] | None = None,
) -> dict[str, Any]:
    """Plain data (ints, strings): `--json` prints it as is. `ranking(market, is_long)` is the
    side's profitable accounts, first to be deleveraged first (None: not known, real feeds)."""
    engine, oracle, pool = contracts["engine"], contracts["oracle"], contracts["pool"]
    insurance, sm = contracts["insuranceFund"], contracts["safetyModule"]
    markets = []
    for market_id in market_ids:
        state = engine.call("marketState", market_id)
        status, fresh, agreeing, first_fault = oracle.call("markStatus", market_id)
        try:
            mark: int | None = oracle.call("price", market_id)
        except ChainRevert:
            mark = None
        ratios = {}
        for side, is_long in (("long", True), ("short", False)):
            try:
                ratios[side] = engine.call("sideProfitRatio", market_id, is_long)
            except ChainRevert as revert:
                ratios[side] = f"reverted {revert.name}"
        bucket = insurance.call("bucketOf", market_id)
        oi = None if mark is None else (state[1] + state[2]) * mark // 10**18 // 10 ** (18 - decimals)
        markets.append(
            {
                "market_id": market_id,
                "mark": mark,
                "mark_status": _label(MarkStatus(status)),
                "sources_fresh": fresh,
                "sources_agreeing": agreeing,
                "first_source_fault": _label(SourceHealth(first_fault)),
                "long_size": state[1],
                "short_size": state[2],
                "long_positions": state[11],
                "short_positions": state[12],
                "adl_ratio_bps": ratios,
                "adl_active": {"long": state[9], "short": state[10]},
                "insurance_bucket": bucket,
                "open_interest": oi,
                "insurance_per_oi_bps": None if not oi else bucket * 10_000 // oi,
            }
        )
    rows = []
    rankings = {}
    for account, market_id in positions:
        position = engine.call("positionOf", account, market_id)
        side = (market_id, position[0] > 0)
        if ranking is not None and side not in rankings:
            rankings[side] = ranking(*side)
        queue = rankings.get(side)
        lights = None
        if queue is not None:
            lights = adl_lights(queue.index(account), len(queue)) if account in queue else 0
        rows.append(
            {
                "account": account,
                "market_id": market_id,
                "size": position[0],
                "margin": position[1],
                "equity": engine.call("equity", account, market_id),
                "liquidation_price": engine.call("liquidationPrice", account, market_id),
                "bankruptcy_price": engine.call("bankruptcyPrice", account, market_id),
                "liquidatable": engine.call("isLiquidatable", account, market_id),
                "adl_queue": lights,
            }
        )
    return {
        "decimals": decimals,
        "markets": markets,
        "pool": {
            "cash": pool.call("cash"),
            "shares": pool.call("totalSupply"),
            "assets_for_deposit": _or_none(pool, "totalAssetsForDeposit"),
            "assets_for_redeem": _or_none(pool, "totalAssetsForRedeem"),
        },
        "safety_module": {
            "assets": sm.call("totalAssets"),
            "shares": sm.call("totalShares"),
            "slash_cap": _or_none(sm, "slashCap"),
        },
        "uncovered_deficit": engine.call("uncoveredDeficit"),
        "positions": rows,
    }


def _or_none(contract: LeanContract, function: str) -> Any:
    try:
        return contract.call(function)
    except ChainRevert:
        return None


def _price(value: int | None) -> str:
    return "n/a" if value is None else usd(value, 18)


def _money(value: int | None, decimals: int) -> str:
    return "n/a" if value is None else usd(value, decimals)


def render(data: dict[str, Any]) -> list[str]:
    d = data["decimals"]
    lines = []
    for m in data["markets"]:
        ratio = m["adl_ratio_bps"]
        shown = {side: decimal(r, 2) + "%" if isinstance(r, int) else r for side, r in ratio.items()}
        lines.append(
            f"market {m['market_id']}: mark {_price(m['mark'])} ({m['mark_status']}, {m['sources_fresh']} fresh, "
            f"{m['sources_agreeing']} agreeing), long {decimal(m['long_size'], 18, 0)} ({m['long_positions']} pos) / "
            f"short {decimal(m['short_size'], 18, 0)} ({m['short_positions']} pos), ADL ratio long {shown['long']}"
            f"{' ACTIVE' if m['adl_active']['long'] else ''} short {shown['short']}"
            f"{' ACTIVE' if m['adl_active']['short'] else ''}, insurance {_money(m['insurance_bucket'], d)}"
            f" ({'n/a' if m['insurance_per_oi_bps'] is None else decimal(m['insurance_per_oi_bps'], 2) + '%'} of OI)"
        )
    p, s = data["pool"], data["safety_module"]
    lines.append(
        f"pool: cash {_money(p['cash'], d)}, {decimal(p['shares'], d)} shares, assets "
        f"{_money(p['assets_for_redeem'], d)} (redeem) / {_money(p['assets_for_deposit'], d)} (deposit); "
        f"uncovered deficit {_money(data['uncovered_deficit'], d)}"
    )
    lines.append(f"safety module: {_money(s['assets'], d)} staked, slash cap now {_money(s['slash_cap'], d)}")
    for r in data["positions"]:
        queue = "n/a" if r["adl_queue"] is None else f"{r['adl_queue']}/{LIGHTS}"
        lines.append(
            f"  {r['account']} market {r['market_id']}: size {decimal(r['size'], 18, 0)}, "
            f"margin {usd(r['margin'], d)}, equity {usd(r['equity'], d)}, "
            f"liquidation {_price(r['liquidation_price'])}, bankruptcy "
            f"{_price(r['bankruptcy_price'])}{', LIQUIDATABLE' if r['liquidatable'] else ''}, ADL queue {queue}"
        )
    return lines
