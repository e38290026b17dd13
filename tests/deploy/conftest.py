"""A testnet-like node for the rehearsal: a standalone Anvil started as an external node with
Sepolia's chain id on a free port, reached through ape's `node` provider exactly as Sepolia
is (`--network ethereum:sepolia:node`, `SEPOLIA_RPC_URL`), with fresh keyfile accounts in a
private ape data folder, unlocked from their passphrase variables."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_account import Account

from chainio import RpcClient

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
CAST = ROOT / "node_modules/@foundry-rs/cast-linux-amd64/bin/cast"
APE = ROOT / ".venv/bin/ape"
SEPOLIA = 11155111
NETWORK = "ethereum:sepolia:node"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _numbers(value):
    """cast's JSON writes integers beyond 2**64 as decimal strings: as ints, like the model."""
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


@dataclass
class Node:
    url: str
    rpc: RpcClient
    data_folder: Path
    deployments: Path
    env: dict[str, str]
    keys: dict[str, str] = field(default_factory=dict)  # alias -> private key
    addresses: dict[str, str] = field(default_factory=dict)  # alias -> address

    def new_account(self, alias: str, passphrase: str, funding_wei: int) -> str:
        """A fresh keyfile account, as `ape accounts import` writes it, funded from the node's faucet."""
        key = "0x" + secrets.token_hex(32)
        account = Account.from_key(key)
        folder = self.data_folder / "accounts"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{alias}.json").write_text(json.dumps(Account.encrypt(key, passphrase)))
        self.env[f"APE_ACCOUNTS_{alias}_PASSPHRASE"] = passphrase
        self.keys[alias], self.addresses[alias] = key, account.address
        if funding_wei:
            faucet = self.rpc.request("eth_accounts")[0]
            tx = {"from": faucet, "to": account.address, "value": hex(funding_wei)}
            self.rpc.request("eth_sendTransactionSync", [tx])
        return account.address

    def ape(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """`ape run <args> --network ethereum:sepolia:node` as a user runs it."""
        return subprocess.run(
            [str(APE), "run", *args, "--network", NETWORK],
            cwd=ROOT,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    def cast(self, *args: str) -> list:
        out = subprocess.run(
            [str(CAST), *args, "--rpc-url", self.url, "--json"], capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stderr
        return _numbers(json.loads(out.stdout))

    def head(self) -> int:
        return int(self.rpc.request("eth_blockNumber"), 16)

    def nonce(self, address: str) -> int:
        return int(self.rpc.request("eth_getTransactionCount", [address, "latest"]), 16)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    port = free_port()
    process = subprocess.Popen(
        [str(ANVIL), "--port", str(port), "--chain-id", str(SEPOLIA), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    rpc = RpcClient(url)
    for _ in range(200):
        try:
            rpc.request("eth_chainId")
            break
        except OSError:
            time.sleep(0.05)
    base = tmp_path_factory.mktemp("rehearsal")
    env = {k: v for k, v in os.environ.items() if not k.startswith("APE_ACCOUNTS_")}
    env |= {"APE_DATA_FOLDER": str(base / "ape"), "SEPOLIA_RPC_URL": url}
    yield Node(url, rpc, base / "ape", base / "deployments", env)
    rpc.close()
    process.terminate()
    process.wait(timeout=10)
