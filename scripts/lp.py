"""`ape run lp ACTION --network <...> --account <alias> [--json]`: a liquidity provider's shares
in the pool of the deployment recorded for the connected chain (exits are asynchronous).

- `deposit --amount USD`: approves the pool and deposits;
- `request --shares N`: `requestRedeem` (escrows the shares, restarts the cooldown);
- `claim [--shares N]`: `redeem` inside the claim window (default: all it allows now);
- `cancel`: `cancelRedeem` (the escrowed shares come back);
- `show`: shares, their value, the pending request and its claim window.

Refused in one line, exit code 2, nothing sent: zero or negative amounts, more than the balance
or the shares held, no request, a claim outside its window, or anything else the pool would
revert (simulated first, named by its error).
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

from chainio.cli import Refused, Role, open_role, role_command, run_action, units  # noqa: E402
from chainio.keeper import decimal  # noqa: E402

ACTIONS = ["deposit", "request", "claim", "cancel", "show"]


@role_command(ACTIONS, ROOT / "deployments")
@click.option("--amount", "amount_text", default=None, help="collateral to deposit, USD")
@click.option("--shares", "shares_text", default=None, help="pool shares (decimals as the pool's)")
def cli(action, alias, directory, confirmations, as_json, amount_text, shares_text):
    logger.set_level("ERROR")

    def body():
        role = open_role(chain, project, accounts, directory, alias, read_only=action == "show")
        pool = role.views["pool"]
        share_decimals = pool.call("decimals")
        if action == "show":
            return show(role, share_decimals)
        if action == "deposit":
            assets = role.amount(amount_text, "--amount")
            role.check_balance(assets, "the deposit")
            cap = pool.call("maxDeposit", role.address)
            if assets > cap:
                raise Refused("ExceedsMaxDeposit", f"the pool takes at most {role.money(cap)} now")
            shares = role.simulate("pool", "previewDeposit", assets)
            approval = role.approve("pool", assets, confirmations)
            tx = role.send("pool", "deposit", assets, role.address, confirmations=confirmations)
            data = {
                "action": action,
                "account": role.address,
                "assets": assets,
                "shares": shares,
                "approve_tx": approval,
                "tx": tx,
            }
            return data, [f"deposited {role.money(assets)} for ~{decimal(shares, share_decimals)} shares: tx {tx}"]
        request = pool.call("redeemRequestOf", role.address)
        if action == "request":
            if shares_text is None:
                raise Refused("MissingShares", "give --shares")
            shares = units(shares_text, share_decimals, "--shares")
            held = pool.call("balanceOf", role.address)
            if shares > held:
                raise Refused("InsufficientShares", f"{role.address} holds {decimal(held, share_decimals)} shares")
            tx = role.send("pool", "requestRedeem", shares, confirmations=confirmations)
            opens = role.now + pool.call("redeemCooldown")
            data = {"action": action, "account": role.address, "shares": shares, "tx": tx}
            return data, [f"requested {decimal(shares, share_decimals)} shares, claimable from about {opens}: tx {tx}"]
        if request[0] == 0:
            raise Refused("NoRedeemRequest", f"{role.address} has no pending redeem request")
        if action == "cancel":
            tx = role.send("pool", "cancelRedeem", confirmations=confirmations)
            data = {"action": action, "account": role.address, "shares": request[0], "tx": tx}
            return data, [f"cancelled the request: {decimal(request[0], share_decimals)} shares back: tx {tx}"]
        opens, closes = window(role, request)
        if not opens <= role.now <= closes:
            raise Refused("OutsideRedeemWindow", f"the request is claimable in [{opens}, {closes}], now is {role.now}")
        allowed = pool.call("maxRedeem", role.address)
        shares = allowed if shares_text is None else units(shares_text, share_decimals, "--shares")
        if shares == 0 or shares > allowed:
            raise Refused(
                "ExceedsMaxRedeem", f"at most {decimal(allowed, share_decimals)} shares claimable now (free cash)"
            )
        assets = role.simulate("pool", "redeem", shares, role.address, role.address)
        tx = role.send("pool", "redeem", shares, role.address, role.address, confirmations=confirmations)
        data = {"action": action, "account": role.address, "shares": shares, "assets": assets, "tx": tx}
        return data, [f"claimed {decimal(shares, share_decimals)} shares for {role.money(assets)}: tx {tx}"]

    run_action(body, as_json)


def window(role: Role, request: tuple) -> tuple[int, int]:
    pool = role.views["pool"]
    opens = request[1] + pool.call("redeemCooldown")
    return opens, opens + pool.call("redeemWindow")


def show(role: Role, share_decimals: int):
    pool = role.views["pool"]
    shares = pool.call("balanceOf", role.address)
    value = pool.call("previewRedeem", shares) if shares else 0
    request = pool.call("redeemRequestOf", role.address)
    data = {"account": role.address, "shares": shares, "value": value, "request": None}
    lines = [f"{role.address}: {decimal(shares, share_decimals)} shares worth {role.money(value)} (redemption mark)"]
    if request[0]:
        opens, closes = window(role, request)
        claimable = pool.call("maxRedeem", role.address)
        data["request"] = {
            "shares": request[0], "requested_at": request[1], "assets_bound": request[2],
            "claimable_from": opens, "claimable_until": closes, "claimable_now": claimable,
        }  # fmt: skip
        state = "open now" if opens <= role.now <= closes else ("not yet" if role.now < opens else "expired")
        lines.append(
            f"  request: {decimal(request[0], share_decimals)} shares (worth at most {role.money(request[2])}), "
            f"claimable in [{opens}, {closes}] ({state}; {decimal(claimable, share_decimals)} claimable now)"
        )
    return data, lines


if __name__ == "__main__":
    cli()
