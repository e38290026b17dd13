// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IEngineGated} from "./IEngineGated.sol";

/// @title ILPPool
/// @notice ERC-4626 vault over the collateral and the counterparty to every trade. Its assets
/// are its cash plus the traders' open PnL and funding marked to the oracle (O(1) per market
/// from the engine's aggregates). Exits are asynchronous (ERC-7540 style): `requestRedeem`
/// escrows shares that keep bearing losses; `redeem` claims them after a cooldown, inside a
/// window, at the lower of the redemption marks at request and at claim.
interface ILPPool is IEngineGated {
    /* ERRORS */

    error ZeroShares();
    /// @notice Synchronous `withdraw` is disabled: use requestRedeem, then redeem.
    error AsyncRedeemOnly();
    /// @notice `redeem` is claimable by the request's owner only.
    error NotRequestOwner(address caller, address owner);
    error NoRedeemRequest(address owner);
    /// @notice The engine asked for more than the pool's cash.
    error InsufficientPoolCash(uint256 requested, uint256 cash);
    /// @notice A redemption would take cash below what open interest reserves.
    error InsufficientFreeCash(uint256 assets, uint256 freeCash);
    /// @notice Cooldown and window must be in [1 minute, 30 days].
    error InvalidRedeemTiming(uint256 cooldown, uint256 window);
    /// @notice A market's oracle price is beyond the valuation's sanity bound.
    error PriceOutOfBounds(uint256 marketId, uint256 price, uint256 maxPrice);
    /// @notice The collateral delivered `received` for a deposit of `assets` (fee-on-transfer tokens are refused).
    error FeeOnTransferUnsupported(uint256 assets, uint256 received);

    /* EVENTS */

    event RedeemTimingSet(uint256 cooldown, uint256 window);
    /// @notice `owner` escrowed `shares` worth `assets` at the redemption mark (the most their claim pays); the
    /// whole pending request is claimable from `claimableAt`.
    event RedeemRequested(
        address indexed owner, uint256 shares, uint256 assets, uint256 pendingShares, uint256 claimableAt
    );
    event RedeemCancelled(address indexed owner, uint256 shares);
    event CashCredited(uint256 amount);
    event CashPaid(uint256 amount);

    /* FUNCTIONS */

    /// @notice Owner only: the redemption cooldown and the claim window after it (seconds).
    function setRedeemTiming(uint256 cooldown, uint256 window) external;

    /// @notice Escrows `shares` of the caller and (re)starts the cooldown for all pending shares.
    function requestRedeem(uint256 shares) external;

    /// @notice Returns the caller's escrowed shares.
    function cancelRedeem() external;

    /// @notice Engine only: pulls `amount` from the engine into the pool's cash.
    function creditFromEngine(uint256 amount) external;

    /// @notice Engine only: pays `amount` of the pool's cash to the engine.
    function payToEngine(uint256 amount) external;

    /// @notice Collateral the pool holds for LPs (token balance less donations).
    function cash() external view returns (uint256);

    /// @notice Shares escrowed by `owner`, the time of the last request and the value bound of the claim.
    function redeemRequestOf(address owner) external view returns (uint256 shares, uint256 requestedAt, uint256 assets);

    /// @notice What traders owe the pool across markets (PnL and funding at the oracle, from the engine's
    /// aggregates, O(1) per market), negative when the pool owes them. `forDeposit`: the whole claim, rounded up
    /// (the deposit mark). Otherwise the redemption mark: the same sum rounded down, less, per side, what the
    /// side's positions beyond their bankruptcy price may leave unpaid (size x (bound + index - price)^+ /
    /// scale for longs, the mirror for shorts, rounded up: `MarketState`'s bankruptcy bounds), so never
    /// above what the pool will hold (docs/DESIGN.md, "Mark"). A market whose price reverts: with `strict`
    /// the oracle's error; else `stale` is set and the market counts only the settled funding the pool owes (its
    /// open PnL at zero, no credit for what its traders owe).
    function poolClaimOnTraders(bool forDeposit, bool strict) external view returns (int256 claim, bool stale);

    /// @notice Assets marked for deposits (trader losses credited, rounded up: favours the pool).
    function totalAssetsForDeposit() external view returns (uint256);

    /// @notice Assets marked for redemptions (rounded down: favours the pool).
    function totalAssetsForRedeem() external view returns (uint256);
}
