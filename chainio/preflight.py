"""Checks an operator script makes before ape connects, so the common setup mistakes end in one
line naming the cause and the fix instead of ape's traceback: the RPC URL variable that
`ape-config.yaml` reads for the chosen network is unset (ape: `Invalid uri: ${X_RPC_URL}`), the
URL cannot be reached, or it serves another chain than the network's."""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import yaml

from chainio.deploy import KNOWN_CHAIN_IDS
from chainio.ops import OperatorError

ROOT = Path(__file__).resolve().parent.parent


def network_of(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--network" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--network="):
            return arg.removeprefix("--network=")
    return None


def url_variable(network: str, config: Path = ROOT / "ape-config.yaml") -> str | None:
    """The environment variable `ape-config.yaml` reads the network's node URL from."""
    parts = network.split(":")
    if len(parts) < 3 or parts[2] != "node":
        return None
    settings = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    uri = ((settings.get("node") or {}).get(parts[0]) or {}).get(parts[1], {}).get("uri", "")
    found = re.fullmatch(r"\$\{(\w+)\}", str(uri))
    return found.group(1) if found else None


def chain_id_at(url: str, timeout: float = 10.0) -> int:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 (the operator's own URL)
        return int(json.loads(reply.read())["result"], 16)


def check_network(network: str | None, environ: Mapping[str, str]) -> None:
    if network is None:
        return
    variable = url_variable(network)
    if variable is None:
        return
    url = environ.get(variable, "").strip()
    if not url:
        raise OperatorError(f"set {variable} to an RPC URL of {network} (ape-config.yaml reads it): nothing sent")
    try:
        served = chain_id_at(url)
    except Exception as error:  # DNS, refused, TLS, HTTP status, not JSON-RPC: one line each
        reason = str(getattr(error, "reason", "") or error).splitlines()[0]
        raise OperatorError(
            f"cannot reach {variable}={url} ({reason}): check the URL and the node; nothing sent"
        ) from None
    expected = KNOWN_CHAIN_IDS.get(":".join(network.split(":")[:2]))
    if expected is not None and served != expected:
        raise OperatorError(
            f"{variable}={url} serves chain id {served}, but {network} is chain id {expected}: point {variable} "
            f"at a node of that network; nothing sent"
        )


def preflight(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> None:
    """`check_network` for this process's `--network`; a refusal prints one line and exits 1."""
    try:
        check_network(network_of(sys.argv if argv is None else argv), os.environ if environ is None else environ)
    except OperatorError as refusal:
        print(f"Error: {refusal}", file=sys.stderr)
        raise SystemExit(1) from None
