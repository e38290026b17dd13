// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockStablecoin
/// @notice The USD collateral on local chains and testnets: an OpenZeppelin ERC20 with
/// configurable decimals (6 by default in configs) and an open faucet `mint`.
contract MockStablecoin is ERC20 {
    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Faucet: anyone may mint (test and testnet token only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
