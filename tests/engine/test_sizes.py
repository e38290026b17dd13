"""Code size limits (EIP-170, EIP-3860) with room for the features now due: every deployed
contract's runtime under 24,576 bytes, the engine's halves under 20 KB each, and the engine's
creation code (its modules' and validator's creation code included) under 49,152 bytes."""

from __future__ import annotations

import pytest

RUNTIME_LIMIT = 24_576
INITCODE_LIMIT = 49_152
ENGINE_TARGET = 20 * 1024
DEPLOYED = ("OracleAdapter", "LPPool", "InsuranceFund", "SafetyModule", "OrderRouter", "MarketParamsValidator")
ENGINE = ("PerpEngine", "LiquidationModule", "AdlModule")


def _sizes(project, name: str) -> tuple[int, int]:
    contract_type = getattr(project, name).contract_type
    return len(contract_type.runtime_bytecode.to_bytes()), len(contract_type.deployment_bytecode.to_bytes())


@pytest.mark.parametrize("name", DEPLOYED + ENGINE)
def test_sizes__runtime_and_creation_code_within_the_limits(project, name: str):
    runtime, initcode = _sizes(project, name)
    assert runtime < (ENGINE_TARGET if name in ENGINE else RUNTIME_LIMIT), f"{name}: runtime {runtime:,} bytes"
    assert initcode < INITCODE_LIMIT, f"{name}: creation code {initcode:,} bytes"
