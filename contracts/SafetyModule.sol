// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EngineGated} from "./EngineGated.sol";
import {ISafetyModule} from "./interfaces/ISafetyModule.sol";
import {FixedPointMath} from "./libraries/FixedPointMath.sol";

/// @title SafetyModule
/// @notice Staked collateral that backs the LP pool: slashed, capped per window, before the pool pays.
/// @dev Two pools share `totalAssets`: the stake (`totalAssets - escrowAssets` over `totalShares`), which earns
/// the fee share, and the escrow (`escrowAssets` over `escrowShares`) of exits waiting to be claimed, which earns
/// nothing. A slash takes from both in proportion to their assets.
contract SafetyModule is ISafetyModule, EngineGated {
    using SafeERC20 for IERC20;

    /* CONSTANTS */

    uint256 internal constant BPS = 10_000;
    /// @dev 10**6 virtual shares against the first-staker inflation attack (stake and escrow alike).
    uint256 internal constant VIRTUAL_SHARES = 1e6;
    uint256 internal constant MIN_PERIOD = 1 minutes;
    uint256 internal constant MAX_PERIOD = 30 days;
    uint256 internal constant MIN_SLASH_BPS = 100;
    uint256 internal constant MAX_SLASH_BPS = 5_000;
    uint256 internal constant MIN_SLASH_WINDOW = 1 hours;

    /* STORAGE */

    IERC20 public immutable collateral;
    uint256 public cooldownPeriod;
    uint256 public unstakeWindow;
    uint256 public maxSlashBps;
    uint256 public slashWindow;

    /// @inheritdoc ISafetyModule
    uint256 public totalAssets;
    /// @inheritdoc ISafetyModule
    uint256 public totalShares;
    /// @inheritdoc ISafetyModule
    uint256 public escrowAssets;
    /// @inheritdoc ISafetyModule
    uint256 public escrowShares;
    mapping(address staker => uint256) public sharesOf;
    mapping(address staker => uint256) public cooldownStartOf;
    mapping(address staker => uint256) public cooldownSharesOf;
    mapping(address staker => uint256) internal _pendingShares;
    mapping(address staker => uint256) internal _pendingAt;
    mapping(address staker => uint256) internal _pendingDeadline;

    uint256 public slashWindowStart;
    uint256 public slashWindowAssets;
    uint256 public slashedInWindow;

    /* CONSTRUCTOR */

    constructor(
        IERC20 collateral_,
        address owner_,
        uint256 cooldownPeriod_,
        uint256 unstakeWindow_,
        uint256 maxSlashBps_,
        uint256 slashWindow_
    ) Ownable(owner_) {
        collateral = collateral_;
        _setParams(cooldownPeriod_, unstakeWindow_, maxSlashBps_, slashWindow_);
    }

    /* ADMIN */

    /// @inheritdoc ISafetyModule
    function setParams(uint256 cooldownPeriod_, uint256 unstakeWindow_, uint256 maxSlashBps_, uint256 slashWindow_)
        external
        onlyOwner
    {
        _setParams(cooldownPeriod_, unstakeWindow_, maxSlashBps_, slashWindow_);
    }

    function _setParams(uint256 cooldownPeriod_, uint256 unstakeWindow_, uint256 maxSlashBps_, uint256 slashWindow_)
        internal
    {
        if (cooldownPeriod_ < MIN_PERIOD || cooldownPeriod_ > MAX_PERIOD) {
            revert InvalidParameter("cooldownPeriod", cooldownPeriod_);
        }
        if (unstakeWindow_ < MIN_PERIOD || unstakeWindow_ > MAX_PERIOD) {
            revert InvalidParameter("unstakeWindow", unstakeWindow_);
        }
        if (maxSlashBps_ < MIN_SLASH_BPS || maxSlashBps_ > MAX_SLASH_BPS) {
            revert InvalidParameter("maxSlashBps", maxSlashBps_);
        }
        if (slashWindow_ < MIN_SLASH_WINDOW || slashWindow_ > MAX_PERIOD) {
            revert InvalidParameter("slashWindow", slashWindow_);
        }
        cooldownPeriod = cooldownPeriod_;
        unstakeWindow = unstakeWindow_;
        maxSlashBps = maxSlashBps_;
        slashWindow = slashWindow_;
        emit ParamsSet(cooldownPeriod_, unstakeWindow_, maxSlashBps_, slashWindow_);
    }

    /* STAKING */

    /// @inheritdoc ISafetyModule
    function stake(uint256 assets) external returns (uint256 shares) {
        if (assets == 0) revert ZeroAmount();
        _restakeExpired(msg.sender);
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
        _restakeExpired(msg.sender);
        uint256 shares = sharesOf[msg.sender];
        if (shares == 0) revert NoStake(msg.sender);
        cooldownStartOf[msg.sender] = block.timestamp;
        cooldownSharesOf[msg.sender] = shares;
        emit CooldownStarted(msg.sender, block.timestamp, shares);
    }

    /// @inheritdoc ISafetyModule
    function redeem(uint256 shares) external {
        if (shares == 0) revert ZeroShares();
        _restakeExpired(msg.sender);
        uint256 owned = sharesOf[msg.sender];
        if (shares > owned) revert InsufficientShares(msg.sender, owned, shares);
        uint256 start = cooldownStartOf[msg.sender];
        uint256 windowStart = start + cooldownPeriod;
        uint256 windowEnd = windowStart + unstakeWindow;
        if (start == 0 || block.timestamp < windowStart || block.timestamp >= windowEnd) {
            revert NotInUnstakeWindow(msg.sender, windowStart, windowEnd);
        }
        uint256 covered = cooldownSharesOf[msg.sender];
        if (shares > covered) revert ExceedsCooldownShares(msg.sender, covered, shares);
        cooldownSharesOf[msg.sender] = covered - shares;
        // Rounds down twice (assets out of the stake, escrow shares in): the leaver gets less.
        uint256 assets = previewRedeem(shares);
        uint256 minted = FixedPointMath.mulDivDown(assets, escrowShares + VIRTUAL_SHARES, escrowAssets + 1);
        if (minted == 0) revert ZeroShares();
        sharesOf[msg.sender] = owned - shares;
        totalShares -= shares;
        escrowAssets += assets;
        escrowShares += minted;
        _pendingShares[msg.sender] += minted;
        _pendingAt[msg.sender] = block.timestamp;
        _pendingDeadline[msg.sender] = windowEnd;
        emit UnstakeRequested(msg.sender, shares, assets, minted, block.timestamp + 1, windowEnd);
    }

    /// @inheritdoc ISafetyModule
    function claim(address receiver) external returns (uint256 assets) {
        uint256 shares = _pendingShares[msg.sender];
        if (shares == 0) revert NothingToClaim(msg.sender);
        uint256 claimableAt = _pendingAt[msg.sender] + 1;
        if (block.timestamp < claimableAt) revert ClaimTooEarly(msg.sender, claimableAt);
        uint256 deadline = _pendingDeadline[msg.sender];
        if (block.timestamp > deadline) revert UnstakeWindowExpired(msg.sender, deadline);
        assets = _leaveEscrow(msg.sender, shares);
        totalAssets -= assets;
        collateral.safeTransfer(receiver, assets);
        emit Claimed(msg.sender, receiver, shares, assets);
    }

    /// @dev Escrow whose window has passed goes back to the stake at the stake's price (rounded down: the
    /// returning staker gets fewer shares).
    function _restakeExpired(address staker) internal {
        uint256 pending = _pendingShares[staker];
        if (pending == 0 || block.timestamp <= _pendingDeadline[staker]) return;
        uint256 stakedAssets = totalAssets - escrowAssets;
        uint256 assets = _leaveEscrow(staker, pending);
        uint256 shares = FixedPointMath.mulDivDown(assets, totalShares + VIRTUAL_SHARES, stakedAssets + 1);
        totalShares += shares;
        sharesOf[staker] += shares;
        emit UnstakeExpired(staker, pending, assets, shares);
    }

    /// @dev Burns `shares` of escrow for their assets (rounded down); the last leaver's rounding dust goes
    /// to the stake.
    function _leaveEscrow(address staker, uint256 shares) internal returns (uint256 assets) {
        assets = previewClaim(shares);
        delete _pendingShares[staker];
        delete _pendingAt[staker];
        delete _pendingDeadline[staker];
        escrowShares -= shares;
        escrowAssets -= assets;
        if (escrowShares == 0) escrowAssets = 0;
    }

    /* ENGINE HOOKS */

    /// @inheritdoc ISafetyModule
    function depositReward(uint256 amount) external onlyEngine {
        // To the stake: escrow earns nothing.
        totalAssets += amount;
        collateral.safeTransferFrom(msg.sender, address(this), amount);
        emit RewardDeposited(amount);
    }

    /// @inheritdoc ISafetyModule
    function slash(uint256 amount) external onlyEngine returns (uint256 slashed) {
        if (block.timestamp >= slashWindowStart + slashWindow) {
            slashWindowStart = block.timestamp;
            slashWindowAssets = totalAssets;
            slashedInWindow = 0;
            emit SlashWindowStarted(block.timestamp, totalAssets);
        }
        uint256 cap = slashCap();
        slashed = amount < cap ? amount : cap;
        if (slashed > 0) {
            // Rounds up: the escrow (leaving) bears the rounding, never the stake that stays.
            escrowAssets -= FixedPointMath.mulDivUp(slashed, escrowAssets, totalAssets);
            totalAssets -= slashed;
            slashedInWindow += slashed;
            collateral.safeTransfer(msg.sender, slashed);
        }
        emit Slashed(amount, slashed, cap);
    }

    /* VIEWS */

    /// @inheritdoc ISafetyModule
    function pendingOf(address staker) external view returns (uint256 shares, uint256 claimableAt, uint256 deadline) {
        shares = _pendingShares[staker];
        if (shares > 0) {
            claimableAt = _pendingAt[staker] + 1;
            deadline = _pendingDeadline[staker];
        }
    }

    /// @inheritdoc ISafetyModule
    /// @dev Rounds down: the cap limits what is taken from stakers. A window that has passed counts as new.
    function slashCap() public view returns (uint256) {
        bool fresh = block.timestamp >= slashWindowStart + slashWindow;
        uint256 base = fresh ? totalAssets : slashWindowAssets;
        uint256 used = fresh ? 0 : slashedInWindow;
        uint256 cap = FixedPointMath.mulDivDown(base, maxSlashBps, BPS);
        uint256 left = cap > used ? cap - used : 0;
        return left < totalAssets ? left : totalAssets;
    }

    /// @inheritdoc ISafetyModule
    /// @dev Rounds down: the staker gets fewer shares (favours existing stakers).
    function previewStake(uint256 assets) public view returns (uint256) {
        return FixedPointMath.mulDivDown(assets, totalShares + VIRTUAL_SHARES, totalAssets - escrowAssets + 1);
    }

    /// @inheritdoc ISafetyModule
    /// @dev Rounds down: the leaver gets fewer assets (favours those who stay).
    function previewRedeem(uint256 shares) public view returns (uint256) {
        return FixedPointMath.mulDivDown(shares, totalAssets - escrowAssets + 1, totalShares + VIRTUAL_SHARES);
    }

    /// @inheritdoc ISafetyModule
    /// @dev Rounds down: the leaver gets fewer assets (favours those who stay).
    function previewClaim(uint256 shares) public view returns (uint256) {
        return FixedPointMath.mulDivDown(shares, escrowAssets + 1, escrowShares + VIRTUAL_SHARES);
    }
}
