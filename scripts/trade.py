"""`ape run trade ACTION --network <...> --account <alias> [--json]`: a trader's orders and
positions on the deployment recorded for the connected chain (two-step orders: a keeper fills
them, SPEC §5a).

- `submit --market ID --size DELTA --acceptable-price USD [--margin USD]`: an order (size in
  base units, negative sells); approves the router for margin + execution fee;
- `close --market ID --acceptable-price USD`: an order for the opposite of the position;
- `add-margin` / `remove-margin --market ID --amount USD`;
- `cancel --market ID`: the account's expired order (margin back);
- `positions`: every position and pending order, with liquidation and bankruptcy prices.

Refused in one line, exit code 2, nothing sent: an unknown market, a zero or negative amount,
more than the balance, no position to close, an order already pending, an order not yet
expired, or anything else the contract would revert (simulated first, named by its error).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `ape run` does not put the project root on sys.path.

import click  # noqa: E402
from ape import accounts, chain, project  # noqa: E402
from ape.logging import logger  # noqa: E402

from chainio.preflight import preflight  # noqa: E402

preflight()  # an unset or wrong RPC URL: one line, before ape connects

from chainio.cli import (  # noqa: E402
    PRICE_DECIMALS,
    SIZE_DECIMALS,
    Refused,
    Role,
    open_role,
    price,
    role_command,
    run_action,
    size,
    units,
)

ACTIONS = ["submit", "close", "add-margin", "remove-margin", "cancel", "positions"]


@role_command(ACTIONS, ROOT / "deployments")
@click.option("--market", "market_id", type=int, default=None, help="market id")
@click.option("--size", "size_text", default=None, help="size delta in base units (negative: sell)")
@click.option("--margin", "margin_text", default=None, help="margin in USD (submit)")
@click.option("--acceptable-price", "price_text", default=None, help="worst fill price in USD")
@click.option("--amount", "amount_text", default=None, help="margin to add or remove, USD")
def cli(action, alias, directory, confirmations, as_json, market_id, size_text, margin_text, price_text, amount_text):
    logger.set_level("ERROR")

    def body():
        role = open_role(chain, project, accounts, directory, alias, read_only=action == "positions")
        if action == "positions":
            return positions(role)
        market = listed_market(role, market_id)
        if action in ("submit", "close"):
            return submit(role, market, action, size_text, margin_text, price_text, confirmations)
        if action == "cancel":
            return cancel(role, market, confirmations)
        return margin(role, market, action, amount_text, confirmations)

    run_action(body, as_json)


def listed_market(role: Role, market_id: int | None) -> int:
    listed = list(role.views["engine"].call("marketIds"))
    if market_id is None:
        raise Refused("MissingMarket", f"give --market (listed: {', '.join(map(str, listed))})")
    if market_id not in listed:
        raise Refused("MarketNotListed", f"market {market_id} is not listed (listed: {', '.join(map(str, listed))})")
    return market_id


def submit(role: Role, market: int, action: str, size_text, margin_text, price_text, confirmations: int):
    engine, router = role.views["engine"], role.views["orderRouter"]
    if price_text is None:
        raise Refused("MissingPrice", "give --acceptable-price (USD: buys fill at or below it, sells at or above)")
    acceptable = units(price_text, PRICE_DECIMALS, "--acceptable-price")
    if action == "close":
        held = engine.call("positionOf", role.address, market)[0]
        if held == 0:
            raise Refused("NoPosition", f"{role.address} has no position in market {market} to close")
        delta, margin_in = -held, 0
    else:
        if size_text is None:
            raise Refused("MissingSize", "give --size (base units, negative sells)")
        delta = units(size_text, SIZE_DECIMALS, "--size", signed=True)
        margin_in = 0 if margin_text is None else units(margin_text, role.decimals, "--margin")
        held = engine.call("positionOf", role.address, market)[0]
        if margin_in and held * delta < 0:
            raise Refused("MarginInOnDecrease", f"--size {size_text} reduces the position of {size(held)}: no --margin")
    pending = router.call("orderOf", role.address, market)
    if pending[4] != 0:
        raise Refused("OrderPending", f"an order of {size(pending[0])} is pending in market {market}: wait or cancel")
    fee = router.call("executionFee")
    role.check_balance(margin_in + fee, f"margin {role.money(margin_in)} + execution fee {role.money(fee)}")
    approval = role.approve("orderRouter", margin_in + fee, confirmations)
    tx = role.send("orderRouter", "submitOrder", market, delta, margin_in, acceptable, confirmations=confirmations)
    data = {
        "action": action, "account": role.address, "market_id": market, "size_delta": delta, "margin": margin_in,
        "acceptable_price": acceptable, "execution_fee": fee, "approve_tx": approval, "tx": tx,
    }  # fmt: skip
    return data, [
        f"{action}: order of {size(delta)} in market {market}, margin {role.money(margin_in)}, acceptable "
        f"{price(acceptable)}, execution fee {role.money(fee)}: tx {tx} (a keeper fills it)"
    ]


def margin(role: Role, market: int, action: str, amount_text, confirmations: int):
    engine = role.views["engine"]
    amount = role.amount(amount_text, "--amount")
    if engine.call("positionOf", role.address, market)[0] == 0:
        raise Refused("NoPosition", f"{role.address} has no position in market {market}")
    approval = None
    if action == "add-margin":
        role.check_balance(amount, "--amount")
        approval = role.approve("engine", amount, confirmations)
    function = "addMargin" if action == "add-margin" else "removeMargin"
    tx = role.send("engine", function, market, amount, confirmations=confirmations)
    data = {
        "action": action,
        "account": role.address,
        "market_id": market,
        "amount": amount,
        "approve_tx": approval,
        "tx": tx,
    }
    return data, [f"{action}: {role.money(amount)} in market {market}: tx {tx}"]


def cancel(role: Role, market: int, confirmations: int):
    router = role.views["orderRouter"]
    order = router.call("orderOf", role.address, market)
    if order[4] == 0:
        raise Refused("NoOrder", f"{role.address} has no pending order in market {market}")
    expires = order[4] + router.call("maxExecutionDelay")
    if role.now < expires:
        raise Refused(
            "OrderNotExpired",
            f"the order expires at {expires} ({expires - role.now} s from now); a keeper may still fill it",
        )
    tx = role.send("orderRouter", "cancelOrder", role.address, market, confirmations=confirmations)
    return {"action": "cancel", "account": role.address, "market_id": market, "tx": tx}, [
        f"cancelled the order in market {market}: tx {tx}"
    ]


def positions(role: Role):
    engine, router = role.views["engine"], role.views["orderRouter"]
    rows, lines = [], []
    for market in engine.call("marketIds"):
        position = engine.call("positionOf", role.address, market)
        order = router.call("orderOf", role.address, market)
        row = {"market_id": market, "size": position[0], "entry_price": position[1], "margin": position[2]}
        if position[0] != 0:
            row |= {
                "equity": engine.call("equity", role.address, market),
                "liquidation_price": engine.call("liquidationPrice", role.address, market),
                "bankruptcy_price": engine.call("bankruptcyPrice", role.address, market),
                "liquidatable": engine.call("isLiquidatable", role.address, market),
            }
            lines.append(
                f"market {market}: size {size(position[0])} at {price(position[1])}, margin {role.money(position[2])}, "
                f"equity {role.money(row['equity'])}, liquidation {price(row['liquidation_price'])}, bankruptcy "
                f"{price(row['bankruptcy_price'])}{', LIQUIDATABLE' if row['liquidatable'] else ''}"
            )
        if order[4] != 0:
            row["order"] = {
                "size_delta": order[0],
                "margin": order[1],
                "acceptable_price": order[2],
                "execution_fee": order[3],
                "submitted_at": order[4],
            }
            lines.append(
                f"market {market}: pending order {size(order[0])}, margin {role.money(order[1])}, acceptable "
                f"{price(order[2])}, submitted at {order[4]}"
            )
        if position[0] != 0 or order[4] != 0:
            rows.append(row)
    return {"account": role.address, "positions": rows}, lines or [f"{role.address}: no positions, no orders"]


if __name__ == "__main__":
    cli()
