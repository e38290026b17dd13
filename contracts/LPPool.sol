// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {EngineGated} from "./EngineGated.sol";
import {ILPPool} from "./interfaces/ILPPool.sol";
import {IPerpEngine} from "./interfaces/IPerpEngine.sol";

/// @title LPPool
/// @notice The liquidity providers' vault: ERC-4626 with a virtual-share offset against the
/// first-depositor inflation attack, marked to the oracle, with asynchronous exits.
contract LPPool is ILPPool, ERC4626, EngineGated {
    using Math for uint256;
    using SafeERC20 for IERC20;

    /* CONSTANTS */

    /// @dev Shares carry 6 more decimals than the asset: 10**6 virtual shares (OpenZeppelin offset).
    uint8 internal constant VIRTUAL_SHARE_DECIMALS = 6;
    uint256 internal constant MAX_REDEEM_TIMING = 365 days;

    /* STORAGE */

    struct RedeemRequest {
        uint256 shares;
        uint256 requestedAt;
    }

    uint256 public cash;
    uint256 public redeemCooldown;
    uint256 public redeemWindow;
    mapping(address owner => RedeemRequest) internal _requests;

    /* CONSTRUCTOR */

    constructor(IERC20 collateral, address owner_, uint256 cooldown, uint256 window)
        ERC20("perp-backstop LP", "pbLP")
        ERC4626(collateral)
        Ownable(owner_)
    {
        _setRedeemTiming(cooldown, window);
    }

    /* ADMIN */

    /// @inheritdoc ILPPool
    function setRedeemTiming(uint256 cooldown, uint256 window) external onlyOwner {
        _setRedeemTiming(cooldown, window);
    }

    function _setRedeemTiming(uint256 cooldown, uint256 window) internal {
        if (cooldown == 0 || cooldown > MAX_REDEEM_TIMING || window == 0 || window > MAX_REDEEM_TIMING) {
            revert InvalidRedeemTiming(cooldown, window);
        }
        redeemCooldown = cooldown;
        redeemWindow = window;
        emit RedeemTimingSet(cooldown, window);
    }

    /* MARK */

    /// @dev Cash plus what traders owe the pool (negative: what the pool owes them), floored at 0.
    function _markedAssets(bool roundUp) internal view returns (uint256) {
        int256 claim = IPerpEngine(engine).poolClaimOnTraders(roundUp);
        if (claim >= 0) return cash + uint256(claim);
        uint256 owed = uint256(-claim);
        return owed >= cash ? 0 : cash - owed;
    }

    /// @inheritdoc ILPPool
    function totalAssetsForDeposit() public view returns (uint256) {
        return _markedAssets(true);
    }

    /// @inheritdoc ILPPool
    function totalAssetsForRedeem() public view returns (uint256) {
        return _markedAssets(false);
    }

    /// @notice The pool's value at the oracle, the trader side's rounding (the deposit mark).
    function totalAssets() public view override returns (uint256) {
        return _markedAssets(true);
    }

    /* ERC-4626 PRICING */

    /// @dev Rounds down: depositor gets fewer shares (favours existing LPs).
    function previewDeposit(uint256 assets) public view override returns (uint256) {
        return assets.mulDiv(totalSupply() + 10 ** _decimalsOffset(), totalAssetsForDeposit() + 1, Math.Rounding.Floor);
    }

    /// @dev Rounds up: minter pays more assets (favours existing LPs).
    function previewMint(uint256 shares) public view override returns (uint256) {
        return shares.mulDiv(totalAssetsForDeposit() + 1, totalSupply() + 10 ** _decimalsOffset(), Math.Rounding.Ceil);
    }

    /// @dev Rounds down on the redemption mark: the redeemer gets fewer assets (favours the pool).
    function previewRedeem(uint256 shares) public view override returns (uint256) {
        return shares.mulDiv(totalAssetsForRedeem() + 1, totalSupply() + 10 ** _decimalsOffset(), Math.Rounding.Floor);
    }

    function previewWithdraw(uint256) public pure override returns (uint256) {
        revert AsyncRedeemOnly();
    }

    function maxWithdraw(address) public pure override returns (uint256) {
        return 0;
    }

    /// @notice Shares `owner` can claim now: the whole request inside its window, else 0.
    function maxRedeem(address owner) public view override returns (uint256) {
        RedeemRequest memory request = _requests[owner];
        uint256 claimableAt = request.requestedAt + redeemCooldown;
        if (request.shares == 0 || block.timestamp < claimableAt || block.timestamp > claimableAt + redeemWindow) {
            return 0;
        }
        return request.shares;
    }

    function withdraw(uint256, address, address) public pure override returns (uint256) {
        revert AsyncRedeemOnly();
    }

    /* ASYNCHRONOUS EXIT */

    /// @inheritdoc ILPPool
    function requestRedeem(uint256 shares) external {
        if (shares == 0) revert ZeroShares();
        // Escrowed shares stay in totalSupply: they keep bearing losses until claimed.
        _transfer(msg.sender, address(this), shares);
        RedeemRequest storage request = _requests[msg.sender];
        request.shares += shares;
        request.requestedAt = block.timestamp;
        emit RedeemRequested(msg.sender, shares, request.shares, block.timestamp + redeemCooldown);
    }

    /// @inheritdoc ILPPool
    function cancelRedeem() external {
        uint256 shares = _requests[msg.sender].shares;
        if (shares == 0) revert NoRedeemRequest(msg.sender);
        delete _requests[msg.sender];
        _transfer(address(this), msg.sender, shares);
        emit RedeemCancelled(msg.sender, shares);
    }

    /// @notice ERC-7540 claim: burns escrowed shares of `owner` (the caller) for assets at the
    /// claim block's redemption mark.
    function redeem(uint256 shares, address receiver, address owner) public override returns (uint256) {
        if (msg.sender != owner) revert NotRequestOwner(msg.sender, owner);
        return super.redeem(shares, receiver, owner);
    }

    /// @dev Replaces ERC4626._withdraw: shares are burned from escrow, and free cash must cover.
    function _withdraw(address caller, address receiver, address owner, uint256 assets, uint256 shares)
        internal
        override
    {
        uint256 reserved = IPerpEngine(engine).reservedCash();
        uint256 freeCash = cash > reserved ? cash - reserved : 0;
        if (assets > freeCash) revert InsufficientFreeCash(assets, freeCash);
        _requests[owner].shares -= shares;
        if (_requests[owner].shares == 0) delete _requests[owner];
        _burn(address(this), shares);
        cash -= assets;
        IERC20(asset()).safeTransfer(receiver, assets);
        emit Withdraw(caller, receiver, owner, assets, shares);
    }

    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        super._deposit(caller, receiver, assets, shares);
        cash += assets;
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return VIRTUAL_SHARE_DECIMALS;
    }

    /* ENGINE HOOKS */

    /// @inheritdoc ILPPool
    function creditFromEngine(uint256 amount) external onlyEngine {
        cash += amount;
        IERC20(asset()).safeTransferFrom(msg.sender, address(this), amount);
        emit CashCredited(amount);
    }

    /// @inheritdoc ILPPool
    function payToEngine(uint256 amount) external onlyEngine {
        if (amount > cash) revert InsufficientPoolCash(amount, cash);
        cash -= amount;
        IERC20(asset()).safeTransfer(msg.sender, amount);
        emit CashPaid(amount);
    }

    /* VIEWS */

    /// @inheritdoc ILPPool
    function redeemRequestOf(address owner) external view returns (uint256 shares, uint256 requestedAt) {
        RedeemRequest memory request = _requests[owner];
        return (request.shares, request.requestedAt);
    }
}
