// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {MarketParamsValidator} from "./MarketParamsValidator.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {ILPPool} from "../interfaces/ILPPool.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";
import {IPerpEngineTypes} from "../interfaces/IPerpEngine.sol";
import {ISafetyModule} from "../interfaces/ISafetyModule.sol";

/// @title EngineStorage
/// @notice The engine's constants, immutables, storage and working types: the one storage layout
/// of `PerpEngine` and of the modules it runs by DELEGATECALL (`LiquidationModule`, `AdlModule`).
/// Declared here only: no contract below it adds a state variable (`tests/engine/test_layout.py`
/// compares the compiler's storage layouts).
/// @dev `pymodel/engine/engine_storage.py` mirrors it.
abstract contract EngineStorage is IPerpEngineTypes, Ownable {
    /* CONSTANTS */

    uint256 internal constant BPS = 10_000;
    uint256 internal constant WAD = 1e18;
    uint256 internal constant MAX_MARKETS = 16;

    /* STORAGE */

    IERC20 public immutable collateral;
    IOracleAdapter public immutable oracle;
    ILPPool public immutable pool;
    IInsuranceFund public immutable insuranceFund;
    ISafetyModule public immutable safetyModule;
    /// @dev 10**(36 - collateral decimals): size x price / notionalScale is in collateral units.
    uint256 public immutable notionalScale;
    /// @notice The market parameters' bounds, in a contract of their own (pure, no storage);
    /// created by the engine's constructor.
    MarketParamsValidator public immutable marketParamsValidator;

    address public guardian;
    /// @notice The only caller of `executeTrade`: every trade is a two-step order (SPEC §5a).
    address public orderRouter;
    bool public opensPaused;
    uint256 public insuranceShareBps;
    uint256 public safetyModuleShareBps;
    uint256 public maxUtilisationBps;
    uint256 public reserveFactorBps;
    uint256 public adlTriggerBps;
    uint256 public adlTargetBps;
    /// @notice Realised profit the pool could not pay, summed over all haircuts.
    uint256 public socialisedLoss;
    /// @notice What the pool owed in liquidations beyond its cash: advanced by the engine, owed
    /// back by the pool (deducted from its mark), repaid first out of cash the engine owes it.
    uint256 public uncoveredDeficit;
    mapping(address keeper => bool) public isAdlKeeper;

    uint256[] internal _marketIds;
    mapping(uint256 marketId => MarketParams) internal _params;
    mapping(uint256 marketId => MarketState) internal _markets;
    mapping(address account => mapping(uint256 marketId => Position)) internal _positions;

    /* CONSTRUCTOR */

    constructor(
        IERC20 collateral_,
        IOracleAdapter oracle_,
        ILPPool pool_,
        IInsuranceFund insuranceFund_,
        ISafetyModule safetyModule_,
        uint256 notionalScale_,
        MarketParamsValidator marketParamsValidator_,
        address owner_
    ) Ownable(owner_) {
        collateral = collateral_;
        oracle = oracle_;
        pool = pool_;
        insuranceFund = insuranceFund_;
        safetyModule = safetyModule_;
        notionalScale = notionalScale_;
        marketParamsValidator = marketParamsValidator_;
    }

    /* TYPES */

    /// @dev Prices of one trade: oracle, execution (checked against the guard) and the fee.
    struct Trade {
        uint256 price;
        uint256 executionPrice;
        uint256 fee;
    }

    /// @dev What a decrease realises.
    struct Settlement {
        int256 realisedPnl;
        int256 fundingPaid;
        uint256 payout;
    }

    /// @dev Working values of one liquidation (kept in memory: too many for the stack).
    struct Liquidation {
        uint256 price;
        uint256 executionPrice;
        uint256 bankruptcyPrice;
        bool full;
        int256 sizeClosed;
        uint256 exactNotionalClosed;
        uint256 marginPart;
        int256 fundingPart;
        int256 pnl;
        int256 realised;
        uint256 reward;
        uint256 penalty;
        uint256 refund;
    }

    /* INTERNAL */

    /// @dev The immutable behind one jump: each inline read of an immutable costs 33 bytes of code.
    function _scale() internal view returns (uint256) {
        return notionalScale;
    }

    function _listed(uint256 marketId) internal view returns (MarketParams storage p, MarketState storage m) {
        m = _markets[marketId];
        if (!m.listed) revert MarketNotListed(marketId);
        p = _params[marketId];
    }
}
