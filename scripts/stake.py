"""`ape run stake ACTION --network <...> --account <alias> [--json]`: a staker's position in the
safety module of the deployment recorded for the connected chain.

- `stake --amount USD`: approves the module and stakes;
- `cooldown`: starts (or restarts) the cooldown for the shares staked now;
- `redeem [--shares N]`: inside the unstake window, escrows shares (default: all the cooldown covers);
- `claim`: pays the escrow out (from the second after `redeem` until the window ends);
- `show`: shares, their value, the cooldown and its window, the escrow.

Refused in one line, exit code 2, nothing sent: zero or negative amounts, more than the balance
or the shares held, no stake, a redeem outside its window or beyond the cooldown's shares, a
claim too early or too late, or anything else the module would revert (simulated first).
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

ACTIONS = ["stake", "cooldown", "redeem", "claim", "show"]


@role_command(ACTIONS, ROOT / "deployments")
@click.option("--amount", "amount_text", default=None, help="collateral to stake, USD")
@click.option("--shares", "shares_text", default=None, help="staked shares to redeem (decimals as the collateral's)")
def cli(action, alias, directory, confirmations, as_json, amount_text, shares_text):
    logger.set_level("ERROR")

    def body():
        role = open_role(chain, project, accounts, directory, alias, read_only=action == "show")
        sm = role.views["safetyModule"]
        d = role.decimals  # shares count in the collateral's decimals (1:1 at the first stake)
        if action == "show":
            return show(role)
        if action == "stake":
            assets = role.amount(amount_text, "--amount")
            role.check_balance(assets, "the stake")
            shares = sm.call("previewStake", assets)
            if shares == 0:
                raise Refused("ZeroShares", f"{role.money(assets)} buys no shares")
            approval = role.approve("safetyModule", assets, confirmations)
            tx = role.send("safetyModule", "stake", assets, confirmations=confirmations)
            data = {
                "action": action,
                "account": role.address,
                "assets": assets,
                "shares": shares,
                "approve_tx": approval,
                "tx": tx,
            }
            return data, [f"staked {role.money(assets)} for {decimal(shares, d)} shares: tx {tx}"]
        held = sm.call("sharesOf", role.address)
        if action == "cooldown":
            if held == 0:
                raise Refused("NoStake", f"{role.address} has no staked shares")
            tx = role.send("safetyModule", "cooldown", confirmations=confirmations)
            opens = role.now + sm.call("cooldownPeriod")
            data = {"action": action, "account": role.address, "shares": held, "tx": tx}
            return data, [f"cooldown for {decimal(held, d)} shares: redeem from about {opens}: tx {tx}"]
        if action == "redeem":
            opens, closes = window(role)
            if not opens <= role.now < closes:
                raise Refused(
                    "NotInUnstakeWindow", f"redeem inside [{opens}, {closes}) (after `cooldown`), now is {role.now}"
                )
            covered = sm.call("cooldownSharesOf", role.address)
            shares = covered if shares_text is None else units(shares_text, d, "--shares")
            if shares > held:
                raise Refused("InsufficientShares", f"{role.address} holds {decimal(held, d)} shares")
            if shares == 0 or shares > covered:
                raise Refused("ExceedsCooldownShares", f"the cooldown covers {decimal(covered, d)} shares")
            tx = role.send("safetyModule", "redeem", shares, confirmations=confirmations)
            data = {"action": action, "account": role.address, "shares": shares, "tx": tx}
            return data, [f"escrowed {decimal(shares, d)} shares: claim from the next second until {closes}: tx {tx}"]
        pending, claimable_at, deadline = sm.call("pendingOf", role.address)
        if pending == 0:
            raise Refused("NothingToClaim", f"{role.address} has no escrow (redeem first)")
        if role.now < claimable_at:
            raise Refused("ClaimTooEarly", f"claimable from {claimable_at}, now is {role.now}")
        if role.now > deadline:
            raise Refused("UnstakeWindowExpired", f"the window ended at {deadline}: the escrow goes back to the stake")
        assets = role.simulate("safetyModule", "claim", role.address)
        tx = role.send("safetyModule", "claim", role.address, confirmations=confirmations)
        data = {"action": action, "account": role.address, "escrow_shares": pending, "assets": assets, "tx": tx}
        return data, [f"claimed {role.money(assets)}: tx {tx}"]

    run_action(body, as_json)


def window(role: Role) -> tuple[int, int]:
    """The unstake window [start, end) of the account's cooldown ((0, 0): none)."""
    sm = role.views["safetyModule"]
    start = sm.call("cooldownStartOf", role.address)
    if start == 0:
        return 0, 0
    opens = start + sm.call("cooldownPeriod")
    return opens, opens + sm.call("unstakeWindow")


def show(role: Role):
    sm, d = role.views["safetyModule"], role.decimals
    shares = sm.call("sharesOf", role.address)
    value = sm.call("previewRedeem", shares) if shares else 0
    opens, closes = window(role)
    pending, claimable_at, deadline = sm.call("pendingOf", role.address)
    escrow_value = sm.call("previewClaim", pending) if pending else 0
    cooldown = None
    if opens:
        cooldown = {"shares": sm.call("cooldownSharesOf", role.address), "redeem_from": opens, "redeem_until": closes}
    escrow = None
    if pending:
        escrow = {"shares": pending, "value": escrow_value, "claimable_from": claimable_at, "claimable_until": deadline}
    data = {"account": role.address, "shares": shares, "value": value, "cooldown": cooldown, "escrow": escrow}
    lines = [f"{role.address}: {decimal(shares, d)} staked shares worth {role.money(value)}"]
    if data["cooldown"]:
        state = "open now" if opens <= role.now < closes else ("not yet" if role.now < opens else "expired")
        lines.append(
            f"  cooldown: {decimal(data['cooldown']['shares'], d)} shares, redeem in [{opens}, {closes}) ({state})"
        )
    if data["escrow"]:
        lines.append(
            f"  escrow: {decimal(pending, d)} shares worth {role.money(escrow_value)}, "
            f"claim in [{claimable_at}, {deadline}]"
        )
    return data, lines


if __name__ == "__main__":
    cli()
