// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title StaticMulticall
/// @notice Many view calls in one `eth_call` (the pattern of Multicall3's `aggregate`, read-only):
/// the differential harness reads the whole state of a deployment in a single EVM execution.
contract StaticMulticall {
    /// @notice One of the calls reverted; `data` is its revert data.
    error CallFailed(uint256 index, bytes data);

    function aggregate(address[] calldata targets, bytes[] calldata calls)
        external
        view
        returns (bytes[] memory results)
    {
        results = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool ok, bytes memory data) = targets[i].staticcall(calls[i]);
            if (!ok) revert CallFailed(i, data);
            results[i] = data;
        }
    }
}
