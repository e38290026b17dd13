"""Fixtures for the core-ledger differential tests: a fresh deployment per test on Anvil
(under an EVM snapshot that is reverted afterwards) and its model at the same addresses."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from difftest.ledger import Ledger, genesis_time
from pymodel.config import SystemConfig, default_config


@pytest.fixture
def make_ledger(project, accounts, rpc, registry) -> Iterator[Callable[[SystemConfig], Ledger]]:
    snapshot = rpc.request("evm_snapshot")

    def build(config: SystemConfig | None = None) -> Ledger:
        actors = [account.address for account in accounts[:8]]
        return Ledger.deploy(project, accounts[0], actors, config or default_config(), rpc, registry, genesis_time(rpc))

    yield build
    rpc.request("evm_revert", [snapshot])


@pytest.fixture
def ledger(make_ledger) -> Ledger:
    return make_ledger()
