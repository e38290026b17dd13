// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockStablecoin
/// @notice The USD collateral on local chains and testnets: an OpenZeppelin ERC20 with
/// configurable decimals (6 by default in configs) and a faucet `mint`, open to anyone but capped
/// off the local chain: at most `MAX_MINT_PER_CALL` whole tokens a call and `MAX_MINT_PER_ACCOUNT`
/// whole tokens to any one recipient in all. On the local chain (id 31337, the test harness) uncapped.
/// @dev Mirrored by `pymodel.erc20.MockStablecoin`.
contract MockStablecoin is ERC20 {
    /// @notice A faucet mint over a cap: `amount` asked, `limit` what the cap still allows.
    error FaucetCapExceeded(address to, uint256 amount, uint256 limit);

    uint256 public constant OPEN_CHAIN_ID = 31337;
    uint256 public constant MAX_MINT_PER_CALL = 1_000_000; // whole tokens
    uint256 public constant MAX_MINT_PER_ACCOUNT = 10_000_000; // whole tokens

    uint8 private immutable _decimals;

    /// @notice Faucet units minted to each recipient so far (off the local chain).
    mapping(address account => uint256) public mintedTo;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Faucet: anyone may mint, within the caps (test and testnet token only).
    function mint(address to, uint256 amount) external {
        if (block.chainid != OPEN_CHAIN_ID) {
            uint256 unit = 10 ** _decimals;
            uint256 perCall = MAX_MINT_PER_CALL * unit;
            if (amount > perCall) revert FaucetCapExceeded(to, amount, perCall);
            uint256 left = MAX_MINT_PER_ACCOUNT * unit - mintedTo[to];
            if (amount > left) revert FaucetCapExceeded(to, amount, left);
            mintedTo[to] += amount;
        }
        _mint(to, amount);
    }
}
