"""`make demo` / `ape run demo`: start Anvil, deploy the contracts, show model ⇄ chain agreement.

For now the deployed system is the math layer (MathHarness over the libraries);
the demo evaluates SPEC §2 conversions on chain and in the model side by side.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `ape run` does not put the project root on sys.path.

import click  # noqa: E402
from ape import accounts, chain, project  # noqa: E402
from ape.cli import ConnectedProviderCommand  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from chainio import RpcClient  # noqa: E402
from chainio.project import lean, project_registry  # noqa: E402
from pymodel import units  # noqa: E402

WAD = 10**18


@click.command(cls=ConnectedProviderCommand)
def cli() -> None:
    console = Console()
    deployer = accounts.test_accounts[0]
    console.print(f"Chain: {chain.provider.name} at {chain.provider.uri} (chain id {chain.chain_id})")
    harness_address = project.MathHarness.deploy(sender=deployer).address
    console.print(f"MathHarness deployed at {harness_address}")
    harness = lean(RpcClient(chain.provider.uri), project_registry(project), project.MathHarness, harness_address)

    table = Table(title="SPEC §2 conversions: model vs chain")
    for column in ("quantity", "decimals", "model", "chain", "match"):
        table.add_column(column)
    for decimals in (6, 18):
        scale = units.notional_scale(decimals)
        cases = [
            ("notional 1.5 BTC @ 64,123.45 (up)", "notionalUp", (3 * WAD // 2, 64_123_450_000_000_000_000_000, scale)),
            ("notional -2 ETH @ 2,695.01 (down)", "notionalDown", (-2 * WAD, 2_695_010_000_000_000_000_000, scale)),
            ("PnL long 1 wei-size 1 -> 2 (floor)", "pnlFloor", (1, WAD, 2 * WAD, scale)),
            ("PnL short 0.3 ETH 2,000 -> 2,000.01", "pnlFloor", (-3 * WAD // 10, 2000 * WAD, 2000 * WAD + 10**16, scale)),
        ]
        for label, fn, args in cases:
            model = getattr(units, {"notionalUp": "notional_up", "notionalDown": "notional_down"}.get(fn, "pnl_floor"))(
                *args
            )
            on_chain = harness.call(fn, *args)
            table.add_row(label, str(decimals), str(model), str(on_chain), "yes" if model == on_chain else "NO")
    console.print(table)
