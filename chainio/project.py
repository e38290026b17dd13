"""Bridges ape (compile, deploy, accounts) to the lean JSON-RPC path."""

from __future__ import annotations

from typing import Any

from chainio.abi import AbiCodec, AbiRegistry
from chainio.contract import LeanContract
from chainio.rpc import RpcClient


def abi_of(contract_container: Any) -> list[dict[str, Any]]:
    """An ape ContractContainer's ABI as plain JSON dicts."""
    return [item.model_dump(mode="json", by_alias=True) for item in contract_container.contract_type.abi]


def project_registry(project: Any) -> AbiRegistry:
    """Errors and events of every contract the project compiles (libraries and mocks included)."""
    registry = AbiRegistry()
    for contract_type in project.contracts.values():
        registry.add([item.model_dump(mode="json", by_alias=True) for item in contract_type.abi])
    return registry


def lean(rpc: RpcClient, registry: AbiRegistry, container: Any, address: str) -> LeanContract:
    """The lean handle on a deployed instance of an ape ContractContainer."""
    return LeanContract(rpc, address, AbiCodec(abi_of(container)), registry)
