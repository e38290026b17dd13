"""`ape run push-prices --network <...> --account <alias> --market ID (--csv FILE | --path NAME)
[--delay S]`: pushes a price path, one new round per row, to a market's MOCK feed of the
deployment recorded for the connected chain (testnet drills; a real Chainlink feed is refused).

- `--csv FILE`: `timestamp,price` rows (a header line allowed; timestamps in seconds,
  increasing; prices in USD, decimals allowed). Rows are pushed `--delay` seconds apart
  (default: the gaps between their timestamps, times `--speed`).
- `--path crash|pump`: a built-in path from the feed's current answer, `--steps` rounds of
  `--step-bps` each, down or up.

Refused, nothing sent: an account that may not push (only the feed's deployer and the
config's `price_pushers` may, off the local chain) or cannot pay for the rounds' gas.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `ape run` does not put the project root on sys.path.

import click  # noqa: E402
from ape import accounts, chain, project  # noqa: E402
from ape.cli import ConnectedProviderCommand  # noqa: E402
from ape.logging import logger  # noqa: E402

from chainio.preflight import preflight  # noqa: E402

preflight()  # an unset or wrong RPC URL: one line, before ape connects

from chainio import deploy_record  # noqa: E402
from chainio.keeper import decimal  # noqa: E402
from chainio.ops import OperatorError, check_chain, check_funds, load_account  # noqa: E402
from chainio.prices import answer_of, builtin_answers, csv_rows  # noqa: E402
from pymodel.system import feed_name  # noqa: E402

DEPLOYMENTS = ROOT / "deployments"


@click.command(cls=ConnectedProviderCommand)
@click.option("--account", "alias", required=True, help="ape account (passphrase: APE_ACCOUNTS_<alias>_PASSPHRASE)")
@click.option("--deployments", "directory", default=DEPLOYMENTS, type=click.Path(file_okay=False, path_type=Path))
@click.option("--market", "market_id", type=int, required=True)
@click.option("--csv", "csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--path", "builtin", type=click.Choice(["crash", "pump"]))
@click.option("--steps", type=int, default=5, show_default=True, help="rounds of a built-in path")
@click.option("--step-bps", type=int, default=500, show_default=True, help="move per round of a built-in path")
@click.option("--delay", type=float, default=None, help="seconds between rounds (default: the CSV's gaps)")
@click.option("--speed", type=float, default=1.0, show_default=True, help="CSV time scale (0.1: ten times faster)")
@click.option("--confirmations", type=int, default=None, help="blocks to wait per transaction (default: the network's)")
def cli(
    alias: str,
    directory: Path,
    market_id: int,
    csv_path: Path | None,
    builtin: str | None,
    steps: int,
    step_bps: int,
    delay: float | None,
    speed: float,
    confirmations: int | None,
) -> None:
    logger.set_level("ERROR")
    try:
        run(alias, directory, market_id, csv_path, builtin, steps, step_bps, delay, speed, confirmations)
    except OperatorError as refusal:
        raise click.ClickException(str(refusal)) from None
    except KeyboardInterrupt:
        raise click.ClickException("interrupted: the rounds printed above were pushed; the rest were not") from None


# Gas one round may use (setAnswer writes one round: ~60k measured).
ROUND_GAS = 100_000


def run(alias, directory, market_id, csv_path, builtin, steps, step_bps, delay, speed, confirmations) -> None:
    if sum(x is not None for x in (csv_path, builtin)) != 1:
        raise OperatorError("give exactly one of --csv, --path")
    chain_id = chain.provider.chain_id
    path = deploy_record.record_path(directory, chain_id)
    record = deploy_record.load(path)
    if record is None or not record.complete:
        raise OperatorError(f"no complete deployment recorded for chain {chain_id} in {directory}: nothing sent")
    check_chain(record.chain_id, chain_id, f"record {path}")
    name = feed_name(market_id)
    step = next((s for s in record.steps if s.name == name), None)
    if step is None:
        raise OperatorError(f"market {market_id} is not in the deployment")
    if not step.step.startswith("deploy "):
        raise OperatorError(f"market {market_id} reads a real feed ({step.address}): only mock feeds take prices")
    feed = project.MockPriceFeed.at(step.address)
    decimals = feed.decimals()

    if csv_path is not None:
        rows = csv_rows(csv_path)
        answers = [answer_of(price, decimals) for _, price in rows]
        gaps = [0.0] + [(b[0] - a[0]) * speed for a, b in zip(rows, rows[1:], strict=False)]
    else:
        answers = builtin_answers(feed.latestRoundData()[1], builtin, steps, step_bps)
        gaps = [0.0] * len(answers)
    if delay is not None:
        gaps = [0.0] + [delay] * (len(answers) - 1)

    account = load_account(accounts, alias)
    if chain_id != feed.OPEN_CHAIN_ID() and account.address != feed.deployer() and not feed.isPusher(account.address):
        raise OperatorError(
            f"{account.address} may not push prices to {name} at {step.address} (only its deployer "
            f"{feed.deployer()} and the config's price_pushers may): nothing sent"
        )
    check_funds(account.balance, ROUND_GAS * len(answers), chain.provider.gas_price, f"account {alias}")
    tx_kwargs = {} if confirmations is None else {"required_confirmations": confirmations}
    for index, (answer, gap) in enumerate(zip(answers, gaps, strict=True)):
        if gap > 0:
            time.sleep(gap)
        receipt = feed.setAnswer(answer, sender=account, **tx_kwargs)
        tx = receipt.txn_hash if isinstance(receipt.txn_hash, str) else "0x" + bytes(receipt.txn_hash).hex()
        click.echo(
            f"round {index + 1}/{len(answers)} market {market_id}: ${decimal(answer, decimals)} "
            f"(answer {answer}, {decimals} decimals) block {receipt.block_number} tx {tx}"
        )
    click.echo(f"pushed {len(answers)} round(s) to {name} at {step.address}")


if __name__ == "__main__":
    cli()
