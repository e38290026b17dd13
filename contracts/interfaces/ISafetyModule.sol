// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IEngineGated} from "./IEngineGated.sol";

/// @title ISafetyModule
/// @notice Stakers' capital (non-transferable shares), second layer of the loss waterfall: slashed pro rata (stakers in
/// cooldown and exits not yet claimed included), at most `maxSlashBps` of its assets per event,
/// before the LP pool pays. Stakers earn a share of trading fees.
/// @dev Exits: `cooldown()`, then `redeem(shares)` inside the unstake window escrows the shares,
/// then `claim()` from the next second on burns them at that moment's price. Escrowed shares
/// stay slashable, so an exit in the same block as a shortfall cannot dodge it.
interface ISafetyModule is IEngineGated {
    /* ERRORS */

    error ZeroAmount();
    error ZeroShares();
    error InsufficientShares(address staker, uint256 shares, uint256 requested);
    /// @notice `redeem` outside [cooldownStart + cooldown, cooldownStart + cooldown + window].
    error NotInUnstakeWindow(address staker, uint256 windowStart, uint256 windowEnd);
    error NothingToClaim(address staker);
    /// @notice Escrowed shares are claimable only after the second they were escrowed in.
    error ClaimTooEarly(address staker, uint256 claimableAt);
    error InvalidParameter(string name, uint256 value);

    /* EVENTS */

    event ParamsSet(uint256 cooldownPeriod, uint256 unstakeWindow, uint256 maxSlashBps);
    event Staked(address indexed staker, uint256 assets, uint256 shares);
    event CooldownStarted(address indexed staker, uint256 at);
    event UnstakeRequested(address indexed staker, uint256 shares, uint256 claimableAt);
    event Claimed(address indexed staker, address receiver, uint256 shares, uint256 assets);
    event RewardDeposited(uint256 amount);
    /// @notice `requested` of a shortfall reached the module; `slashed` was taken (cap applied).
    event Slashed(uint256 requested, uint256 slashed, uint256 cap);

    /* FUNCTIONS */

    function setParams(uint256 cooldownPeriod, uint256 unstakeWindow, uint256 maxSlashBps) external;

    /// @notice Stakes `assets` for shares (rounded down: favours existing stakers).
    function stake(uint256 assets) external returns (uint256 shares);
    /// @notice Starts (or restarts) the caller's cooldown.
    function cooldown() external;
    /// @notice Inside the unstake window: escrows `shares` for a claim from the next second on.
    function redeem(uint256 shares) external;
    /// @notice Burns the caller's escrowed shares for assets at the current price (rounded down).
    function claim(address receiver) external returns (uint256 assets);

    /// @notice Engine only: pulls `amount` of fee share from the engine into the assets.
    function depositReward(uint256 amount) external;
    /// @notice Engine only: pays `min(amount, assets x maxSlashBps)` to the engine.
    function slash(uint256 amount) external returns (uint256 slashed);

    /* VIEWS */

    function totalAssets() external view returns (uint256);
    function totalShares() external view returns (uint256);
    function sharesOf(address staker) external view returns (uint256);
    /// @notice Escrowed shares and the time they become claimable.
    function pendingOf(address staker) external view returns (uint256 shares, uint256 claimableAt);
    function cooldownStartOf(address staker) external view returns (uint256);
    /// @notice The most one slash can take now.
    function slashCap() external view returns (uint256);
    function previewStake(uint256 assets) external view returns (uint256 shares);
    function previewClaim(uint256 shares) external view returns (uint256 assets);
}
