// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IEngineGated} from "./IEngineGated.sol";

/// @title ISafetyModule
/// @notice Stakers' capital (non-transferable shares), second layer of the loss waterfall: slashed pro rata (stakers in
/// cooldown and exits not yet claimed included), before the LP pool pays. On any `slashWindow`-long interval the
/// slashes leave at least `1 - maxSlashBps` of every share's value (so they take at most `maxSlashBps` of the assets
/// held at its start plus what joined during it); each slash takes at most `maxSlashBps` of the assets there now.
/// Stakers earn a share of trading fees.
/// @dev Exits: `cooldown()` covers the shares staked at that moment; inside the unstake window that follows,
/// `redeem(shares)` moves up to those shares' assets into an escrow pool, claimable from `exitDelay` after the
/// redeem for `exitDelay` more: a shortfall visible when the staker leaves lands while its escrow is still slashable.
/// Escrow earns no fees and stays slashable (pro rata to assets). Escrow left unclaimed at its deadline goes back to
/// the stake at the stake's price on the staker's next `stake`, `cooldown` or `redeem`, and a new cooldown is needed
/// to leave.
interface ISafetyModule is IEngineGated {
    /* ERRORS */

    error ZeroAmount();
    error ZeroShares();
    error InsufficientShares(address staker, uint256 shares, uint256 requested);
    /// @notice `redeem` outside [cooldownStart + cooldown, cooldownStart + cooldown + window).
    error NotInUnstakeWindow(address staker, uint256 windowStart, uint256 windowEnd);
    /// @notice `redeem` of more shares than the running cooldown covers (stake added later does not ride on it).
    error ExceedsCooldownShares(address staker, uint256 covered, uint256 requested);
    /// @notice `cooldown` without staked shares.
    error NoStake(address staker);
    error NothingToClaim(address staker);
    /// @notice Escrowed shares are claimable only `exitDelay` after the (last) redeem.
    error ClaimTooEarly(address staker, uint256 claimableAt);
    /// @notice The claim slot of the escrow has passed: it goes back to the stake.
    error UnstakeWindowExpired(address staker, uint256 deadline);
    error InvalidParameter(string name, uint256 value);

    /* EVENTS */

    event ParamsSet(
        uint256 cooldownPeriod, uint256 unstakeWindow, uint256 maxSlashBps, uint256 slashWindow, uint256 exitDelay
    );
    event Staked(address indexed staker, uint256 assets, uint256 shares);
    /// @notice A cooldown covering `shares` (the whole stake at `at`).
    event CooldownStarted(address indexed staker, uint256 at, uint256 shares);
    /// @notice `shares` of stake left for `assets` of escrow (`escrowShares` of the escrow pool).
    event UnstakeRequested(
        address indexed staker, uint256 shares, uint256 assets, uint256 escrowShares, uint256 claimableAt, uint256 deadline
    );
    /// @notice `escrowShares` of escrow paid out as `assets`.
    event Claimed(address indexed staker, address receiver, uint256 escrowShares, uint256 assets);
    /// @notice Unclaimed escrow back to the stake after its window: `assets` for `shares`.
    event UnstakeExpired(address indexed staker, uint256 escrowShares, uint256 assets, uint256 shares);
    event RewardDeposited(uint256 amount);
    /// @notice The first slash in `slashWindow` seconds (none in the rolling window): its cap is `maxSlashBps` of
    /// `assets`.
    event SlashWindowStarted(uint256 start, uint256 assets);
    /// @notice `requested` of a shortfall reached the module; `slashed` was taken (`cap`: what the rolling window had
    /// left).
    event Slashed(uint256 requested, uint256 slashed, uint256 cap);

    /* FUNCTIONS */

    function setParams(
        uint256 cooldownPeriod,
        uint256 unstakeWindow,
        uint256 maxSlashBps,
        uint256 slashWindow,
        uint256 exitDelay
    ) external;

    /// @notice Stakes `assets` for shares (rounded down: favours existing stakers).
    function stake(uint256 assets) external returns (uint256 shares);
    /// @notice Starts (or restarts) the caller's cooldown for the shares staked now.
    function cooldown() external;
    /// @notice Inside the unstake window: escrows `shares` (at most what the cooldown covers); the caller's whole
    /// escrow is claimable in [now + exitDelay, now + 2 * exitDelay].
    function redeem(uint256 shares) external;
    /// @notice Pays the caller's escrow at the escrow pool's current value (rounded down).
    function claim(address receiver) external returns (uint256 assets);

    /// @notice Engine only: pulls `amount` of fee share from the engine into the stake (never the escrow).
    function depositReward(uint256 amount) external;
    /// @notice Engine only: pays `min(amount, slashCap())` to the engine, stake and escrow pro rata.
    function slash(uint256 amount) external returns (uint256 slashed);

    /* VIEWS */

    /// @notice Every asset the module holds: stake and escrow.
    function totalAssets() external view returns (uint256);
    /// @notice Staked shares (escrow excluded).
    function totalShares() external view returns (uint256);
    function escrowAssets() external view returns (uint256);
    function escrowShares() external view returns (uint256);
    function sharesOf(address staker) external view returns (uint256);
    /// @notice Escrow shares, the time they become claimable and the last second they can be claimed.
    function pendingOf(address staker) external view returns (uint256 shares, uint256 claimableAt, uint256 deadline);
    function cooldownStartOf(address staker) external view returns (uint256);
    /// @notice Shares the running cooldown still covers.
    function cooldownSharesOf(address staker) external view returns (uint256);
    function slashWindow() external view returns (uint256);
    /// @notice Seconds an escrow stays slashable before it can be claimed (and the length of its claim slot).
    function exitDelay() external view returns (uint256);
    /// @notice The most a slash can take now: what keeps the rolling window's product at or above 1 - maxSlashBps.
    function slashCap() external view returns (uint256);
    /// @notice The fraction (1e36 = all) of assets the slashes of the last `slashWindow` seconds left, rounded down.
    function slashKept() external view returns (uint256);
    /// @notice The time of the first slash (0 before it): the rolling window's buckets count from it.
    function slashOrigin() external view returns (uint256);
    /// @notice Slot `slot` of the rolling window: its last slash's time and what its slashes left (1e36 = all).
    function slashCheckpointOf(uint256 slot) external view returns (uint256 at, uint256 kept);
    function previewStake(uint256 assets) external view returns (uint256 shares);
    /// @notice Assets `shares` of stake are worth now (rounded down).
    function previewRedeem(uint256 shares) external view returns (uint256 assets);
    /// @notice Assets `escrowShares` of escrow are worth now (rounded down).
    function previewClaim(uint256 escrowShares) external view returns (uint256 assets);
}
