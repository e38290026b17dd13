"""Validated parameters: the single source of truth for deployment, the model and the simulator.

Every amount is an integer in its on-chain unit (collateral units with `collateral_decimals`,
sizes in 1e18 base units, WAD prices, bps). The cross-field rules are the contract's own
(`pymodel.engine.market_params_validator`), so a config that validates here deploys on chain.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pymodel.engine import (
    BPS,
    MAX_KEEPER_FIXED_REWARD,
    MAX_KEEPER_REWARD_BPS,
    MAX_KEEPER_REWARD_CAP,
    MAX_LIQUIDATION_PENALTY_BPS,
    MAX_MARKETS,
    MAX_PARTIAL_LIQUIDATION_COOLDOWN,
    MAX_TRADING_FEE_BPS,
    MarketParams,
    validate_market_params,
)
from pymodel.errors import Revert
from pymodel.evm import UINT256_MAX
from pymodel.lp_pool import MAX_REDEEM_TIMING, MIN_REDEEM_TIMING

# OracleAdapter's bounds (contracts/OracleAdapter.sol), enforced identically by `setOracle`.
from pymodel.oracle_adapter import (
    MAX_AGE_LIMIT,
    MAX_BAND_BPS,
    MAX_BAND_WINDOW,
    MAX_CONF_BPS,
    MAX_FEED_DECIMALS,
    MAX_GRACE_PERIOD,  # noqa: F401 (chainio.deploy reads it from here)
    MAX_PRICE_LIMIT,
    MAX_PULL_LAG_TOLERANCE,
    MAX_SOURCES,
    MAX_SPREAD_BPS,
)
from pymodel.order_router import MAX_MAX_EXECUTION_DELAY, MAX_MIN_EXECUTION_DELAY
from pymodel.safety_module import (
    MAX_EXIT_DELAY,
    MAX_PERIOD,
    MAX_SLASH_BPS,
    MIN_EXIT_DELAY,
    MIN_SLASH_BPS,
    MIN_SLASH_WINDOW,
)
from pymodel.units import notional_scale

Bps = Annotated[int, Field(ge=0, le=BPS)]
Uint = Annotated[int, Field(ge=0, le=UINT256_MAX)]
Seconds = Annotated[int, Field(gt=0, le=365 * 24 * 3600)]
# Bounds of LPPool.setRedeemTiming and SafetyModule.setParams (the contracts' constants).
ExitPeriod = Annotated[int, Field(ge=MIN_REDEEM_TIMING, le=MAX_REDEEM_TIMING)]
SlashBps = Annotated[int, Field(ge=MIN_SLASH_BPS, le=MAX_SLASH_BPS)]
SlashWindow = Annotated[int, Field(ge=MIN_SLASH_WINDOW, le=MAX_PERIOD)]
ExitDelay = Annotated[int, Field(ge=MIN_EXIT_DELAY, le=MAX_EXIT_DELAY)]

# What each cross-field rule of MarketParamsValidator.validate requires, by parameter name.
MARKET_RULES = {
    "initialMarginBps": "must be in [1, 10000]",
    "tierMaintenanceBps": (
        "each tier must be in [1, initial_margin_bps) and not below the previous tier, and 90% of the first must "
        "cover liquidation_slippage_bps + max_impact_bps + keeper_reward_bps + "
        "ceil(keeper_fixed_reward * 10000 / min_notional) (a liquidation at the trigger leaves no shortfall)"
    ),
    "tierNotionalCaps": "caps must strictly increase and the last must be 2**256-1",
    "spreadBps": "must be below 10000",
    "impactBps": "must be at most 10000",
    "liquidationSlippageBps": "must be below 10000",
    "maxImpactBps": "must be below 10000 - max(spread_bps, liquidation_slippage_bps)",
    "impactReferenceNotional": "must be positive",
    "tradingFeeBps": f"must be at most {MAX_TRADING_FEE_BPS}",
    "liquidationPenaltyBps": f"must be at most {MAX_LIQUIDATION_PENALTY_BPS}",
    "keeperFixedReward": f"must be at most {MAX_KEEPER_FIXED_REWARD} whole collateral units",
    "keeperRewardBps": f"must be at most {MAX_KEEPER_REWARD_BPS}",
    "keeperRewardCap": f"must be in [keeper_fixed_reward, {MAX_KEEPER_REWARD_CAP} whole collateral units]",
    "partialLiquidationBps": (
        "must be in [1, 10000], and the smallest partial step, partial_liquidation_bps of "
        "max(partial_liquidation_threshold, min_notional), must be at least min_notional"
    ),
    "partialLiquidationCooldown": f"must be in [1, {MAX_PARTIAL_LIQUIDATION_COOLDOWN}] seconds",
    "maxFundingRatePerSecond": "must be at most 1e18 / 86400 (100% a day)",
    "skewScale": "must be positive",
    "maxLongOpenInterest": "must be positive",
    "maxShortOpenInterest": "must be positive",
    "minMargin": "must be positive and at least 2 x keeper_fixed_reward",
    "minNotional": "must be in [1, tier_notional_caps[0]]",
}


INT64_MAX = 2**63 - 1


class SourceConfig(BaseModel):
    """One price source of a market's mark: a Chainlink-style feed (a `MockPriceFeed` locally) or
    a Pyth price id (a `MockPythSource` locally, exponent `-decimals`), with its own max age."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["chainlink", "pyth"] = "chainlink"
    decimals: Annotated[int, Field(ge=0, le=MAX_FEED_DECIMALS)] = 8
    max_age: Annotated[int, Field(gt=0, le=MAX_AGE_LIMIT)] = 3600 + 600
    initial_answer: Annotated[int, Field(gt=0)]

    @model_validator(mode="after")
    def _pyth_fits(self) -> SourceConfig:
        if self.kind == "pyth" and self.initial_answer > INT64_MAX:
            raise ValueError(
                f"initial_answer={self.initial_answer} of a pyth source must be at most {INT64_MAX} (int64)"
            )
        return self


class MarketConfig(BaseModel):
    """One market: its oracle sources and rules, and its IPerpEngine.MarketParams."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    market_id: Annotated[int, Field(ge=0, le=UINT256_MAX)]
    symbol: str
    feed_decimals: Annotated[int, Field(ge=0, le=MAX_FEED_DECIMALS)] = 8
    initial_answer: Annotated[int, Field(gt=0)]
    oracle_max_age: Annotated[int, Field(gt=0, le=MAX_AGE_LIMIT)]

    initial_margin_bps: Bps
    tier_notional_caps: tuple[Uint, Uint, Uint, Uint]
    tier_maintenance_bps: tuple[Bps, Bps, Bps, Bps]
    spread_bps: Bps
    impact_bps: Bps
    impact_reference_notional: Uint
    max_impact_bps: Bps
    trading_fee_bps: Bps
    liquidation_slippage_bps: Bps
    liquidation_penalty_bps: Bps
    keeper_fixed_reward: Uint
    keeper_reward_bps: Bps
    keeper_reward_cap: Uint
    partial_liquidation_threshold: Uint
    partial_liquidation_bps: Bps
    partial_liquidation_cooldown: Uint
    max_funding_rate_per_second: Uint
    skew_scale: Uint
    max_long_open_interest: Uint
    max_short_open_interest: Uint
    min_margin: Uint
    min_notional: Uint
    # The mark (OracleAdapter.setOracle). No `sources`: one Chainlink source made of
    # `feed_decimals`, `initial_answer` and `oracle_max_age` (the single-feed market).
    sources: Annotated[tuple[SourceConfig, ...], Field(max_length=MAX_SOURCES)] = ()
    oracle_quorum: Annotated[int, Field(ge=1, le=MAX_SOURCES)] = 1
    oracle_max_spread_bps: Annotated[int, Field(ge=0, le=MAX_SPREAD_BPS)] = 500
    price_band_bps: Annotated[int, Field(ge=0, le=MAX_BAND_BPS)] = 2_500
    price_band_window: Annotated[int, Field(ge=0, le=MAX_BAND_WINDOW)] = 900
    # The mark's sanity bound (WAD): a higher mark degrades the market (`PriceAboveBound`).
    # 0: MAX_PRICE_LIMIT, the most the pool's valuation can carry.
    max_price: Annotated[int, Field(ge=0, le=MAX_PRICE_LIMIT)] = 0
    # Pull (Pyth) sources (issue 17): the largest confidence interval, bps of the price (0: no
    # limit), and how many seconds a pull print may be older than the newest push observation.
    pull_max_conf_bps: Annotated[int, Field(ge=0, le=MAX_CONF_BPS)] = 100
    pull_lag_tolerance: Annotated[int, Field(ge=0, le=MAX_PULL_LAG_TOLERANCE)] = 60

    def oracle_sources(self) -> tuple[SourceConfig, ...]:
        """The market's sources, the single-feed fields standing for one when `sources` is empty."""
        if self.sources:
            return self.sources
        return (
            SourceConfig(decimals=self.feed_decimals, max_age=self.oracle_max_age, initial_answer=self.initial_answer),
        )

    def oracle_params(self) -> tuple[int, ...]:
        """IOracleAdapter.OracleParams: (quorum, maxSpreadBps, bandBps, bandWindow, maxPrice,
        maxConfBps, pullLagTolerance)."""
        return (
            self.oracle_quorum,
            self.oracle_max_spread_bps,
            self.price_band_bps,
            self.price_band_window,
            self.max_price,
            self.pull_max_conf_bps,
            self.pull_lag_tolerance,
        )

    def params(self) -> MarketParams:
        return MarketParams(**{name: getattr(self, name) for name in MarketParams.__dataclass_fields__})

    @model_validator(mode="after")
    def _contract_rules(self) -> MarketConfig:
        sources = len(self.oracle_sources())
        if self.oracle_quorum > sources:
            raise ValueError(
                f"market {self.market_id} ({self.symbol}): oracle_quorum={self.oracle_quorum} "
                f"must be at most the number of sources ({sources})"
            )
        # Amounts are checked here in the units of 18-decimal collateral (the most permissive) and
        # again by SystemConfig in its collateral's units.
        self.check_contract_rules(notional_scale(18))
        return self

    def check_contract_rules(self, scale: int) -> None:
        """MarketParamsValidator.validate with the engine's notional scale, as a ValueError."""
        try:
            validate_market_params(self.params(), scale)
        except Revert as error:
            name, value = error.signature()[1]
            raise ValueError(f"market {self.market_id} ({self.symbol}): {name}={value} {MARKET_RULES[name]}") from None


class SystemConfig(BaseModel):
    """A whole deployment: collateral, markets and the pool/fee settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    collateral_name: str = "Mock USD"
    collateral_symbol: str = "mUSD"
    collateral_decimals: Annotated[int, Field(ge=0, le=18)] = 6
    markets: Annotated[list[MarketConfig], Field(min_length=1, max_length=MAX_MARKETS)]
    insurance_share_bps: Bps = 2000
    safety_module_share_bps: Bps = 1000
    max_utilisation_bps: Annotated[int, Field(gt=0, le=BPS)] = 8000
    reserve_factor_bps: Annotated[int, Field(gt=0, le=BPS)] = 2000
    redeem_cooldown: ExitPeriod = 3 * 24 * 3600
    redeem_window: ExitPeriod = 2 * 24 * 3600
    # Safety module: Aave-style cooldown and unstake window, slash cap per window (Aave v1.5: 30%).
    safety_module_cooldown: ExitPeriod = 10 * 24 * 3600
    safety_module_unstake_window: ExitPeriod = 2 * 24 * 3600
    max_slash_bps: SlashBps = 3000
    # ADL: a side's open profit over pool assets (GMX: trigger 85%, end at or below 77%).
    adl_trigger_bps: Annotated[int, Field(gt=0, le=BPS)] = 5000
    adl_target_bps: Annotated[int, Field(gt=0, le=BPS)] = 4000
    # Orders (OrderRouter): the keeper's fee per order (collateral units, at most $100) and the
    # window in which a round may fill it: observed >= minExecutionDelay after the submission,
    # executed before maxExecutionDelay (then only cancellable). Five minutes: a fill window of
    # ~150 s, a dozen 12 s rounds; the choice of whether to fill is an option on the move over
    # the order's life that the round trip's costs outweigh at this length (issue 17, `make bench`).
    execution_fee: Uint = 0
    min_execution_delay: Annotated[int, Field(ge=0, le=MAX_MIN_EXECUTION_DELAY)] = 2
    max_execution_delay: Annotated[int, Field(gt=0, le=MAX_MAX_EXECUTION_DELAY)] = 300
    # Safety module: the cap of `max_slash_bps` holds on every `slash_window`-long interval.
    slash_window: SlashWindow = 7 * 24 * 3600
    # Safety module: an exit stays slashable this long after `redeem` (well past an oracle round's landing
    # latency and a keeper's reaction), then may be claimed for as long again.
    safety_module_exit_delay: ExitDelay = 3600

    @model_validator(mode="after")
    def _cross_rules(self) -> SystemConfig:
        if self.insurance_share_bps + self.safety_module_share_bps > BPS:
            raise ValueError(
                f"insurance_share_bps + safety_module_share_bps = "
                f"{self.insurance_share_bps + self.safety_module_share_bps} must be at most {BPS}"
            )
        if self.adl_target_bps >= self.adl_trigger_bps:
            raise ValueError(
                f"adl_target_bps={self.adl_target_bps} must be below adl_trigger_bps={self.adl_trigger_bps}"
            )
        for market in self.markets:
            market.check_contract_rules(notional_scale(self.collateral_decimals))
        if self.execution_fee > 100 * 10**self.collateral_decimals:
            raise ValueError(f"execution_fee={self.execution_fee} must be at most 100 * 10**collateral_decimals")
        if self.max_execution_delay <= self.min_execution_delay:
            raise ValueError(
                f"max_execution_delay={self.max_execution_delay} must exceed "
                f"min_execution_delay={self.min_execution_delay}"
            )
        ids = [m.market_id for m in self.markets]
        if len(set(ids)) != len(ids):
            raise ValueError(f"market ids must be unique, got {ids}")
        return self

    def usd(self, whole: int) -> int:
        """`whole` US dollars in collateral units."""
        return whole * 10**self.collateral_decimals


def default_market(market_id: int, symbol: str, price_usd: int, decimals: int, **overrides: int) -> MarketConfig:
    """A market with defaults drawn from peers (SPEC / RESEARCH.md): 10x max leverage, tiered
    maintenance 2.5-8%, 5 bps spread, 0.06% fee, 1% penalty, partial liquidation above $1M, and
    a mark refused above 1,000x the initial price. At the trigger the 2.5% tier covers 0.5%
    slippage + 0.5% impact cap + 0.05% + $5 / $500 keeper reward (2.05%, under 90% of 2.5%)."""
    unit = 10**decimals
    values: dict = dict(
        market_id=market_id,
        symbol=symbol,
        feed_decimals=8,
        initial_answer=price_usd * 10**8,
        oracle_max_age=3600 + 600,
        initial_margin_bps=1000,
        tier_notional_caps=(100_000 * unit, 1_000_000 * unit, 10_000_000 * unit, UINT256_MAX),
        tier_maintenance_bps=(250, 400, 600, 800),
        spread_bps=5,
        impact_bps=1,
        impact_reference_notional=100_000 * unit,
        max_impact_bps=50,
        trading_fee_bps=6,
        liquidation_slippage_bps=50,
        liquidation_penalty_bps=100,
        keeper_fixed_reward=5 * unit,
        keeper_reward_bps=5,
        keeper_reward_cap=1_000 * unit,
        partial_liquidation_threshold=1_000_000 * unit,
        partial_liquidation_bps=2000,
        partial_liquidation_cooldown=30,
        max_funding_rate_per_second=10**18 // (86_400 * 10),  # 10% a day at full skew
        skew_scale=1_000_000 * 10**18 // price_usd,
        max_long_open_interest=50_000_000 * 10**18 // price_usd,
        max_short_open_interest=50_000_000 * 10**18 // price_usd,
        # Minimum position: 4x the fixed keeper reward of margin, $500 of notional (a liquidation at
        # maintenance then realises well above the keeper reward).
        min_margin=20 * unit,
        min_notional=500 * unit,
        max_price=price_usd * 1_000 * 10**18,
    )
    values.update(overrides)
    return MarketConfig(**values)


def default_config(collateral_decimals: int = 6, **overrides) -> SystemConfig:
    """Two markets, ETH and BTC, over a 6-decimal stablecoin (`markets=` replaces them)."""
    values: dict = dict(
        collateral_decimals=collateral_decimals,
        execution_fee=10**collateral_decimals,
        markets=[
            default_market(1, "ETH-USD", 3_000, collateral_decimals),
            default_market(2, "BTC-USD", 60_000, collateral_decimals),
        ],
    )
    values.update(overrides)
    return SystemConfig(**values)
