"""Shared fixtures: one Anvil per test process (ape-foundry, `host: auto`), lean RPC handles, and
for the differential tests a fresh deployment per test (under an EVM snapshot that is reverted
afterwards) with its model at the same addresses."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from chainio import RpcClient
from chainio.project import lean, project_registry
from difftest import profiles  # noqa: F401  (registers and loads the Hypothesis profile)
from difftest.ledger import Ledger, genesis_time
from difftest.snapshots import ChainSnapshot
from pymodel.config import SystemConfig, default_config


@pytest.fixture(scope="session")
def rpc(chain):
    client = RpcClient(chain.provider.uri)
    yield client
    client.close()


@pytest.fixture(scope="session")
def registry(project):
    return project_registry(project)


@pytest.fixture(scope="session")
def deployer(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def math_harness(project, deployer, rpc, registry):
    deployed = project.MathHarness.deploy(sender=deployer)
    return lean(rpc, registry, project.MathHarness, deployed.address)


@pytest.fixture
def make_ledger(project, accounts, rpc, registry) -> Iterator[Callable[[SystemConfig], Ledger]]:
    snapshot = ChainSnapshot(rpc)  # restored with nothing queued (difftest/snapshots.py)

    def build(config: SystemConfig | None = None) -> Ledger:
        actors = [account.address for account in accounts[:8]]
        return Ledger.deploy(project, accounts[0], actors, config or default_config(), rpc, registry, genesis_time(rpc))

    yield build
    snapshot.restore(retake=False)


@pytest.fixture
def ledger(make_ledger) -> Ledger:
    return make_ledger()
