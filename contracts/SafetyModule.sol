// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EngineGated} from "./EngineGated.sol";
import {ISafetyModule} from "./interfaces/ISafetyModule.sol";
import {FixedPointMath} from "./libraries/FixedPointMath.sol";

/// @title SafetyModule
/// @notice Staked collateral that backs the LP pool: slashed, capped, before the pool pays.
contract SafetyModule is ISafetyModule, EngineGated {
    using SafeERC20 for IERC20;

    /* CONSTANTS */

    uint256 internal constant BPS = 10_000;
    /// @dev 10**6 virtual shares against the first-staker inflation attack.
    uint256 internal constant VIRTUAL_SHARES = 1e6;
    uint256 internal constant MAX_PERIOD = 365 days;

    /* STORAGE */

    IERC20 public immutable collateral;
    uint256 public cooldownPeriod;
    uint256 public unstakeWindow;
    uint256 public maxSlashBps;

    /// @dev Assets backing every share, escrowed ones included.
    uint256 public totalAssets;
    /// @dev Shares of stakers plus escrowed shares.
    uint256 public totalShares;
    mapping(address staker => uint256) public sharesOf;
    mapping(address staker => uint256) public cooldownStartOf;
    mapping(address staker => uint256) internal _pendingShares;
    mapping(address staker => uint256) internal _pendingAt;

    /* CONSTRUCTOR */

    constructor(IERC20 collateral_, address owner_, uint256 cooldownPeriod_, uint256 unstakeWindow_, uint256 maxSlashBps_)
        Ownable(owner_)
    {
        collateral = collateral_;
        _setParams(cooldownPeriod_, unstakeWindow_, maxSlashBps_);
    }

    /* ADMIN */

    /// @inheritdoc ISafetyModule
    function setParams(uint256 cooldownPeriod_, uint256 unstakeWindow_, uint256 maxSlashBps_) external onlyOwner {
        _setParams(cooldownPeriod_, unstakeWindow_, maxSlashBps_);
    }

    function _setParams(uint256 cooldownPeriod_, uint256 unstakeWindow_, uint256 maxSlashBps_) internal {
        if (cooldownPeriod_ == 0 || cooldownPeriod_ > MAX_PERIOD) revert InvalidParameter("cooldownPeriod", cooldownPeriod_);
        if (unstakeWindow_ == 0 || unstakeWindow_ > MAX_PERIOD) revert InvalidParameter("unstakeWindow", unstakeWindow_);
        if (maxSlashBps_ > BPS) revert InvalidParameter("maxSlashBps", maxSlashBps_);
        cooldownPeriod = cooldownPeriod_;
        unstakeWindow = unstakeWindow_;
        maxSlashBps = maxSlashBps_;
        emit ParamsSet(cooldownPeriod_, unstakeWindow_, maxSlashBps_);
    }

    /* STAKING */

    /// @inheritdoc ISafetyModule
    function stake(uint256 assets) external returns (uint256 shares) {
        if (assets == 0) revert ZeroAmount();
        shares = previewStake(assets);
        if (shares == 0) revert ZeroShares();
        totalAssets += assets;
        totalShares += shares;
        sharesOf[msg.sender] += shares;
        collateral.safeTransferFrom(msg.sender, address(this), assets);
        emit Staked(msg.sender, assets, shares);
    }

    /// @inheritdoc ISafetyModule
    function cooldown() external {
        cooldownStartOf[msg.sender] = block.timestamp;
        emit CooldownStarted(msg.sender, block.timestamp);
    }

    /// @inheritdoc ISafetyModule
    function redeem(uint256 shares) external {
        if (shares == 0) revert ZeroShares();
        uint256 owned = sharesOf[msg.sender];
        if (shares > owned) revert InsufficientShares(msg.sender, owned, shares);
        uint256 start = cooldownStartOf[msg.sender];
        uint256 windowStart = start + cooldownPeriod;
        uint256 windowEnd = windowStart + unstakeWindow;
        if (start == 0 || block.timestamp < windowStart || block.timestamp > windowEnd) {
            revert NotInUnstakeWindow(msg.sender, windowStart, windowEnd);
        }
        // Escrowed shares stay in totalShares: a slash in this very block still reaches them.
        sharesOf[msg.sender] = owned - shares;
        _pendingShares[msg.sender] += shares;
        _pendingAt[msg.sender] = block.timestamp;
        emit UnstakeRequested(msg.sender, shares, block.timestamp + 1);
    }

    /// @inheritdoc ISafetyModule
    function claim(address receiver) external returns (uint256 assets) {
        uint256 shares = _pendingShares[msg.sender];
        if (shares == 0) revert NothingToClaim(msg.sender);
        uint256 claimableAt = _pendingAt[msg.sender] + 1;
        if (block.timestamp < claimableAt) revert ClaimTooEarly(msg.sender, claimableAt);
        assets = previewClaim(shares);
        delete _pendingShares[msg.sender];
        delete _pendingAt[msg.sender];
        totalShares -= shares;
        totalAssets -= assets;
        collateral.safeTransfer(receiver, assets);
        emit Claimed(msg.sender, receiver, shares, assets);
    }

    /* ENGINE HOOKS */

    /// @inheritdoc ISafetyModule
    function depositReward(uint256 amount) external onlyEngine {
        totalAssets += amount;
        collateral.safeTransferFrom(msg.sender, address(this), amount);
        emit RewardDeposited(amount);
    }

    /// @inheritdoc ISafetyModule
    function slash(uint256 amount) external onlyEngine returns (uint256 slashed) {
        uint256 cap = slashCap();
        slashed = amount < cap ? amount : cap;
        // Every share, escrowed or in cooldown, loses the same fraction of its assets.
        totalAssets -= slashed;
        if (slashed > 0) collateral.safeTransfer(msg.sender, slashed);
        emit Slashed(amount, slashed, cap);
    }

    /* VIEWS */

    /// @inheritdoc ISafetyModule
    function pendingOf(address staker) external view returns (uint256 shares, uint256 claimableAt) {
        shares = _pendingShares[staker];
        claimableAt = shares == 0 ? 0 : _pendingAt[staker] + 1;
    }

    /// @inheritdoc ISafetyModule
    /// @dev Rounds down: the cap limits what is taken from stakers.
    function slashCap() public view returns (uint256) {
        return FixedPointMath.mulDivDown(totalAssets, maxSlashBps, BPS);
    }

    /// @inheritdoc ISafetyModule
    /// @dev Rounds down: the staker gets fewer shares (favours existing stakers).
    function previewStake(uint256 assets) public view returns (uint256) {
        return FixedPointMath.mulDivDown(assets, totalShares + VIRTUAL_SHARES, totalAssets + 1);
    }

    /// @inheritdoc ISafetyModule
    /// @dev Rounds down: the staker gets fewer assets (favours those who stay).
    function previewClaim(uint256 shares) public view returns (uint256) {
        return FixedPointMath.mulDivDown(shares, totalAssets + 1, totalShares + VIRTUAL_SHARES);
    }
}
