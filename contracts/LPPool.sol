// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EngineGated} from "./EngineGated.sol";
import {ILPPool} from "./interfaces/ILPPool.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {IPerpEngine} from "./interfaces/IPerpEngine.sol";
import {Funding} from "./libraries/Funding.sol";
import {SignedMath} from "./libraries/SignedMath.sol";

/// @title LPPool
/// @notice The liquidity providers' vault: ERC-4626 with a virtual-share offset against the
/// first-depositor inflation attack, marked to the oracle, with asynchronous exits.
contract LPPool is ILPPool, ERC4626, EngineGated {
    using Math for uint256;
    using SafeCast for uint256;
    using SafeERC20 for IERC20;

    /* CONSTANTS */

    /// @dev Shares carry 6 more decimals than the asset: 10**6 virtual shares (OpenZeppelin offset).
    uint8 internal constant VIRTUAL_SHARE_DECIMALS = 6;
    uint256 internal constant MIN_REDEEM_TIMING = 1 minutes;
    uint256 internal constant MAX_REDEEM_TIMING = 30 days;
    /// @dev A sanity bound on any market's price in the valuation: 10**18 USD per unit of the base asset.
    /// Sizes times prices up to it cannot overflow the int256 arithmetic of the mark.
    uint256 internal constant MAX_PRICE = 1e36;

    /* STORAGE */

    struct RedeemRequest {
        uint256 shares;
        uint256 requestedAt;
        /// @dev What the shares were worth at the redemption mark when requested: a claim pays no more.
        uint256 assets;
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
        if (
            cooldown < MIN_REDEEM_TIMING || cooldown > MAX_REDEEM_TIMING || window < MIN_REDEEM_TIMING
                || window > MAX_REDEEM_TIMING
        ) {
            revert InvalidRedeemTiming(cooldown, window);
        }
        redeemCooldown = cooldown;
        redeemWindow = window;
        emit RedeemTimingSet(cooldown, window);
    }

    /* MARK */

    /// @inheritdoc ILPPool
    function poolClaimOnTraders(bool forDeposit, bool strict) public view returns (int256 claim, bool stale) {
        IPerpEngine perp = IPerpEngine(engine);
        IOracleAdapter oracle = perp.oracle();
        uint256 scale = perp.notionalScale();
        uint256[] memory marketIds = perp.marketIds();
        for (uint256 i = 0; i < marketIds.length; ++i) {
            uint256 marketId = marketIds[i];
            IPerpEngine.MarketState memory m = perp.marketState(marketId);
            if (m.longSize == 0 && m.shortSize == 0 && m.accruedFundingTotal == 0) continue;
            uint256 price;
            try oracle.price(marketId) returns (uint256 fresh) {
                price = fresh;
            } catch {}
            if (price == 0 || price > MAX_PRICE) {
                // Strict: the oracle's own error, or the bound's. Else only the settled funding the pool owes counts.
                if (strict) {
                    price = oracle.price(marketId);
                    revert PriceOutOfBounds(marketId, price, MAX_PRICE);
                }
                stale = true;
                if (m.accruedFundingTotal < 0) claim += m.accruedFundingTotal;
                continue;
            }
            int256 index = _fundingIndexNow(perp.marketParams(marketId), m, price);
            // Traders' losses (negative: profits) and pending funding, as the pool sees them, in 1e36 units.
            int256 longLoss = m.longEntryNotional.toInt256() - m.longSize.toInt256() * price.toInt256();
            int256 shortLoss = m.shortSize.toInt256() * price.toInt256() - m.shortEntryNotional.toInt256();
            int256 funding = (m.longSize.toInt256() - m.shortSize.toInt256()) * index - m.sumSizeTimesIndex;
            if (forDeposit) {
                // Rounds up: the depositor pays for every unit the pool may be owed.
                claim += SignedMath.mulDivCeil(longLoss + shortLoss + funding, 1, scale) + m.accruedFundingTotal;
                continue;
            }
            // Rounds down: all losses and funding (both signs), less what the traders beyond their
            // bankruptcy price cannot pay, bounded from above per side (docs/DESIGN.md, "Mark").
            claim += SignedMath.mulDivFloor(longLoss + shortLoss + funding, 1, scale) + m.accruedFundingTotal;
            int256 p = price.toInt256();
            claim -= _uncovered(m.longSize, m.longBankruptcyBound + index - p, scale);
            claim -= _uncovered(m.shortSize, p - index - m.shortBankruptcyBound, scale);
        }
        // What the pool owes back for liquidations it could not pay (the engine advanced it).
        claim -= perp.uncoveredDeficit().toInt256();
    }

    /// @dev size x gap / scale rounded up, 0 when the gap is not positive: at most what the side's
    /// positions beyond their bankruptcy price leave unpaid (`gap` is the bound's distance past the price).
    function _uncovered(uint256 size, int256 gap, uint256 scale) internal pure returns (int256) {
        if (size == 0 || gap <= 0) return 0;
        return SignedMath.mulDivCeil(size.toInt256(), uint256(gap), scale);
    }

    /// @dev The market's funding index now: the engine's rule (`Funding`), on the engine's state.
    function _fundingIndexNow(IPerpEngine.MarketParams memory p, IPerpEngine.MarketState memory m, uint256 price)
        internal
        view
        returns (int256)
    {
        int256 rate = Funding.rate(m.longSize, m.shortSize, p.maxFundingRatePerSecond, p.skewScale);
        uint256 elapsed = block.timestamp - m.lastFundingAt;
        return Funding.indexAfter(m.fundingIndex, rate, elapsed, price);
    }

    /// @dev Cash plus what traders owe the pool (negative: what the pool owes them), floored at 0.
    function _markedAssets(bool forDeposit, bool strict) internal view returns (uint256 assets, bool stale) {
        int256 claim;
        (claim, stale) = poolClaimOnTraders(forDeposit, strict);
        if (claim >= 0) return (cash + uint256(claim), stale);
        uint256 owed = uint256(-claim);
        assets = owed >= cash ? 0 : cash - owed;
    }

    /// @inheritdoc ILPPool
    function totalAssetsForDeposit() public view returns (uint256 assets) {
        (assets,) = _markedAssets(true, true);
    }

    /// @inheritdoc ILPPool
    function totalAssetsForRedeem() public view returns (uint256 assets) {
        (assets,) = _markedAssets(false, true);
    }

    /// @notice The pool's value at the oracle on the deposit mark; never reverts on a stale market (see
    /// `IPerpEngine.poolClaimOnTraders`).
    function totalAssets() public view override returns (uint256 assets) {
        (assets,) = _markedAssets(true, false);
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
        return _redeemValue(shares, totalAssetsForRedeem());
    }

    function _redeemValue(uint256 shares, uint256 marked) internal view returns (uint256) {
        return shares.mulDiv(marked + 1, totalSupply() + 10 ** _decimalsOffset(), Math.Rounding.Floor);
    }

    function previewWithdraw(uint256) public pure override returns (uint256) {
        revert AsyncRedeemOnly();
    }

    /// @notice 0 while a market has no valid price (deposits revert then), else unbounded.
    function maxDeposit(address) public view override returns (uint256) {
        (, bool stale) = _markedAssets(true, false);
        return stale ? 0 : type(uint256).max;
    }

    /// @notice 0 while a market has no valid price (mints revert then), else unbounded.
    function maxMint(address) public view override returns (uint256) {
        (, bool stale) = _markedAssets(true, false);
        return stale ? 0 : type(uint256).max;
    }

    function maxWithdraw(address) public pure override returns (uint256) {
        return 0;
    }

    /// @notice Shares `owner` can claim now: 0 outside the request's window or while a market has no valid
    /// price; inside it, as many of the requested shares as free cash can pay.
    function maxRedeem(address owner) public view override returns (uint256) {
        (uint256 marked, bool stale) = _markedAssets(false, false);
        if (stale) return 0;
        return _maxRedeem(owner, marked);
    }

    /// @dev The largest `s` with `_claimValue(owner, s, marked) <= freeCash`: floor(s x a / b) <= F iff
    /// s <= ((F + 1) x b - 1) / a, and the claim pays the lower of two such values.
    function _maxRedeem(address owner, uint256 marked) internal view returns (uint256) {
        RedeemRequest memory request = _requests[owner];
        uint256 claimableAt = request.requestedAt + redeemCooldown;
        if (request.shares == 0 || block.timestamp < claimableAt || block.timestamp > claimableAt + redeemWindow) {
            return 0;
        }
        uint256 free = _freeCash() + 1;
        uint256 atMark = (free * (totalSupply() + 10 ** _decimalsOffset()) - 1) / (marked + 1);
        uint256 atRequest = request.assets == 0 ? type(uint256).max : (free * request.shares - 1) / request.assets;
        uint256 limit = atMark > atRequest ? atMark : atRequest;
        return request.shares < limit ? request.shares : limit;
    }

    function _freeCash() internal view returns (uint256) {
        uint256 reserved = IPerpEngine(engine).reservedCash();
        return cash > reserved ? cash - reserved : 0;
    }

    /// @dev The lower of the shares' value now and their part of the value at request (both rounded down).
    function _claimValue(address owner, uint256 shares, uint256 marked) internal view returns (uint256) {
        RedeemRequest memory request = _requests[owner];
        uint256 now_ = _redeemValue(shares, marked);
        uint256 atRequest = request.assets.mulDiv(shares, request.shares, Math.Rounding.Floor);
        return now_ < atRequest ? now_ : atRequest;
    }

    /// @notice Asynchronous exits only: always reverts `AsyncRedeemOnly` (not a read-only call in the ABI).
    function withdraw(uint256, address, address) public override returns (uint256) {
        revert AsyncRedeemOnly();
    }

    /* ERC-4626 ENTRY POINTS */

    /// @dev The deposit mark first: a market without a valid price reverts with the oracle's error.
    function deposit(uint256 assets, address receiver) public override returns (uint256 shares) {
        shares = previewDeposit(assets);
        _deposit(msg.sender, receiver, assets, shares);
    }

    /// @dev The deposit mark first: a market without a valid price reverts with the oracle's error.
    function mint(uint256 shares, address receiver) public override returns (uint256 assets) {
        assets = previewMint(shares);
        _deposit(msg.sender, receiver, assets, shares);
    }

    /* ASYNCHRONOUS EXIT */

    /// @inheritdoc ILPPool
    function requestRedeem(uint256 shares) external {
        if (shares == 0) revert ZeroShares();
        // Rounds down: the value a claim of these shares can never exceed.
        uint256 assets = _redeemValue(shares, totalAssetsForRedeem());
        // Escrowed shares stay in totalSupply: they keep bearing losses until claimed.
        _transfer(msg.sender, address(this), shares);
        RedeemRequest storage request = _requests[msg.sender];
        request.shares += shares;
        request.assets += assets;
        request.requestedAt = block.timestamp;
        emit RedeemRequested(msg.sender, shares, assets, request.shares, block.timestamp + redeemCooldown);
    }

    /// @inheritdoc ILPPool
    function cancelRedeem() external {
        uint256 shares = _requests[msg.sender].shares;
        if (shares == 0) revert NoRedeemRequest(msg.sender);
        delete _requests[msg.sender];
        _transfer(address(this), msg.sender, shares);
        emit RedeemCancelled(msg.sender, shares);
    }

    /// @notice ERC-7540 claim: burns escrowed shares of `owner` (the caller) for the lower of their value at
    /// the claim block's redemption mark and their part of the value at request.
    function redeem(uint256 shares, address receiver, address owner) public override returns (uint256 assets) {
        if (msg.sender != owner) revert NotRequestOwner(msg.sender, owner);
        if (shares == 0) revert ZeroShares();
        uint256 marked = totalAssetsForRedeem();
        uint256 maxShares = _maxRedeem(owner, marked);
        if (shares > maxShares) revert ERC4626ExceededMaxRedeem(owner, shares, maxShares);
        assets = _claimValue(owner, shares, marked);
        _withdraw(msg.sender, receiver, owner, assets, shares);
    }

    /// @dev Replaces ERC4626._withdraw: shares are burned from escrow, and free cash must cover.
    function _withdraw(address caller, address receiver, address owner, uint256 assets, uint256 shares)
        internal
        override
    {
        uint256 freeCash = _freeCash();
        if (assets > freeCash) revert InsufficientFreeCash(assets, freeCash);
        RedeemRequest storage request = _requests[owner];
        // Rounds up: the request's remaining value bound shrinks by at least the claimed part.
        request.assets -= request.assets.mulDiv(shares, request.shares, Math.Rounding.Ceil);
        request.shares -= shares;
        if (request.shares == 0) delete _requests[owner];
        _burn(address(this), shares);
        cash -= assets;
        IERC20(asset()).safeTransfer(receiver, assets);
        emit Withdraw(caller, receiver, owner, assets, shares);
    }

    /// @dev Replaces ERC4626._deposit: refuses a collateral that delivers less than `assets`.
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        IERC20 token = IERC20(asset());
        uint256 balanceBefore = token.balanceOf(address(this));
        token.safeTransferFrom(caller, address(this), assets);
        uint256 received = token.balanceOf(address(this)) - balanceBefore;
        if (received != assets) revert FeeOnTransferUnsupported(assets, received);
        _mint(receiver, shares);
        emit Deposit(caller, receiver, assets, shares);
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
    function redeemRequestOf(address owner) external view returns (uint256 shares, uint256 requestedAt, uint256 assets) {
        RedeemRequest memory request = _requests[owner];
        return (request.shares, request.requestedAt, request.assets);
    }
}
