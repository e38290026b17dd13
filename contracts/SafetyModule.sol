// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EngineGated} from "./EngineGated.sol";
import {ISafetyModule} from "./interfaces/ISafetyModule.sol";
import {FixedPointMath} from "./libraries/FixedPointMath.sol";

/// @title SafetyModule
/// @notice Staked collateral that backs the LP pool: slashed, capped on every `slashWindow`-long interval, before
/// the pool pays.
/// @dev Two pools share `totalAssets`: the stake (`totalAssets - escrowAssets` over `totalShares`), which earns
/// the fee share, and the escrow (`escrowAssets` over `escrowShares`) of exits waiting to be claimed, which earns
/// nothing. A slash takes from both in proportion to their assets. The cap is a rolling window: a ring of
/// `CHECKPOINTS` slots, each the product of the fractions of assets that the slashes of one time bucket left.
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
    uint256 internal constant MIN_EXIT_DELAY = 10 minutes;
    uint256 internal constant MAX_EXIT_DELAY = 7 days;
    /// @dev Slots of the rolling slash window; a slot spans ceil(slashWindow / (CHECKPOINTS - 1)) seconds.
    uint256 internal constant CHECKPOINTS = 8;
    /// @dev 1e36: the fraction of assets slashes leave, rounded down (sub-wei on any balance below 1e36).
    uint256 internal constant KEPT_ONE = 1e36;

    /* STORAGE */

    IERC20 public immutable collateral;
    uint256 public cooldownPeriod;
    uint256 public unstakeWindow;
    uint256 public maxSlashBps;
    uint256 public slashWindow;
    uint256 public exitDelay;

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
    mapping(address staker => uint256) internal _claimableAt;
    mapping(address staker => uint256) internal _pendingDeadline;

    /// @dev `at`: the last slash of the slot; `kept`: the product (KEPT_ONE = 1, rounded down) of what the slot's
    /// slashes left of the assets. A slot whose `at` is older than `slashWindow` is out of the window.
    struct Checkpoint {
        uint64 at;
        uint192 kept;
    }

    Checkpoint[CHECKPOINTS] internal _checkpoints;
    /// @inheritdoc ISafetyModule
    uint256 public slashOrigin;

    /* CONSTRUCTOR */

    constructor(
        IERC20 collateral_,
        address owner_,
        uint256 cooldownPeriod_,
        uint256 unstakeWindow_,
        uint256 maxSlashBps_,
        uint256 slashWindow_,
        uint256 exitDelay_
    ) Ownable(owner_) {
        collateral = collateral_;
        _setParams(cooldownPeriod_, unstakeWindow_, maxSlashBps_, slashWindow_, exitDelay_);
    }

    /* ADMIN */

    /// @inheritdoc ISafetyModule
    function setParams(
        uint256 cooldownPeriod_,
        uint256 unstakeWindow_,
        uint256 maxSlashBps_,
        uint256 slashWindow_,
        uint256 exitDelay_
    ) external onlyOwner {
        _setParams(cooldownPeriod_, unstakeWindow_, maxSlashBps_, slashWindow_, exitDelay_);
    }

    function _setParams(
        uint256 cooldownPeriod_,
        uint256 unstakeWindow_,
        uint256 maxSlashBps_,
        uint256 slashWindow_,
        uint256 exitDelay_
    ) internal {
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
        if (exitDelay_ < MIN_EXIT_DELAY || exitDelay_ > MAX_EXIT_DELAY) {
            revert InvalidParameter("exitDelay", exitDelay_);
        }
        cooldownPeriod = cooldownPeriod_;
        unstakeWindow = unstakeWindow_;
        maxSlashBps = maxSlashBps_;
        slashWindow = slashWindow_;
        exitDelay = exitDelay_;
        emit ParamsSet(cooldownPeriod_, unstakeWindow_, maxSlashBps_, slashWindow_, exitDelay_);
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
        // The whole escrow (earlier redeems included) waits `exitDelay`, slashable, then has `exitDelay` to leave.
        uint256 claimableAt = block.timestamp + exitDelay;
        uint256 deadline = claimableAt + exitDelay;
        _pendingShares[msg.sender] += minted;
        _claimableAt[msg.sender] = claimableAt;
        _pendingDeadline[msg.sender] = deadline;
        emit UnstakeRequested(msg.sender, shares, assets, minted, claimableAt, deadline);
    }

    /// @inheritdoc ISafetyModule
    function claim(address receiver) external returns (uint256 assets) {
        uint256 shares = _pendingShares[msg.sender];
        if (shares == 0) revert NothingToClaim(msg.sender);
        uint256 claimableAt = _claimableAt[msg.sender];
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
        delete _claimableAt[staker];
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
        uint256 kept = slashKept();
        uint256 cap = _slashCap(kept);
        slashed = amount < cap ? amount : cap;
        if (slashed > 0) {
            uint256 assets = totalAssets;
            if (kept == KEPT_ONE) emit SlashWindowStarted(block.timestamp, assets);
            // Rounds up: the escrow (leaving) bears the rounding, never the stake that stays.
            escrowAssets -= FixedPointMath.mulDivUp(slashed, escrowAssets, assets);
            totalAssets = assets - slashed;
            // Rounds down: the window remembers at least the fraction taken.
            _checkpoint(FixedPointMath.mulDivDown(assets - slashed, KEPT_ONE, assets));
            collateral.safeTransfer(msg.sender, slashed);
        }
        emit Slashed(amount, slashed, cap);
    }

    /// @dev Multiplies `kept` into the slot of `block.timestamp`'s bucket, or restarts the slot when its last slash
    /// is out of the window. With CHECKPOINTS - 1 buckets covering a window, a slot still in the window holds only
    /// the current bucket's slashes. Buckets count from the first slash, so they depend on no absolute time.
    function _checkpoint(uint256 kept) internal {
        if (slashOrigin == 0) slashOrigin = block.timestamp;
        uint256 span = (slashWindow + CHECKPOINTS - 2) / (CHECKPOINTS - 1);
        Checkpoint storage slot = _checkpoints[((block.timestamp - slashOrigin) / span) % CHECKPOINTS];
        if (slot.kept != 0 && slot.at + slashWindow > block.timestamp) {
            // Rounds down: the merged slot remembers at least what both took.
            kept = FixedPointMath.mulDivDown(kept, slot.kept, KEPT_ONE);
        }
        slot.at = uint64(block.timestamp);
        slot.kept = uint192(kept);
    }

    /// @dev The most a slash can take when the window's slashes left `kept` of the assets: what keeps the product at
    /// or above 1 - maxSlashBps. Rounds the assets that must stay up: the stakers keep the rounding.
    function _slashCap(uint256 kept) internal view returns (uint256) {
        uint256 floorKept = (BPS - maxSlashBps) * KEPT_ONE;
        if (kept * BPS <= floorKept) return 0;
        uint256 assets = totalAssets;
        uint256 stays = FixedPointMath.mulDivUp(assets, floorKept, kept * BPS);
        return assets > stays ? assets - stays : 0;
    }

    /* VIEWS */

    /// @inheritdoc ISafetyModule
    function pendingOf(address staker) external view returns (uint256 shares, uint256 claimableAt, uint256 deadline) {
        shares = _pendingShares[staker];
        if (shares > 0) {
            claimableAt = _claimableAt[staker];
            deadline = _pendingDeadline[staker];
        }
    }

    /// @inheritdoc ISafetyModule
    function slashCap() external view returns (uint256) {
        return _slashCap(slashKept());
    }

    /// @inheritdoc ISafetyModule
    /// @dev Rounds down (each slot and each product): the window never forgets a slash's share.
    function slashKept() public view returns (uint256 kept) {
        kept = KEPT_ONE;
        for (uint256 i = 0; i < CHECKPOINTS; ++i) {
            Checkpoint memory slot = _checkpoints[i];
            if (slot.kept != 0 && slot.at + slashWindow > block.timestamp) {
                kept = FixedPointMath.mulDivDown(kept, slot.kept, KEPT_ONE);
            }
        }
    }

    /// @inheritdoc ISafetyModule
    function slashCheckpointOf(uint256 slot) external view returns (uint256 at, uint256 kept) {
        Checkpoint memory checkpoint = _checkpoints[slot];
        return (checkpoint.at, checkpoint.kept);
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
