"""Lean chain access for tests, benchmarks and the differential harness.

ape deploys and wires contracts; this package then talks to Anvil directly over
keep-alive JSON-RPC: batched `eth_call`s, one `eth_sendTransactionSync` per
transaction (receipt included), fixed gas limits, and ABI decoding of return
values, custom errors and events. An ape call costs ~12 requests and a trace;
a call here costs one request, or a fraction of one when batched.
"""

from chainio.abi import AbiCodec, DecodedEvent
from chainio.contract import ChainRevert, LeanContract, Receipt
from chainio.rpc import RpcClient, RpcError

__all__ = [
    "AbiCodec",
    "ChainRevert",
    "DecodedEvent",
    "LeanContract",
    "Receipt",
    "RpcClient",
    "RpcError",
]
