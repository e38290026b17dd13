"""Shared fixtures: one Anvil per test process (ape-foundry, `host: auto`), lean RPC handles."""

from __future__ import annotations

import pytest

from chainio import RpcClient
from chainio.project import lean, project_registry
from difftest import profiles  # noqa: F401  (registers and loads the Hypothesis profile)


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
