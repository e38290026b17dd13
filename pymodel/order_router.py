"""Mirrors contracts/OrderRouter.sol: two-step market orders filled at the next oracle round.

The trader's margin and execution fee wait here in escrow; a keeper executes the order through
`PerpEngine.executeTrade` once an oracle round observed after the submission is on chain. The
contract calls the engine inside `try`/`catch`: a refused fill cancels the order instead of
reverting the keeper's transaction. The model mirrors the `try` with a nested mark of the
journal (`pymodel.core`): if the engine call reverts, every write it made (to the engine and
everything it reaches: token, oracle, pool, insurance fund, safety module) is undone and its
events are dropped, as the EVM discards a reverted call frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from pymodel import evm
from pymodel.core import Env, EventLog, ModelEvent, try_call
from pymodel.engine import PerpEngine, ZeroSize
from pymodel.erc20 import ERC20
from pymodel.error_selectors import ERROR_SELECTORS
from pymodel.errors import InvalidParameter, Revert
from pymodel.oracle_adapter import OracleAdapter
from pymodel.ownable import Ownable

MAX_MIN_EXECUTION_DELAY = 3_600  # 1 hour
MAX_MAX_EXECUTION_DELAY = 86_400  # 1 day
PULL_FILL_WINDOW = 10

# `ERROR_SELECTORS` (pymodel/error_selectors.py): the 4-byte selector of every custom error a
# contract of the system declares, plus Panic(uint256) and Error(string), what
# `OrderCancelled.reason` carries; generated from the compiled ABIs by toolchain/abi_tables.py.


def error_selector(error: Revert) -> bytes:
    """`bytes4(revertData)` of the error the chain would raise."""
    try:
        return ERROR_SELECTORS[error.error_name]
    except KeyError:
        raise LookupError(f"no selector for {error.error_name}: no such error in the compiled ABIs") from None


@dataclass
class Order:
    """IOrderRouter.Order; `submitted_at == 0` means none."""

    size_delta: int = 0
    margin_in: int = 0
    acceptable_price: int = 0
    execution_fee: int = 0
    submitted_at: int = 0

    def as_tuple(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self))


# Errors (IOrderRouter; ZeroSize and InvalidParameter are the shared classes: same signature)


@dataclass
class OrderPending(Revert):
    account: str
    market_id: int


@dataclass
class NoOrder(Revert):
    account: str
    market_id: int


@dataclass
class OrderExpired(Revert):
    account: str
    market_id: int
    expires_at: int


@dataclass
class OrderNotExpired(Revert):
    account: str
    market_id: int
    expires_at: int


@dataclass
class NotOracle(Revert):
    sender: str


@dataclass
class ExecutionOutOfGas(Revert):
    pass


# Events


@dataclass(frozen=True)
class OrderSubmitted(ModelEvent):
    account: str
    market_id: int
    size_delta: int
    margin_in: int
    acceptable_price: int
    execution_fee: int


@dataclass(frozen=True)
class OrderExecuted(ModelEvent):
    account: str
    market_id: int
    keeper: str
    price: int
    observed_at: int


@dataclass(frozen=True)
class OrderCancelled(ModelEvent):
    account: str
    market_id: int
    reason: bytes


@dataclass(frozen=True)
class ExecutionParamsSet(ModelEvent):
    execution_fee: int
    min_execution_delay: int
    max_execution_delay: int


class OrderRouter(Ownable):
    """Mirrors OrderRouter."""

    def __init__(
        self,
        address: str,
        log: EventLog,
        collateral: ERC20,
        oracle: OracleAdapter,
        engine: PerpEngine,
        owner: str,
    ) -> None:
        super().__init__(address, log)
        self._init_ownable(owner)
        self.collateral = collateral
        self.oracle = oracle
        self.engine = engine
        self.max_execution_fee = evm.mul(100, 10**collateral.decimals)
        # The engine pulls an order's margin from the escrow when it fills.
        collateral._approve(address, engine.address, evm.UINT256_MAX, emit=True)
        self.execution_fee = 0
        self.min_execution_delay = 0
        self.max_execution_delay = 0
        self._orders: dict[tuple[str, int], Order] = {}

    # Admin

    def set_execution_params(
        self, env: Env, execution_fee: int, min_execution_delay: int, max_execution_delay: int
    ) -> None:
        """Mirrors OrderRouter.setExecutionParams."""
        self._check_owner(env)
        if execution_fee > self.max_execution_fee:
            raise InvalidParameter("executionFee", execution_fee)
        if min_execution_delay > MAX_MIN_EXECUTION_DELAY:
            raise InvalidParameter("minExecutionDelay", min_execution_delay)
        if max_execution_delay <= min_execution_delay or max_execution_delay > MAX_MAX_EXECUTION_DELAY:
            raise InvalidParameter("maxExecutionDelay", max_execution_delay)
        self.execution_fee = execution_fee
        self.min_execution_delay = min_execution_delay
        self.max_execution_delay = max_execution_delay
        self.emit(ExecutionParamsSet(execution_fee, min_execution_delay, max_execution_delay))

    # Orders

    def submit_order(self, env: Env, market_id: int, size_delta: int, margin_in: int, acceptable_price: int) -> None:
        """Mirrors OrderRouter.submitOrder."""
        if size_delta == 0:
            raise ZeroSize()
        if self.order_of(env.sender, market_id).submitted_at != 0:
            raise OrderPending(env.sender, market_id)
        fee = self.execution_fee
        self._orders[(env.sender, market_id)] = Order(size_delta, margin_in, acceptable_price, fee, env.timestamp)
        escrow = evm.add(margin_in, fee)
        if escrow > 0:
            self.collateral.transfer_from(env.calling(self.address), env.sender, self.address, escrow)
        self.emit(OrderSubmitted(env.sender, market_id, size_delta, margin_in, acceptable_price, fee))

    def execute_order(
        self, env: Env, account: str, market_id: int, round_ids: list[int], pull_updates: list[bytes]
    ) -> None:
        """Mirrors OrderRouter.executeOrder (no value: the harness pays no update fee)."""
        order = self._live_order(account, market_id)
        expires_at = evm.add(order.submitted_at, self.max_execution_delay)
        if env.timestamp >= expires_at:
            raise OrderExpired(account, market_id, expires_at)
        # The fill is pinned to the order: each source's first observation at or after readyAt.
        ready_at = evm.add(order.submitted_at, max(1, self.min_execution_delay))
        price, observed_at = self.oracle.pin_fill(
            env.calling(self.address),
            market_id,
            ready_at,
            self.fill_window(),
            PULL_FILL_WINDOW,
            list(round_ids),
            list(pull_updates),
        )

        del self._orders[(account, market_id)]
        reason = self._try(
            lambda engine: engine.execute_trade(
                env.calling(self.address),
                account,
                market_id,
                order.size_delta,
                order.margin_in,
                order.acceptable_price,
            )
        )
        if reason is None:
            self.emit(OrderExecuted(account, market_id, env.sender, price, observed_at))
        else:
            if order.margin_in > 0:
                self.collateral.transfer(env.calling(self.address), account, order.margin_in)
            self.emit(OrderCancelled(account, market_id, error_selector(reason)))
        self.oracle.unpin(env.calling(self.address))
        if order.execution_fee > 0:
            self.collateral.transfer(env.calling(self.address), env.sender, order.execution_fee)

    def fill_window(self) -> int:
        """Mirrors OrderRouter.fillWindow."""
        return evm.sub(self.max_execution_delay, self.min_execution_delay) // 2

    def cancel_order(self, env: Env, account: str, market_id: int) -> None:
        """Mirrors OrderRouter.cancelOrder."""
        order = self._live_order(account, market_id)
        expires_at = evm.add(order.submitted_at, self.max_execution_delay)
        if env.timestamp < expires_at:
            raise OrderNotExpired(account, market_id, expires_at)

        del self._orders[(account, market_id)]
        if order.margin_in > 0:
            self.collateral.transfer(env.calling(self.address), account, order.margin_in)
        self.emit(OrderCancelled(account, market_id, ERROR_SELECTORS["OrderExpired"]))
        if order.execution_fee > 0:
            self.collateral.transfer(env.calling(self.address), env.sender, order.execution_fee)

    # Views

    def order_of(self, account: str, market_id: int) -> Order:
        """Mirrors OrderRouter.orderOf."""
        return self._orders.get((account, market_id), Order())

    def escrowed(self) -> int:
        """What the router holds for pending orders (margins and fees): its token balance."""
        return sum(order.margin_in + order.execution_fee for order in self._orders.values())

    # Internal

    def _live_order(self, account: str, market_id: int) -> Order:
        order = self.order_of(account, market_id)
        if order.submitted_at == 0:
            raise NoOrder(account, market_id)
        return order

    def _try(self, call: Callable[[PerpEngine], None]) -> Revert | None:
        """`try engine.call {} catch (bytes memory reason) {}`: the error, or None on success. A
        reverted call's writes and events are undone by the model's journal (no copy)."""
        return try_call(self.log, lambda: call(self.engine))
