"""Mirrors OpenZeppelin Ownable (v5): one owner, `onlyOwner`, transfer and renounce.

A base for model contracts that inherit `Ownable` on chain. Solidity runs the
`Ownable(initialOwner)` constructor before the derived one; the model's constructor calls
`_init_ownable(initial_owner)` first, for the same revert and the same first event.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymodel.core import ZERO_ADDRESS, Env, ModelContract, ModelEvent
from pymodel.errors import Revert

# Errors


@dataclass
class OwnableUnauthorizedAccount(Revert):
    account: str


@dataclass
class OwnableInvalidOwner(Revert):
    owner: str


# Events


@dataclass(frozen=True)
class OwnershipTransferred(ModelEvent):
    previous_owner: str
    new_owner: str


class Ownable(ModelContract):
    """OpenZeppelin Ownable. Subclasses call `_init_ownable` from their constructor."""

    _owner: str = ZERO_ADDRESS

    def _init_ownable(self, initial_owner: str) -> None:
        """Mirrors the constructor `Ownable(address initialOwner)`."""
        if initial_owner == ZERO_ADDRESS:
            raise OwnableInvalidOwner(ZERO_ADDRESS)
        self._transfer_ownership(initial_owner)

    # Views

    def owner(self) -> str:
        return self._owner

    # External

    def renounce_ownership(self, env: Env) -> None:
        self._check_owner(env)
        self._transfer_ownership(ZERO_ADDRESS)

    def transfer_ownership(self, env: Env, new_owner: str) -> None:
        self._check_owner(env)
        if new_owner == ZERO_ADDRESS:
            raise OwnableInvalidOwner(ZERO_ADDRESS)
        self._transfer_ownership(new_owner)

    # Internal

    def _check_owner(self, env: Env) -> None:
        """The `onlyOwner` modifier."""
        if self.owner() != env.sender:
            raise OwnableUnauthorizedAccount(env.sender)

    def _transfer_ownership(self, new_owner: str) -> None:
        old_owner = self._owner
        self._owner = new_owner
        self.emit(OwnershipTransferred(old_owner, new_owner))
