"""Mirrors OpenZeppelin ERC20 (v5): balances, allowances, Transfer/Approval events and errors.

Base of the collateral token model and of the LP pool's share token.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymodel import evm
from pymodel.core import ZERO_ADDRESS, Env, EventLog, ModelContract, ModelEvent
from pymodel.errors import Revert

# Errors (IERC20Errors)


@dataclass
class ERC20InsufficientBalance(Revert):
    sender: str
    balance: int
    needed: int


@dataclass
class ERC20InvalidSender(Revert):
    sender: str


@dataclass
class ERC20InvalidReceiver(Revert):
    receiver: str


@dataclass
class ERC20InsufficientAllowance(Revert):
    spender: str
    allowance: int
    needed: int


@dataclass
class ERC20InvalidApprover(Revert):
    approver: str


@dataclass
class ERC20InvalidSpender(Revert):
    spender: str


# Events


@dataclass(frozen=True)
class Transfer(ModelEvent):
    from_: str
    to: str
    value: int


@dataclass(frozen=True)
class Approval(ModelEvent):
    owner: str
    spender: str
    value: int


class ERC20(ModelContract):
    """OpenZeppelin ERC20."""

    def __init__(self, address: str, log: EventLog, name: str, symbol: str, decimals: int = 18) -> None:
        super().__init__(address, log)
        self.name = name
        self.symbol = symbol
        self.decimals = decimals
        self.total_supply = 0
        self.balances: dict[str, int] = {}
        self.allowances: dict[tuple[str, str], int] = {}

    # Views

    def balance_of(self, account: str) -> int:
        return self.balances.get(account, 0)

    def allowance(self, owner: str, spender: str) -> int:
        return self.allowances.get((owner, spender), 0)

    # External

    def transfer(self, env: Env, to: str, value: int) -> bool:
        self._transfer(env.sender, to, value)
        return True

    def approve(self, env: Env, spender: str, value: int) -> bool:
        self._approve(env.sender, spender, value, emit=True)
        return True

    def transfer_from(self, env: Env, from_: str, to: str, value: int) -> bool:
        self._spend_allowance(from_, env.sender, value)
        self._transfer(from_, to, value)
        return True

    # Internal (same names and order as OpenZeppelin)

    def _transfer(self, from_: str, to: str, value: int) -> None:
        if from_ == ZERO_ADDRESS:
            raise ERC20InvalidSender(ZERO_ADDRESS)
        if to == ZERO_ADDRESS:
            raise ERC20InvalidReceiver(ZERO_ADDRESS)
        self._update(from_, to, value)

    def _update(self, from_: str, to: str, value: int) -> None:
        if from_ == ZERO_ADDRESS:
            self.total_supply = evm.add(self.total_supply, value)
        else:
            balance = self.balance_of(from_)
            if balance < value:
                raise ERC20InsufficientBalance(from_, balance, value)
            self.balances[from_] = balance - value
        if to == ZERO_ADDRESS:
            self.total_supply -= value
        else:
            self.balances[to] = self.balance_of(to) + value
        self.emit(Transfer(from_, to, value))

    def _mint(self, account: str, value: int) -> None:
        if account == ZERO_ADDRESS:
            raise ERC20InvalidReceiver(ZERO_ADDRESS)
        self._update(ZERO_ADDRESS, account, value)

    def _burn(self, account: str, value: int) -> None:
        if account == ZERO_ADDRESS:
            raise ERC20InvalidSender(ZERO_ADDRESS)
        self._update(account, ZERO_ADDRESS, value)

    def _approve(self, owner: str, spender: str, value: int, emit: bool) -> None:
        if owner == ZERO_ADDRESS:
            raise ERC20InvalidApprover(ZERO_ADDRESS)
        if spender == ZERO_ADDRESS:
            raise ERC20InvalidSpender(ZERO_ADDRESS)
        self.allowances[(owner, spender)] = value
        if emit:
            self.emit(Approval(owner, spender, value))

    def _spend_allowance(self, owner: str, spender: str, value: int) -> None:
        current = self.allowance(owner, spender)
        if current < evm.UINT256_MAX:
            if current < value:
                raise ERC20InsufficientAllowance(spender, current, value)
            self._approve(owner, spender, current - value, emit=False)


@dataclass
class FaucetCapExceeded(Revert):
    to: str
    amount: int
    limit: int


class MockStablecoin(ERC20):
    """Mirrors contracts/mocks/MockStablecoin.sol. `chain_id` is the chain's `block.chainid`:
    the faucet is capped off the local chain."""

    OPEN_CHAIN_ID = 31337
    MAX_MINT_PER_CALL = 1_000_000  # whole tokens
    MAX_MINT_PER_ACCOUNT = 10_000_000  # whole tokens

    def __init__(
        self, address: str, log: EventLog, name: str, symbol: str, decimals: int = 18, chain_id: int = OPEN_CHAIN_ID
    ) -> None:
        super().__init__(address, log, name, symbol, decimals)
        self.chain_id = chain_id
        self._minted_to: dict[str, int] = {}

    def minted_to(self, account: str) -> int:
        return self._minted_to.get(account, 0)

    def mint(self, env: Env, to: str, amount: int) -> None:
        """Mirrors MockStablecoin.mint (a faucet: anyone, within the caps)."""
        if self.chain_id != self.OPEN_CHAIN_ID:
            unit = 10**self.decimals
            per_call = self.MAX_MINT_PER_CALL * unit
            if amount > per_call:
                raise FaucetCapExceeded(to, amount, per_call)
            left = self.MAX_MINT_PER_ACCOUNT * unit - self.minted_to(to)
            if amount > left:
                raise FaucetCapExceeded(to, amount, left)
            self._minted_to[to] = self.minted_to(to) + amount
        self._mint(to, amount)
