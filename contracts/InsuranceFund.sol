// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EngineGated} from "./EngineGated.sol";
import {IInsuranceFund} from "./interfaces/IInsuranceFund.sol";

/// @title InsuranceFund
/// @notice Per-market buckets of collateral, first in the loss waterfall.
contract InsuranceFund is IInsuranceFund, EngineGated {
    using SafeERC20 for IERC20;

    /* STORAGE */

    IERC20 public immutable collateral;
    mapping(uint256 marketId => uint256) internal _buckets;

    /* CONSTRUCTOR */

    constructor(IERC20 collateral_, address owner_) Ownable(owner_) {
        collateral = collateral_;
    }

    /* FUNDING */

    /// @inheritdoc IInsuranceFund
    function fund(uint256 marketId, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        _buckets[marketId] += amount;
        collateral.safeTransferFrom(msg.sender, address(this), amount);
        emit BucketFunded(marketId, msg.sender, amount);
    }

    /// @inheritdoc IInsuranceFund
    function depositFromEngine(uint256 marketId, uint256 amount) external onlyEngine {
        _buckets[marketId] += amount;
        collateral.safeTransferFrom(msg.sender, address(this), amount);
        emit BucketFunded(marketId, msg.sender, amount);
    }

    /* COVER */

    /// @inheritdoc IInsuranceFund
    function cover(uint256 marketId, uint256 amount) external onlyEngine returns (uint256 paid) {
        uint256 bucket = _buckets[marketId];
        paid = amount < bucket ? amount : bucket;
        if (paid == 0) return 0;
        _buckets[marketId] = bucket - paid;
        collateral.safeTransfer(msg.sender, paid);
        emit BucketDrawn(marketId, paid);
    }

    /* VIEWS */

    /// @inheritdoc IInsuranceFund
    function bucketOf(uint256 marketId) external view returns (uint256) {
        return _buckets[marketId];
    }
}
