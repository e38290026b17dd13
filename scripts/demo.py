"""`make demo` / `ape run demo`: a small crash on a local Anvil, model and chain side by side.

Three LPs fund the pool, two of them also back it through the safety module, five leveraged
traders submit ETH orders that a keeper fills at the next oracle round (two-step orders: no
trade ever fills at a round already on chain when it was made), then ETH crashes
3,000 -> 2,500 with a gap. ETH's mark is the median of three Chainlink-style sources (quorum
2); each publishes on a 0.5% deviation and its rounds land on chain 60 s late, so some
positions are closed past their bankruptcy price. One source freezes at the gap: the median
of the other two outvotes it and liquidations proceed. A keeper
liquidates whatever the on-chain oracle shows as liquidatable. Every transaction runs on
the Python model and on Anvil (difftest.Ledger checks events and full state after each);
the table prints both sides' numbers for every liquidation.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `ape run` does not put the project root on sys.path.

import click  # noqa: E402
from ape import accounts, chain, project  # noqa: E402
from ape.cli import ConnectedProviderCommand  # noqa: E402
from ape.logging import logger  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from chainio import RpcClient  # noqa: E402
from chainio.project import project_registry  # noqa: E402
from difftest.ledger import Ledger  # noqa: E402
from pymodel.config import SourceConfig, default_config, default_market  # noqa: E402
from pymodel.core import Env  # noqa: E402

WAD = 10**18
FEED = 10**8
ETH = 1
DEVIATION_BPS = 50  # the feed publishes on a 0.5% move...
LATENCY = 60  # ...and its round lands on chain a minute later
STEP = 30  # seconds between looks at the market
SOURCES = 3  # ETH's mark: the median of three feeds, two of them needed (quorum)
FROZEN_SOURCE = 2  # this one stops publishing...
FREEZE_AT = 660  # ...at the gap, while the market keeps falling

# (seconds from start, real ETH price in USD): a slide, a gap, a second leg down.
CRASH = [(0, 3_000), (600, 2_880), (660, 2_880), (690, 2_640), (1_080, 2_500), (1_500, 2_520)]


def real_price(t: int) -> int:
    """The real market price (feed units) at t, linear between the waypoints."""
    for (t0, p0), (t1, p1) in zip(CRASH, CRASH[1:], strict=False):
        if t0 <= t <= t1:
            return (p0 * (t1 - t) + p1 * (t - t0)) * FEED // (t1 - t0)
    return CRASH[-1][1] * FEED


def usd(amount: int, decimals: int = 6) -> str:
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**decimals)
    return f"{sign}{whole:,}.{frac * 100 // 10**decimals:02d}"


def price(wad: int) -> str:
    return usd(wad, 18)


@click.command(cls=ConnectedProviderCommand)
def cli() -> None:
    console = Console(width=160)
    logger.set_level("WARNING")  # ape's per-transaction lines would bury the tables
    rpc = RpcClient(chain.provider.uri)
    start = chain.blocks.head.timestamp + 100
    names = ["owner", "lp-a", "lp-b", "lp-c", "t-9x", "t-9.5x", "t-8x", "t-5x", "t-short", "keeper"]
    actors = [account.address for account in accounts.test_accounts[: len(names)]]
    label = dict(zip(actors, names, strict=True))
    owner, lp_a, lp_b, lp_c, *traders, keeper = actors

    console.print(f"[bold]perp-backstop demo[/] on {chain.provider.name} at {chain.provider.uri}")
    three_sources = tuple(SourceConfig(initial_answer=3_000 * FEED) for _ in range(SOURCES))
    config = default_config(
        markets=[
            default_market(ETH, "ETH-USD", 3_000, 6, sources=three_sources, oracle_quorum=2),
            default_market(2, "BTC-USD", 60_000, 6),
        ]
    )
    ledger = Ledger.deploy(project, accounts.test_accounts[0], actors, config, rpc, project_registry(project), start)
    for name, address in ledger.deployment.addresses.by_name().items():
        console.print(f"  {name:14} {address}")

    # LPs, insurance and traders.
    for lp, amount in ((lp_a, 400_000), (lp_b, 300_000), (lp_c, 300_000)):
        ledger.mint_and_approve(lp, config.usd(amount))
        ledger.act(lp, "pool", "deposit", config.usd(amount), lp)
    ledger.mint_and_approve(owner, config.usd(1_000))
    ledger.act(owner, "insuranceFund", "fund", ETH, config.usd(1_000))
    for staker, amount in ((lp_b, 2_500), (lp_c, 1_500)):
        ledger.mint_and_approve(staker, config.usd(amount))
        ledger.act(staker, "safetyModule", "stake", config.usd(amount))
    book = [(30, 10_000), (40, 12_600), (20, 7_500), (25, 15_000), (-15, 9_000)]  # (ETH, margin USD)
    submitted_at = ledger.now
    for trader, (size, margin) in zip(traders, book, strict=True):
        ledger.mint_and_approve(trader, config.usd(margin) + config.execution_fee)
        limit = 3_100 * WAD if size > 0 else 2_900 * WAD
        ledger.act(trader, "orderRouter", "submitOrder", ETH, size * WAD, config.usd(margin), limit)
    # The next round (observed after the orders, past the minimum delay) lands; the keeper fills.
    ledger.advance(config.min_execution_delay)
    ledger.set_price(ETH, 3_000 * FEED)
    orders = Table(title="Orders: submitted, then filled by the keeper at the next oracle round (model | chain)")
    for column in ("trader", "size (ETH)", "submitted (s)", "round observed (s)", "oracle", "fill", "fee", "match"):
        orders.add_column(column, justify="right")
    for trader in traders:
        filled = ledger.act(keeper, "orderRouter", "executeOrder", trader, ETH, [], [])
        sides = [(o.event("OrderExecuted"), o.event("PositionIncreased")) for o in (filled, ledger.last_chain)]
        (executed, fill), exact = sides[0], filled.events == ledger.last_chain.events
        orders.add_row(
            label[trader],
            str(fill.size_delta // WAD),
            str(submitted_at - start),
            str(executed.observed_at - start),
            price(fill.oracle_price),
            "\n".join(price(f.execution_price) for _, f in sides),
            "\n".join(usd(f.fee) for _, f in sides),
            "[green]exact[/]" if exact else "[red]DIFFERS[/]",
        )
    console.print(orders)

    pool = ledger.deployment.contracts["pool"]
    share_unit = 10 ** pool.call("decimals")
    share_price_before = pool.call("convertToAssets", share_unit)
    bucket_before = ledger.system.c.insurance_fund.bucket_of(ETH)
    staked_before = ledger.system.c.safety_module.total_assets

    # The crash: publish on deviation, land late, liquidate what the chain shows.
    published, pending, rows, rounds = 3_000 * FEED, [], [], []
    for t in range(STEP, CRASH[-1][0] + STEP, STEP):
        ledger.advance(STEP)
        real = real_price(t)
        if abs(real - published) * 10_000 >= DEVIATION_BPS * published:
            published = real
            pending.append((ledger.now + LATENCY, real, ledger.now))
        while pending and pending[0][0] <= ledger.now:
            _, answer, updated_at = pending.pop(0)
            for source in range(SOURCES):
                if source == FROZEN_SOURCE and updated_at - start >= FREEZE_AT:
                    continue  # frozen: its last round stays on chain, fresh but ever more wrong
                ledger.set_source_price(ETH, source, answer, updated_at)
            frozen = ledger.system.c.sources[ETH][FROZEN_SOURCE].latest_round_data().answer
            mark, _ = ledger.system.c.oracle.price_with_time(Env(keeper, ledger.now), ETH)
            rounds.append((updated_at - start, t, answer, frozen, mark, real))
        for trader in traders:
            if ledger.system.c.engine.is_liquidatable(Env(keeper, ledger.now), trader, ETH):
                model = ledger.act(keeper, "engine", "liquidate", trader, ETH)
                rows.append((t, label[trader], model, ledger.last_chain))

    timeline = Table(
        title=f"ETH oracle rounds: published on a {DEVIATION_BPS / 100}% move, landing {LATENCY} s late; "
        f"the mark is the median of {SOURCES} sources (model)"
    )
    columns = ("updatedAt (s)", "landed (s)", "live sources", f"source {FROZEN_SOURCE}", "mark (median)", "real")
    for column in columns:
        timeline.add_column(column, justify="right")
    for updated_at, landed, answer, frozen, mark, real in rounds:
        stuck = f"{usd(frozen, 8)} (frozen)" if updated_at >= FREEZE_AT else usd(frozen, 8)
        timeline.add_row(str(updated_at), str(landed), usd(answer, 8), stuck, price(mark), usd(real, 8))
    console.print(timeline)
    console.print(
        f"Source {FROZEN_SOURCE} froze at t={FREEZE_AT} s: the median of the three sources followed the two live "
        "ones, so the stuck price was outvoted and every liquidation below used the live market."
    )

    table = Table(title="Liquidations: model | chain", show_lines=True)
    for column in (
        "t (s)",
        "trader",
        "oracle",
        "execution",
        "bankruptcy",
        "realised",
        "keeper",
        "penalty",
        "shortfall",
        "insurance",
        "safety module",
        "pool",
        "match",
    ):
        table.add_column(column, justify="right")
    for t, who, model, on_chain in rows:
        sides = []
        for outcome in (model, on_chain):
            liq = outcome.event("Liquidated")
            debt = outcome.events_named("BadDebtSettled")
            layers = ("shortfall", "from_insurance", "from_safety_module", "from_pool")
            debt_values = tuple(getattr(debt[0], f) for f in layers) if debt else (0, 0, 0, 0)
            sides.append(
                (
                    liq.oracle_price,
                    liq.execution_price,
                    liq.bankruptcy_price,
                    liq.realised,
                    liq.keeper_reward,
                    liq.penalty,
                    *debt_values,
                )
            )
        cells = [f"{fmt(a)}\n{fmt(b)}" for (a, b, fmt) in zip(*sides, [price, price, price] + [usd] * 7, strict=True)]
        exact = sides[0] == sides[1] and model.events == on_chain.events
        table.add_row(str(t), who, *cells, "[green]exact[/]" if exact else "[red]DIFFERS[/]")
    console.print(table)

    share_price_after = pool.call("convertToAssets", share_unit)
    debts = [m.event("BadDebtSettled") for _, _, m, _ in rows if m.events_named("BadDebtSettled")]
    summary = Table(title="Summary (chain)")
    summary.add_column("")
    summary.add_column("before", justify="right")
    summary.add_column("after", justify="right")
    summary.add_row("LP share price (USD per share)", usd(share_price_before), usd(share_price_after))
    summary.add_row("ETH insurance bucket", usd(bucket_before), usd(ledger.system.c.insurance_fund.bucket_of(ETH)))
    summary.add_row("safety module assets", usd(staked_before), usd(ledger.system.c.safety_module.total_assets))
    summary.add_row(
        "bad debt: shortfall / insurance / safety module / pool",
        "",
        " / ".join(
            usd(sum(getattr(d, f) for d in debts))
            for f in ("shortfall", "from_insurance", "from_safety_module", "from_pool")
        ),
    )
    console.print(summary)
    verdict = all(r[2].events == r[3].events for r in rows)
    console.print(
        f"{len(ledger.history)} transactions, model == chain after every one (events and full state): "
        + ("[bold green]EXACT MATCH[/]" if verdict else "[bold red]MISMATCH[/]")
    )
