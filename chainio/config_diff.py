"""What changed between a recorded deployment's config and a new one, and which owner
setters would apply it to the running deployment (through the timelock where it has one):
the lines of `ape run deploy`'s changed-config refusal."""

from __future__ import annotations

import json
from typing import Any

from chainio.deploy import Adopt, Call, Deploy, DeploymentConfig, Ref, Step, plan, resolve

# A planned call whose effect, on a running deployment, another setter makes (a market is
# listed once; its parameters change through setMarketParams).
RESETTER = {"listMarket": "setMarketParams"}
# Constructor arguments with a setter: (setter, the constructor arguments it takes).
CONSTRUCTOR_SETTER = {
    "LPPool": ("setRedeemTiming", lambda a: (a[2], a[3])),
    "SafetyModule": ("setParams", lambda a: tuple(a[2:6])),
    "Timelock": ("updateDelay", lambda a: (a[0],)),  # the timelock's own call, scheduled like any
}
# Constructor arguments the setter covers (the others need a redeploy).
SETTER_COVERS = {"LPPool": {2, 3}, "SafetyModule": {2, 3, 4, 5}, "Timelock": {0}}


def _refs(args: Any) -> set[str]:
    if isinstance(args, tuple | list):
        return {name for a in args for name in _refs(a)}
    return {args.name} if isinstance(args, Ref) else set()


def changed_fields(old: Any, new: Any, path: str = "") -> list[str]:
    """Each leaf that differs, as `path: old -> new` (lists and dicts walked by index/key)."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = list(dict.fromkeys([*old, *new]))
        return [line for k in keys for line in changed_fields(old.get(k), new.get(k), f"{path}.{k}" if path else k)]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            line for i, (o, n) in enumerate(zip(old, new, strict=True)) for line in changed_fields(o, n, f"{path}[{i}]")
        ]
    return [] if old == new else [f"{path}: {json.dumps(old)} -> {json.dumps(new)}"]


def _json(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else value


def setter_calls(
    old: DeploymentConfig, new: DeploymentConfig
) -> tuple[list[tuple[str, str, tuple]], list[str], list[str], dict[str, str]]:
    """(target, setter, new arguments with `Ref`s unresolved) for every planned effect that
    differs, the steps no setter can change (a redeploy: `--force-new`), the planned calls the
    new config drops, and the contracts it adopts at new addresses (name -> address)."""
    old_plan = plan(old)
    old_steps = {step.describe(): step for step in old_plan}
    old_by_name = {s.name: s for s in old_plan if isinstance(s, Deploy | Adopt)}
    calls: list[tuple[str, str, tuple]] = []
    fixed: list[str] = []
    adopted: dict[str, str] = {}
    new_plan = plan(new)
    for step in new_plan:
        if step.describe() in old_steps:
            if isinstance(step, Call) and _refs(step.args) & set(adopted):  # a new feed: re-point
                calls.append((step.target, RESETTER.get(step.function, step.function), step.args))
            continue
        if isinstance(step, Call):
            calls.append((step.target, RESETTER.get(step.function, step.function), step.args))
        elif isinstance(step, Adopt) and step.name in old_by_name:  # re-pointed by the calls naming it
            adopted[step.name] = step.address
        elif isinstance(step, Deploy) and step.contract in CONSTRUCTOR_SETTER and _only_covered(old_by_name, step):
            setter, pick = CONSTRUCTOR_SETTER[step.contract]
            calls.append((step.name, setter, pick(step.args)))
        else:
            fixed.append(_describe(step))
    planned = {step.describe() for step in new_plan}
    dropped = [_describe(s) for s in old_plan if isinstance(s, Call) and s.describe() not in planned]
    dropped = [d for d in dropped if not any(d.startswith(f"call {t}.{f}(") for t, f, _ in calls)]
    return calls, fixed, dropped, adopted


def _only_covered(old_by_name: dict[str, Step], step: Deploy) -> bool:
    before = old_by_name.get(step.name)
    if not isinstance(before, Deploy) or len(before.args) != len(step.args):
        return False
    differing = {i for i, (a, b) in enumerate(zip(before.args, step.args, strict=True)) if a != b}
    return differing <= SETTER_COVERS[step.contract]


def _describe(step: Step) -> str:
    text = step.describe()
    return text if len(text) <= 90 else text[:89] + "…"


def refusal_lines(
    old: DeploymentConfig, new: DeploymentConfig, addresses: dict[str, str], network: str, timelocked: bool
) -> list[str]:
    """The refusal's body: the changed fields, then the command for each setter that applies
    them (scheduled through the timelock where the deployment has one), or why none can."""
    lines = ["changed fields:"] + [
        f"  {line}" for line in changed_fields(old.model_dump(mode="json"), new.model_dump(mode="json"))
    ]
    calls, fixed, dropped, adopted = setter_calls(old, new)
    addresses = {**addresses, **adopted}
    if calls:
        lines.append("to apply them to the running deployment:" if not fixed else "setters for part of them:")
        for target, function, args in calls:
            resolved = json.dumps(_json(resolve(args, addresses, clock=lambda: 0)))
            if timelocked:
                lines.append(
                    f"  ape run timelock schedule --network {network} --account <proposer> --target {target} "
                    f"--function {function} --args '{resolved}'   (then `execute` after the delay)"
                )
            else:
                lines.append(f"  {target}.{function}({resolved[1:-1]})")
    for step in fixed:
        lines.append(f"  no setter for `{step}`: deploy anew with --force-new")
    for step in dropped:
        lines.append(f"  the new config drops `{step}`: undo it by hand if it must go")
    return lines
