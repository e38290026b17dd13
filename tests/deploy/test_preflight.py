"""The one-line refusals made before ape connects (issue 21 item 5): an unset RPC URL variable,
a URL that cannot be reached, a URL serving another chain."""

from __future__ import annotations

import socket

import pytest

from chainio.ops import OperatorError
from chainio.preflight import check_network, network_of, preflight, url_variable


def test_network_and_its_url_variable_from_ape_config():
    base = "ethereum:base-sepolia:node"
    assert network_of(["ape", "run", "deploy", "--network", base]) == base
    assert network_of(["--network=ethereum:sepolia:node"]) == "ethereum:sepolia:node" and network_of([]) is None
    assert url_variable("ethereum:arbitrum-sepolia:node") == "ARBITRUM_SEPOLIA_RPC_URL"
    assert url_variable("ethereum:local:foundry") is None  # ape-foundry starts its own node


def test_unset_variable__names_it(capsys):
    with pytest.raises(SystemExit) as exit_:
        preflight(["ape", "run", "deploy", "--network", "ethereum:arbitrum-sepolia:node"], environ={})
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err == "Error: set ARBITRUM_SEPOLIA_RPC_URL to an RPC URL of ethereum:arbitrum-sepolia:node " \
        "(ape-config.yaml reads it): nothing sent\n"  # fmt: skip


def test_unreachable_url__one_line():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # bound, not listening: refused
    with pytest.raises(OperatorError, match=rf"cannot reach SEPOLIA_RPC_URL={url} \(.*refused.*\): check the URL"):
        check_network("ethereum:sepolia:node", {"SEPOLIA_RPC_URL": url})


def test_url_of_another_chain__names_both_chain_ids(node):
    with pytest.raises(OperatorError) as refusal:
        check_network("ethereum:base-sepolia:node", {"BASE_SEPOLIA_RPC_URL": node.url})
    assert f"BASE_SEPOLIA_RPC_URL={node.url} serves chain id 11155111, but ethereum:base-sepolia:node is chain id " \
        "84532" in str(refusal.value)  # fmt: skip
    check_network("ethereum:sepolia:node", {"SEPOLIA_RPC_URL": node.url})  # the right chain: passes
