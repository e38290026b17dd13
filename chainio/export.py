"""ABIs and addresses of a recorded deployment for clients other than ape (cast, ethers, viem,
Foundry scripts): `deployments/<chainId>/abi/<name>.json` (a plain ABI array, the format those
clients load) per contract of the record, and `deployments/<chainId>/addresses.json` (name ->
address, with the contract type and the deployment's timelock)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chainio.deploy import contract_of, plan
from chainio.deploy_record import DeploymentRecord


def export(record: DeploymentRecord, project: Any, directory: Path) -> Path:
    """Writes the files under `directory/<chainId>/`; returns that folder."""
    out = directory / str(record.chain_id)
    (out / "abi").mkdir(parents=True, exist_ok=True)
    types = contract_of(plan(record.deployment_config()))
    listing: dict[str, Any] = {"chain_id": record.chain_id, "network": record.network, "contracts": {}}
    for name, address in sorted(record.addresses.items()):
        contract = types[name]
        abi = [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in _abi(project, contract)]
        (out / "abi" / f"{name}.json").write_text(json.dumps(abi, indent=2) + "\n", encoding="utf-8")
        listing["contracts"][name] = {"address": address, "contract": contract, "abi": f"abi/{name}.json"}
    listing["timelock"] = record.addresses.get("timelock")
    (out / "addresses.json").write_text(json.dumps(listing, indent=2) + "\n", encoding="utf-8")
    return out


def _abi(project: Any, contract: str) -> list[Any]:
    return list(getattr(project, contract).contract_type.abi)
