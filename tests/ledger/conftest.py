"""Fixtures for the core-ledger differential tests: a fresh deployment per test on Anvil
(under an EVM snapshot that is reverted afterwards) and its model at the same addresses."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from chainio.deploy import deploy_system
from difftest.ledger import Ledger
from pymodel.config import SystemConfig, default_config
from pymodel.system import System

# Every deployment is mined at this block time (Jan 2027), so runs are reproducible.
GENESIS_TIME = 1_800_000_000


@pytest.fixture
def make_ledger(project, accounts, rpc, registry) -> Iterator[Callable[[SystemConfig], Ledger]]:
    snapshot = rpc.request("evm_snapshot")

    def build(config: SystemConfig | None = None) -> Ledger:
        config = config or default_config()
        deployment = deploy_system(project, accounts[0], config, rpc, registry, timestamp=GENESIS_TIME)
        system = System(config, deployment.addresses, deployment.deployer, deployment.timestamp)
        ledger = Ledger(deployment, system, rpc, [account.address for account in accounts[:8]])
        ledger.require_same_state("deployment")
        return ledger

    yield build
    rpc.request("evm_revert", [snapshot])


@pytest.fixture
def ledger(make_ledger) -> Ledger:
    return make_ledger()
