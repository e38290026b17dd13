// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOracleAdapter} from "./IOracleAdapter.sol";

/// @title IPerpEngineTypes
/// @notice `IPerpEngine`'s types, errors, events and the getters of its public state, apart from its other functions: what the engine's
/// storage base (`EngineStorage`), shared with its delegate-called modules, is built on.
interface IPerpEngineTypes {
    /* TYPES */

    /// @notice A market's risk parameters. Amounts are in collateral units, sizes in 1e18 base
    /// units, prices and funding rates in WAD. Maintenance tiers: the rate of the first tier
    /// whose cap is >= the position's notional applies to the whole notional.
    struct MarketParams {
        uint256 initialMarginBps;
        uint256[4] tierNotionalCaps;
        uint256[4] tierMaintenanceBps;
        uint256 spreadBps;
        uint256 impactBps; // bps per `impactReferenceNotional` of mean skew notional over the trade
        uint256 impactReferenceNotional;
        uint256 maxImpactBps;
        uint256 tradingFeeBps;
        uint256 liquidationSlippageBps;
        uint256 liquidationPenaltyBps;
        uint256 keeperFixedReward;
        uint256 keeperRewardBps;
        uint256 keeperRewardCap;
        uint256 partialLiquidationThreshold; // notional above which liquidations are partial
        uint256 partialLiquidationBps; // fraction of the size closed per partial step
        uint256 partialLiquidationCooldown; // seconds between partial steps
        uint256 maxFundingRatePerSecond; // WAD fraction of notional per second
        uint256 skewScale; // skew (size) at which funding reaches its maximum rate
        uint256 maxLongOpenInterest; // size
        uint256 maxShortOpenInterest; // size
        uint256 minMargin; // an open position keeps at least this margin (>= 2 x keeperFixedReward)
        uint256 minNotional; // and at least this notional at the oracle price (<= tierNotionalCaps[0])
    }

    /// @notice A market's aggregates: what the pool is marked from, O(1) per market.
    struct MarketState {
        bool listed;
        uint256 longSize;
        uint256 shortSize;
        uint256 longEntryNotional; // sum of size * entryPrice over longs (1e36 units)
        uint256 shortEntryNotional; // sum of |size| * entryPrice over shorts
        int256 fundingIndex; // cumulative funding per unit size, WAD price units
        uint256 lastFundingAt;
        int256 sumSizeTimesIndex; // sum of size * position.fundingIndex
        int256 accruedFundingTotal; // sum of positions' settled-but-unpaid funding (collateral units)
        bool adlLongActive; // ADL triggered on the long side and not yet back under target
        bool adlShortActive;
        uint256 longPositions; // open long positions (what `refreshBankruptcyBound` must list)
        uint256 shortPositions;
        // A long i is beyond its bankruptcy price only at prices below longBankruptcyBound + index
        // (>= every open long's entry - fundingIndex - scale x (margin - accruedFunding) / size, rounded
        // up); a short above shortBankruptcyBound + index (<= every short's mirror value, rounded down).
        // Meaningless while the side has no position. See docs/DESIGN.md, "LP pool", "Mark".
        int256 longBankruptcyBound;
        int256 shortBankruptcyBound;
    }

    struct Position {
        int256 size;
        uint256 entryPrice;
        uint256 margin;
        int256 accruedFunding; // funding owed (negative: earned), settled into cash on close/liquidation
        int256 fundingIndex; // market index at the last settlement
        uint256 lastLiquidationAt;
    }

    /// @notice What `liquidate` would do now (the waterfall split included).
    struct LiquidationPreview {
        uint256 oraclePrice;
        uint256 executionPrice;
        uint256 bankruptcyPrice;
        int256 sizeClosed;
        int256 realised;
        uint256 keeperReward;
        uint256 penalty;
        uint256 refund;
        uint256 shortfall;
        uint256 fromInsurance;
        uint256 fromSafetyModule;
        uint256 fromPool;
        // What the pool could not pay and the engine would advance (`DeficitUncovered`); when even
        // the engine's balance falls short, keeperReward/penalty/refund above are already cut.
        uint256 uncovered;
    }

    /* ERRORS */

    error MarketNotListed(uint256 marketId);
    error MarketAlreadyListed(uint256 marketId);
    error TooManyMarkets();
    error InvalidParameter(string name, uint256 value);
    error ZeroSize();
    error ZeroAmount();
    error OpensPaused();
    error NotGuardian(address caller);
    error NoPosition(address account, uint256 marketId);
    /// @notice `executeTrade` is for the order router only.
    error NotOrderRouter(address caller);
    error OrderRouterAlreadySet();
    /// @notice A decrease order carries no margin.
    error MarginInOnDecrease(uint256 marginIn);
    /// @notice A position that stays open must keep `minMargin`...
    error MarginBelowMinimum(uint256 margin, uint256 minMargin);
    /// @notice ...and `minNotional` at the oracle price.
    error NotionalBelowMinimum(uint256 notional, uint256 minNotional);
    error ReductionTooLarge(uint256 reduction, uint256 size);
    error SlippageExceeded(uint256 executionPrice, uint256 acceptablePrice);
    error InsufficientMargin(int256 equity, uint256 required);
    error PositionLiquidatable(address account, uint256 marketId);
    error OpenInterestCapExceeded(uint256 marketId, uint256 openInterest, uint256 cap);
    error UtilisationCapExceeded(uint256 reserved, uint256 limit);
    error PositionHealthy(address account, uint256 marketId, int256 equity, uint256 maintenanceMargin);
    error LiquidationCooldown(address account, uint256 marketId, uint256 readyAt);
    error WaterfallMismatch();
    /// @notice The side's profit-to-pool ratio is not above the trigger (or, once triggered, the target).
    error AdlNotTriggered(uint256 marketId, bool isLong, uint256 ratioBps, uint256 thresholdBps);
    /// @notice Only a profitable position can be auto-deleveraged.
    error AdlNotProfitable(address account, uint256 marketId, int256 pnl);
    /// @notice An ADL step must lower the side's ratio.
    error AdlNotImproving(uint256 ratioBeforeBps, uint256 ratioAfterBps);
    /// @notice Only an ADL keeper (set by the owner) may auto-deleverage.
    error NotAdlKeeper(address caller);
    /// @notice An ADL keeper may not auto-deleverage its own position.
    error AdlOwnPosition(address account);
    /// @notice `refreshBankruptcyBound` must list every open position of the side: `given` accounts, `open` open.
    error BoundAccountCount(uint256 given, uint256 open);
    /// @notice `refreshBankruptcyBound`'s accounts must be strictly ascending, each with a position on the side.
    error BoundAccountInvalid(uint256 index, address account);

    /* EVENTS */

    event MarketListed(uint256 indexed marketId);
    event MarketParamsSet(uint256 indexed marketId);
    event FeeSharesSet(uint256 insuranceShareBps, uint256 safetyModuleShareBps);
    event PoolLimitsSet(uint256 maxUtilisationBps, uint256 reserveFactorBps);
    event GuardianSet(address guardian);
    event OrderRouterSet(address orderRouter);
    event OpensPausedSet(bool paused);
    event AdlParamsSet(uint256 triggerBps, uint256 targetBps);
    event FundingAccrued(uint256 indexed marketId, int256 ratePerSecond, int256 fundingIndex);
    event PositionIncreased(
        address indexed account,
        uint256 indexed marketId,
        int256 sizeDelta,
        uint256 oraclePrice,
        uint256 executionPrice,
        int256 size,
        uint256 entryPrice,
        uint256 margin,
        uint256 fee
    );
    event PositionDecreased(
        address indexed account,
        uint256 indexed marketId,
        int256 sizeDelta,
        uint256 oraclePrice,
        uint256 executionPrice,
        int256 realisedPnl,
        int256 fundingPaid,
        uint256 fee,
        int256 size,
        uint256 margin,
        uint256 payout
    );
    event MarginChanged(address indexed account, uint256 indexed marketId, int256 delta, uint256 margin);
    event FeesSplit(uint256 indexed marketId, uint256 toPool, uint256 toInsurance, uint256 toSafetyModule);
    event Liquidated(
        address indexed account,
        uint256 indexed marketId,
        address indexed keeper,
        uint256 oraclePrice,
        uint256 executionPrice,
        uint256 bankruptcyPrice,
        int256 sizeClosed,
        int256 realised,
        uint256 keeperReward,
        uint256 penalty,
        uint256 refund
    );
    event AutoDeleveraged(
        address indexed account,
        uint256 indexed marketId,
        address indexed keeper,
        int256 sizeClosed,
        uint256 oraclePrice,
        int256 realisedPnl,
        uint256 score,
        uint256 ratioBeforeBps,
        uint256 ratioAfterBps
    );
    event AdlKeeperSet(address indexed keeper, bool allowed);
    /// @notice The side's ADL flag after `syncAdl` or an ADL step evaluated the ratio.
    event AdlFlagSynced(uint256 indexed marketId, bool isLong, uint256 ratioBps, bool active);
    /// @notice `refreshBankruptcyBound` recomputed the side's bound from its open positions.
    event BankruptcyBoundRefreshed(uint256 indexed marketId, bool isLong, int256 bound);
    /// @notice The pool could not pay `amount` it owed in a liquidation: the engine advanced it,
    /// and the pool owes it back (`uncoveredDeficit`, deducted from the pool's mark).
    event DeficitUncovered(address indexed account, uint256 indexed marketId, uint256 amount, uint256 total);
    /// @notice `amount` of the uncovered deficit was repaid out of cash owed to the pool.
    event DeficitRepaid(uint256 amount, uint256 remaining);
    /// @notice The pool paid `paid` of a realised profit of `owed`; `haircut` is socialised.
    event ProfitHaircut(address indexed account, uint256 indexed marketId, uint256 owed, uint256 paid, uint256 haircut);
    event BadDebtSettled(
        address indexed account,
        uint256 indexed marketId,
        uint256 shortfall,
        uint256 fromInsurance,
        uint256 fromSafetyModule,
        uint256 fromPool
    );

    /* GETTERS (public state of EngineStorage) */

    /// @notice The oracle adapter the engine prices markets with.
    function oracle() external view returns (IOracleAdapter);
    /// @notice 10**(36 - collateral decimals): size x price / notionalScale is in collateral units.
    function notionalScale() external view returns (uint256);

    /// @notice What liquidations took beyond every layer's funds, advanced by the engine and owed
    /// back by the pool (deducted from its mark, repaid first from what the pool is credited).
    function uncoveredDeficit() external view returns (uint256);
}

/// @title IPerpEngine
/// @notice Markets, isolated positions, margin, fees, funding, liquidation, the loss waterfall,
/// auto-deleveraging and socialised loss. The LP pool is every trader's counterparty; a
/// liquidation that closes past the bankruptcy price leaves a shortfall that walks insurance
/// bucket -> safety module (capped) -> pool. When a side's open profit grows too large for the
/// pool, ADL closes profitable positions at the oracle price; a profit the pool cannot pay out
/// of its free cash is cut (socialised) and the cut is recorded.
interface IPerpEngine is IPerpEngineTypes {
    /* ADMIN (owner; guardian for pausing) */

    function listMarket(uint256 marketId, MarketParams calldata params) external;
    function setMarketParams(uint256 marketId, MarketParams calldata params) external;
    function setFeeShares(uint256 insuranceShareBps, uint256 safetyModuleShareBps) external;
    function setPoolLimits(uint256 maxUtilisationBps, uint256 reserveFactorBps) external;
    function setGuardian(address guardian) external;
    /// @notice ADL becomes possible on a side above `triggerBps` of pool assets and stays possible
    /// until a step brings it to `targetBps` or below. Bounds: 0 < target < trigger <= 10000.
    function setAdlParams(uint256 triggerBps, uint256 targetBps) external;
    /// @notice Grants or revokes the ADL keeper role.
    function setAdlKeeper(address keeper, bool allowed) external;
    /// @notice Owner, once: the order router, the only caller of `executeTrade`.
    function setOrderRouter(address orderRouter) external;
    /// @notice Guardian or owner: pauses opening and increasing positions. Closes,
    /// decreases, margin changes and liquidations keep working.
    function setOpensPaused(bool paused) external;

    /* TRADING */

    /// @notice Order router only: fills `account`'s order. A `sizeDelta` with the position's sign
    /// (or on no position) opens or increases it with `marginIn` pulled from the router; the
    /// opposite sign decreases it by |sizeDelta| (closes it at |size|; more reverts
    /// `ReductionTooLarge`; margin in reverts `MarginInOnDecrease`). Reverts unless execution is at
    /// or better than `acceptablePrice`, and unless a position that stays open keeps `minMargin` and
    /// `minNotional`.
    function executeTrade(
        address account,
        uint256 marketId,
        int256 sizeDelta,
        uint256 marginIn,
        uint256 acceptablePrice
    ) external;

    /// @notice Adds margin; allowed even when liquidatable (it can rescue the position).
    function addMargin(uint256 marketId, uint256 amount) external;

    /// @notice Removes margin at once; equity after must stay >= initial margin, and the position
    /// must keep `minMargin` and `minNotional`.
    function removeMargin(uint256 marketId, uint256 amount) external;

    /* LIQUIDATION */

    /// @notice Permissionless: liquidates `account`'s position if equity < maintenance margin
    /// at a fresh oracle price; the caller receives the keeper reward.
    function liquidate(address account, uint256 marketId) external;

    /// @notice ADL keepers only, never on their own position: closes `reduction` of a profitable
    /// position on a side whose profit-to-pool ratio is above the trigger, or above the target
    /// once triggered, at the oracle price, without fees. Reverts unless the step lowers the
    /// ratio. The event carries the position's ranking score (profit % x effective leverage,
    /// WAD) so anyone can audit that keepers followed the ranking (`pymodel.adl.audit_adl`).
    function autoDeleverage(address account, uint256 marketId, uint256 reduction) external;

    /// @notice Permissionless: re-evaluates the side's ADL flag at the current ratio (set above
    /// the trigger, cleared at or below the target).
    function syncAdl(uint256 marketId, bool isLong) external;

    /// @notice Permissionless: recomputes the side's bankruptcy bound (`MarketState`) exactly from
    /// `accounts`, which must be strictly ascending and be every account with an open position on
    /// that side. The stored bound only ever tightens toward "more at risk" as positions change, so a
    /// closed risky position leaves it stale (the redemption mark too low, never too high): this
    /// restores it.
    function refreshBankruptcyBound(uint256 marketId, bool isLong, address[] calldata accounts) external;

    /* VIEWS */

    function marketParams(uint256 marketId) external view returns (MarketParams memory);
    function marketState(uint256 marketId) external view returns (MarketState memory);
    function positionOf(address account, uint256 marketId) external view returns (Position memory);
    function marketIds() external view returns (uint256[] memory);

    /// @notice margin + PnL(oracle) - funding (accrued and pending), collateral units.
    function equity(address account, uint256 marketId) external view returns (int256);
    function maintenanceMargin(address account, uint256 marketId) external view returns (uint256);
    function isLiquidatable(address account, uint256 marketId) external view returns (bool);
    /// @notice The oracle price at which equity equals the maintenance margin (0 if none).
    function liquidationPrice(address account, uint256 marketId) external view returns (uint256);
    /// @notice Long: the lowest price with equity >= 0; short: the highest. 0 if none.
    function bankruptcyPrice(address account, uint256 marketId) external view returns (uint256);

    /// @notice Pool cash that open interest reserves (entry notional x reserve factor).
    function reservedCash() external view returns (uint256);

    /// @notice The side's unrealised trader profit over the pool's (redemption-marked) assets, bps.
    function sideProfitRatio(uint256 marketId, bool isLong) external view returns (uint256);

    /// @notice What liquidating the position now would do, the waterfall split included.
    /// Reverts as `liquidate` would (NoPosition, PositionHealthy, LiquidationCooldown, oracle errors).
    function previewLiquidation(address account, uint256 marketId) external view returns (LiquidationPreview memory);
}
