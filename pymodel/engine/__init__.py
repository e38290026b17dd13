"""The engine's model, one module per contract file of contracts/engine/ (same names, same order of
functions): `engine_storage` <- `position_math` <- `market_accounting` <- `liquidation_module`,
`adl_module` <- `perp_engine`, plus `market_params_validator` and `types` (IPerpEngineTypes).

The engine's public names are re-exported here so callers import them from one place."""

from pymodel.engine.engine_storage import BPS, MAX_MARKETS, UINT256_MAX, Liquidation, Settlement, Trade
from pymodel.engine.market_accounting import bankruptcy_key
from pymodel.engine.market_params_validator import (
    MAX_FUNDING_RATE_PER_SECOND,
    MAX_KEEPER_FIXED_REWARD,
    MAX_KEEPER_REWARD_BPS,
    MAX_KEEPER_REWARD_CAP,
    MAX_LIQUIDATION_PENALTY_BPS,
    MAX_PARTIAL_LIQUIDATION_COOLDOWN,
    MAX_TRADING_FEE_BPS,
    MarketParamsValidator,
    validate_market_params,
)
from pymodel.engine.perp_engine import PerpEngine
from pymodel.engine.types import *  # noqa: F403
from pymodel.engine.types import __all__ as _types

__all__ = [
    "BPS",
    "MAX_FUNDING_RATE_PER_SECOND",
    "MAX_KEEPER_FIXED_REWARD",
    "MAX_KEEPER_REWARD_BPS",
    "MAX_KEEPER_REWARD_CAP",
    "MAX_LIQUIDATION_PENALTY_BPS",
    "MAX_MARKETS",
    "MAX_PARTIAL_LIQUIDATION_COOLDOWN",
    "MAX_TRADING_FEE_BPS",
    "UINT256_MAX",
    "Liquidation",
    "MarketParamsValidator",
    "PerpEngine",
    "Settlement",
    "Trade",
    "bankruptcy_key",
    "validate_market_params",
    *_types,
]
