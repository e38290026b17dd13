"""The differential harness for the core ledger: every action runs on the model and on Anvil
through one call, and both sides must agree on the return value or the revert (error and
arguments), the ordered events (token transfers included) and the full state afterwards.

Time is an input: every action is mined at exactly `ledger.now` (evm_setNextBlockTimestamp)
and the model executes at the same timestamp. Setting the oracle is an action like any other
(a new round on the market's feed, with any `updatedAt`, so delayed updates are expressible).

Hot loops (benchmarks, the stateful fuzzer) set `ledger.batch` above 1: consecutive actions at
the same time then go into one block (the model executes them at once, in the same order, at the
same block time), and the chain's outcome and events of each action, and the full state after
the block, are compared when the block is mined. On any difference the block is rolled back on
both sides (`anvil_rollback`, the model's journal) and replayed one action per block, so the
report names the first differing action, its path and both values exactly as unbatched.
Conservation and waterfall order are checked on the model after every action either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chainio.abi import AbiRegistry
from chainio.contract import DEFAULT_GAS, ChainRevert, Multicall, call_batch
from chainio.deploy import Deployment, deploy_system
from chainio.project import lean
from chainio.rpc import RpcClient, RpcError
from pymodel.config import MarketConfig, SystemConfig
from pymodel.core import EmittedEvent, begin_action, end_action, rollback
from pymodel.evm import UINT256_MAX
from pymodel.system import Outcome, System, pyth_price_id, pyth_update, snake_case, source_name

# Deployments in tests and replays are mined at this block time (Jan 2027) while it lies ahead of
# the chain (Anvil starts at the wall clock); after that, shortly after the chain's head.
GENESIS = 1_800_000_000

# SafetyModule state added with the escrow pool and the slash window (issue 10), read like its other views.
SM_STATE = ("escrowAssets", "escrowShares", "slashWindow", "exitDelay", "slashOrigin")


def genesis_time(rpc: RpcClient) -> int:
    """GENESIS while it is ahead of the chain's head block, else the head's time + 100."""
    head = int(rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    return GENESIS if GENESIS > head else head + 100


class ParityError(AssertionError):
    """The model and the chain disagree; the message names the action and the first difference
    (`action`, when set, is the action it names)."""

    action: Action | None = None


@dataclass(frozen=True)
class Action:
    sender: str
    contract: str
    function: str
    args: tuple[Any, ...]
    timestamp: int

    def __str__(self) -> str:
        return f"{self.contract}.{self.function}{self.args} from {self.sender[:8]}… at t={self.timestamp}"


def _chain_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(arg.as_tuple() if hasattr(arg, "as_tuple") else arg for arg in args)


def first_difference(model: Any, chain: Any, path: str = "") -> str | None:
    """The path of the first differing leaf of two nested dict/tuple structures."""
    if isinstance(model, dict) and isinstance(chain, dict):
        for key in sorted(set(model) | set(chain), key=str):
            found = first_difference(model.get(key), chain.get(key), f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(model, (tuple, list)) and isinstance(chain, (tuple, list)) and len(model) == len(chain):
        for i, (a, b) in enumerate(zip(model, chain, strict=True)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if model == chain else f"{path}: model={model!r} chain={chain!r}"


class Ledger:
    """One deployment on both sides, driven action by action."""

    def __init__(
        self,
        deployment: Deployment,
        system: System,
        rpc: RpcClient,
        actors: list[str],
        multicall: Multicall | None = None,
    ) -> None:
        self.deployment = deployment
        # With a StaticMulticall the full state is one eth_call; without, one batched request.
        self.multicall = multicall
        self._state_calldata: str | None = None
        self.system = system
        self.rpc = rpc
        self.actors = actors
        self.now = deployment.timestamp
        self.market_ids = [m.market_id for m in system.config.markets]
        self.history: list[tuple[Action, Outcome]] = []
        self.last_chain: Outcome | None = None  # the chain's side of the last action
        self.last_model: Outcome | None = None  # the model's side of the last action
        self.batch = 1  # actions per block (see the module docstring); 1: one block per action
        self._block: list[tuple[Action, Outcome]] = []  # run on the model, not yet on chain
        self._block_mark: tuple[bool, int] | None = None  # the model's journal at the block's start
        self._failed = False  # a difference was raised: pending actions are not compared any more
        self._gas_limit: int | None = None  # the chain's block gas limit, restored after each block
        self._query_cache: list[tuple[str, str, str, tuple[Any, ...]]] | None = None

    @classmethod
    def deploy(
        cls,
        project: Any,
        deployer: Any,
        actors: list[str],
        config: SystemConfig,
        rpc: RpcClient,
        registry: AbiRegistry,
        timestamp: int,
    ) -> Ledger:
        """Deploys `config` on chain with every deployment block at `timestamp`, builds the
        model at the same addresses, and checks both start in the same state."""
        deployment = deploy_system(project, deployer, config, rpc, registry, timestamp=timestamp)
        system = System(config, deployment.addresses, deployment.deployer, deployment.timestamp)
        rpc.request("evm_setNextBlockTimestamp", [timestamp])
        aggregator = project.StaticMulticall.deploy(sender=deployer)
        multicall = Multicall(lean(rpc, registry, project.StaticMulticall, aggregator.address))
        ledger = cls(deployment, system, rpc, actors, multicall)
        ledger.require_same_state("deployment")
        return ledger

    # Actions

    def executed(self) -> list[tuple[Action, Outcome]]:
        """Every action run so far, in order, with the model's outcome: the compared history and
        the pending block (batched actions already run on the model, not yet mined)."""
        return [*self.history, *self._block]

    def act(self, sender: str, contract: str, function: str, *args: Any) -> Outcome:
        """Runs one action on both sides and requires identical outcomes and state (with
        `batch` > 1, the chain side and the comparison happen when its block is mined)."""
        action = Action(sender, contract, function, args, self.now)
        if self.batch <= 1 and not self._block:
            return self._act_alone(action)
        if self._block and self._block[0][0].timestamp != action.timestamp:
            self.flush()
        try:
            if not self._block:
                self._block_mark = begin_action()  # one journal for the block: undone for a replay
            model = self.system.execute(sender, self.now, contract, function, args)
            self.last_model = model
            self._block.append((action, model))
            self.require_conservation(action)
            self.require_waterfall_order(action, model)
        except BaseException as error:
            self._fail(error, action)
            raise
        if len(self._block) >= self.batch:
            self.flush()
        return model

    def _act_alone(self, action: Action) -> Outcome:
        """One action in its own block, compared at once."""
        try:
            model = self.system.execute(action.sender, action.timestamp, action.contract, action.function, action.args)
            self.last_model = model
            chain = self._execute_on_chain(action)
            self.last_chain = chain
            self._require_same_outcome(action, model, chain)
            self.require_same_state(action)
            self.require_conservation(action)
            self.require_waterfall_order(action, model)
        except ParityError as error:
            error.action = error.action or action
            raise
        self.history.append((action, model))
        return model

    def _fail(self, error: BaseException, action: Action | None) -> None:
        """Stops comparing: the pending block is dropped and the model's journal closed."""
        if isinstance(error, ParityError) and error.action is None:
            error.action = action
        self._failed = True
        self._block = []
        if self._block_mark is not None:
            mark, self._block_mark = self._block_mark, None
            end_action(mark)

    def flush(self) -> None:
        """Mines the pending block on chain and compares it (see the module docstring). After a
        difference has been raised, only closes the block."""
        if not self._block:
            return
        if self._failed:
            self._fail(ParityError("earlier difference"), None)
            return
        block, mark = self._block, self._block_mark
        try:
            chain, state = self._execute_block_on_chain([action for action, _ in block])
            same = self._block_matches(block, chain, state)
        except BaseException as error:
            self._fail(error, None)
            raise
        self._block, self._block_mark = [], None
        if same:
            assert mark is not None
            end_action(mark)
            self.history += block
            self.last_chain = chain[-1]
            return
        self._replay(block, mark)

    def _block_matches(self, block: list[tuple[Action, Outcome]], chain: list[Outcome], state: Any) -> bool:
        for (action, model), chain_outcome in zip(block, chain, strict=True):
            try:
                self._require_same_outcome(action, model, chain_outcome)
            except ParityError:
                return False
        model_state = self.model_state()
        if state is None:
            state = self._chain_state_now()
        return model_state == state or first_difference(model_state, state) is None

    def _replay(self, block: list[tuple[Action, Outcome]], mark: tuple[bool, int] | None) -> None:
        """The block differed: both sides go back to before it and run it one action per block,
        which raises the first difference as an unbatched run would."""
        assert mark is not None
        rollback(mark)
        end_action(mark)
        self.rpc.request("anvil_rollback", [2])  # the block and the empty one after it
        try:
            for action, _ in block:
                self._act_alone(action)
        except BaseException as error:
            self._fail(error, None)
            raise
        error = ParityError(f"the block of {len(block)} actions at t={block[0][0].timestamp} differed, one by one not")
        self._fail(error, block[-1][0])
        raise error

    def _execute_block_on_chain(self, actions: list[Action]) -> tuple[list[Outcome], Any]:
        """Sends the actions to the pool, mines one block at their time, and reads every receipt,
        the traces that carry return values and revert data, and the full state."""
        rpc = self.rpc
        if self._gas_limit is None:
            self._gas_limit = int(rpc.request("eth_getBlockByNumber", ["latest", False])["gasLimit"], 16)
        sends: list[tuple[str, list[Any]]] = []
        for action in actions:
            contract = self.deployment.contracts[action.contract]
            tx = {
                "from": action.sender,
                "to": contract.address,
                "data": contract.codec.encode_call(action.function, _chain_args(action.args)),
                "gas": hex(DEFAULT_GAS),
                "value": "0x0",
            }
            sends.append(("eth_sendTransaction", [tx]))
        # One write: mining paused, the block's gas limit raised for n transactions, the sends,
        # the block mined at the actions' time, automine and the gas limit back (one empty block).
        # The node runs pipelined requests strictly in order.
        calls: list[tuple[str, list[Any]]] = [
            ("evm_setAutomine", [False]),
            ("evm_setBlockGasLimit", [hex(DEFAULT_GAS * (len(actions) + 1))]),
            *sends,
            ("evm_mine", [actions[0].timestamp]),
            ("evm_setAutomine", [True]),
            ("evm_setBlockGasLimit", [hex(self._gas_limit)]),
            # An empty block at the same time carries the usual gas limit again: ape sizes its
            # transactions from the latest block's.
            ("evm_mine", [actions[0].timestamp]),
        ]
        replies = rpc.pipeline(calls)
        for (method, _), reply in zip(calls, replies, strict=True):
            if "error" in reply:
                raise RpcError(method, reply["error"])
        hashes = [reply["result"] for reply in replies[2 : 2 + len(sends)]]
        requests: list[tuple[str, list[Any]]] = [("eth_getTransactionReceipt", [h]) for h in hashes]
        if self.multicall is not None:
            if self._state_calldata is None:
                self._state_calldata = self.multicall.prepare(self._state_calls())
            requests.append(
                ("eth_call", [{"to": self.multicall.aggregator.address, "data": self._state_calldata}, "latest"])
            )
        replies = rpc.batch_raw(requests)
        receipts = [reply.get("result") for reply in replies[: len(hashes)]]
        blocks = {receipt and receipt["blockNumber"] for receipt in receipts}
        if None in blocks or len(blocks) != 1:
            raise RuntimeError(f"the {len(actions)} transactions were not mined in one block: {blocks}")
        if [int(receipt["transactionIndex"], 16) for receipt in receipts] != list(range(len(receipts))):
            raise RuntimeError("the block does not hold the transactions in the order they were sent")
        state = None
        if self.multicall is not None and "result" in replies[-1]:
            state = self._decode_state(self.multicall.decode(self._state_calls(), replies[-1]["result"]))
        traced = [
            i
            for i, (action, receipt) in enumerate(zip(actions, receipts, strict=True))
            if int(receipt["status"], 16) != 1
            or self.deployment.contracts[action.contract].codec.has_outputs(action.function)
        ]
        traces = rpc.batch([("debug_traceTransaction", [hashes[i], {"tracer": "callTracer"}]) for i in traced])
        outputs = {i: bytes.fromhex(trace.get("output", "0x")[2:]) for i, trace in zip(traced, traces, strict=True)}
        outcomes = []
        for i, (action, receipt) in enumerate(zip(actions, receipts, strict=True)):
            contract = self.deployment.contracts[action.contract]
            if int(receipt["status"], 16) != 1:
                outcomes.append(Outcome(reverted=True, error=contract.registry.decode_revert(outputs[i])))
                continue
            events = [contract.registry.decode_log(log) for log in receipt["logs"]]
            value = contract.codec.decode_output(action.function, outputs[i]) if i in outputs else None
            outcomes.append(
                Outcome(
                    reverted=False,
                    return_value=value,
                    events=[EmittedEvent(e.emitter, e.name, e.values()) for e in events],
                    gas_used=int(receipt["gasUsed"], 16),
                )
            )
        return outcomes, state

    def advance(self, seconds: int) -> None:
        """Moves time forward; the next action is mined at the new time."""
        self.now += seconds

    def _execute_on_chain(self, action: Action) -> Outcome:
        self.rpc.request("evm_setNextBlockTimestamp", [action.timestamp])
        contract = self.deployment.contracts[action.contract]
        try:
            receipt = contract.transact(
                action.function, *_chain_args(action.args), sender=action.sender, want_return=True
            )
        except ChainRevert as revert:
            return Outcome(reverted=True, error=revert.signature())
        events = [EmittedEvent(e.emitter, e.name, e.values()) for e in receipt.events]
        return Outcome(reverted=False, return_value=receipt.return_value, events=events, gas_used=receipt.gas_used)

    @staticmethod
    def _require_same_outcome(action: Action, model: Outcome, chain: Outcome) -> None:
        if model.reverted != chain.reverted or model.error != chain.error:
            raise ParityError(f"{action}: model {model.error or 'succeeded'} != chain {chain.error or 'succeeded'}")
        if model.return_value != chain.return_value:
            raise ParityError(f"{action}: returned model={model.return_value!r} chain={chain.return_value!r}")
        if model.events != chain.events:
            for i, (a, b) in enumerate(zip(model.events, chain.events, strict=False)):
                if a != b:
                    raise ParityError(f"{action}: event {i} differs:\n  model {a}\n  chain {b}")
            raise ParityError(f"{action}: {len(model.events)} model events != {len(chain.events)} chain events")

    # State

    def _holders(self) -> list[str]:
        a = self.deployment.addresses
        return [*self.actors, a.engine, a.pool, a.insurance_fund, a.safety_module, a.order_router]

    def _state_queries(self) -> list[tuple[str, str, str, tuple[Any, ...]]]:
        """(key, contract, function, args) for every piece of state compared."""
        q: list[tuple[str, str, str, tuple[Any, ...]]] = [("token.totalSupply", "token", "totalSupply", ())]
        q += [(f"token.balanceOf/{h}", "token", "balanceOf", (h,)) for h in self._holders()]
        q += [("pool.totalSupply", "pool", "totalSupply", ()), ("pool.cash", "pool", "cash", ())]
        q += [(f"pool.balanceOf/{h}", "pool", "balanceOf", (h,)) for h in self._holders()]
        q += [(f"pool.redeemRequestOf/{a}", "pool", "redeemRequestOf", (a,)) for a in self.actors]
        q += [("pool.redeemCooldown", "pool", "redeemCooldown", ()), ("pool.redeemWindow", "pool", "redeemWindow", ())]
        for name in (
            "socialisedLoss",
            "opensPaused",
            "insuranceShareBps",
            "safetyModuleShareBps",
            "maxUtilisationBps",
            "reserveFactorBps",
            "guardian",
            "adlTriggerBps",
            "adlTargetBps",
            "uncoveredDeficit",
            "orderRouter",
        ):
            q.append((f"engine.{name}", "engine", name, ()))
        q += [(f"engine.isAdlKeeper/{a}", "engine", "isAdlKeeper", (a,)) for a in self.actors]
        for name in ("executionFee", "minExecutionDelay", "maxExecutionDelay", "maxExecutionFee"):
            q.append((f"orderRouter.{name}", "orderRouter", name, ()))
        for name in ("totalAssets", "totalShares", "cooldownPeriod", "unstakeWindow", "maxSlashBps", *SM_STATE):
            q.append((f"safetyModule.{name}", "safetyModule", name, ()))
        q += [(f"safetyModule.slashCheckpointOf/{i}", "safetyModule", "slashCheckpointOf", (i,)) for i in range(8)]
        for a in self.actors:
            q.append((f"safetyModule.sharesOf/{a}", "safetyModule", "sharesOf", (a,)))
            q.append((f"safetyModule.cooldownStartOf/{a}", "safetyModule", "cooldownStartOf", (a,)))
            q.append((f"safetyModule.cooldownSharesOf/{a}", "safetyModule", "cooldownSharesOf", (a,)))
            q.append((f"safetyModule.pendingOf/{a}", "safetyModule", "pendingOf", (a,)))
        for m in self.market_ids:
            q.append((f"insuranceFund.bucketOf/{m}", "insuranceFund", "bucketOf", (m,)))
            q.append((f"engine.marketState/{m}", "engine", "marketState", (m,)))
            q.append((f"engine.marketParams/{m}", "engine", "marketParams", (m,)))
            q += [(f"engine.positionOf/{a}/{m}", "engine", "positionOf", (a, m)) for a in self.actors]
            q += [(f"orderRouter.orderOf/{a}/{m}", "orderRouter", "orderOf", (a, m)) for a in self.actors]
            q.append((f"oracle.feedOf/{m}", "oracle", "feedOf", (m,)))
            # Oracle (issue 11): every source (`feed<m>` first), the rules and the band's state.
            for i, kind in enumerate(self._source_kinds(m)):
                name = source_name(m, i)
                if kind == "chainlink":
                    q.append((f"{name}.latestRoundData", name, "latestRoundData", ()))
                else:
                    q.append((f"{name}.getPriceUnsafe", name, "getPriceUnsafe", (pyth_price_id(m, i),)))
            q.append((f"oracle.sourcesOf/{m}", "oracle", "sourcesOf", (m,)))
            q.append((f"oracle.oracleParamsOf/{m}", "oracle", "oracleParamsOf", (m,)))
            q.append((f"oracle.markOf/{m}", "oracle", "markOf", (m,)))
        return q

    def _source_kinds(self, market_id: int) -> list[str]:
        return [source.kind for source in self._market(market_id).oracle_sources()]

    def _market(self, market_id: int) -> MarketConfig:
        return next(m for m in self.system.config.markets if m.market_id == market_id)

    def _queries(self) -> list[tuple[str, str, str, tuple[Any, ...]]]:
        """`_state_queries()`, built once: they never change for a ledger (like their calldata)."""
        if self._query_cache is None:
            self._query_cache = self._state_queries()
        return self._query_cache

    def _state_calls(self) -> list[tuple[Any, str, tuple[Any, ...]]]:
        contracts = self.deployment.contracts
        return [(contracts[c], fn, args) for _, c, fn, args in self._queries()]

    def _decode_state(self, values: list[Any]) -> dict[str, Any]:
        return {key: value for (key, *_), value in zip(self._queries(), values, strict=True)}

    def chain_state(self, block: str = "latest") -> dict[str, Any]:
        """The compared state as the chain holds it (at `block`: a tag or a hex number)."""
        self.flush()
        return self._chain_state_now(block)

    def _chain_state_now(self, block: str = "latest") -> dict[str, Any]:
        calls = self._state_calls()
        if self.multicall is None:
            values = call_batch(calls, block)
        else:
            # The queries never change for a ledger: their calldata is encoded once.
            if self._state_calldata is None:
                self._state_calldata = self.multicall.prepare(calls)
            values = self.multicall.call(calls, block, prepared=self._state_calldata)
        return self._decode_state(values)

    def model_state(self) -> dict[str, Any]:
        c = self.system.c
        state: dict[str, Any] = {}
        for key, contract, function, args in self._queries():
            state[key] = _model_view(c, contract, function, args)
        return state

    def require_same_state(self, action: Action | str = "state") -> None:
        self.flush()
        model, chain = self.model_state(), self._chain_state_now()
        if model == chain:  # the common case, at C speed; the walk below names a difference
            return
        difference = first_difference(model, chain)
        if difference:
            raise ParityError(f"after {action}: {difference}")

    def require_conservation(self, action: Action | str = "state") -> None:
        """SPEC §10: each contract's collateral equals the claims on it, to the wei."""
        c = self.system.c
        token = c.token
        margins = sum(p.margin for p in c.engine.s.positions.values())
        checks = {
            # The engine advanced the uncovered deficit out of margins; the pool owes it back.
            "engine": (token.balance_of(c.engine.address), margins - c.engine.uncovered_deficit),
            "pool": (token.balance_of(c.pool.address), c.pool.cash),
            "insuranceFund": (token.balance_of(c.insurance_fund.address), sum(c.insurance_fund.buckets.values())),
            "safetyModule": (token.balance_of(c.safety_module.address), c.safety_module.total_assets),
            "orderRouter": (token.balance_of(c.order_router.address), c.order_router.escrowed()),
        }
        for holder, (balance, claims) in checks.items():
            if balance != claims:
                raise ParityError(f"after {action}: {holder} holds {balance} but claims on it are {claims}")

    def require_waterfall_order(self, action: Action, outcome: Outcome) -> None:
        """SPEC §10: every shortfall is fully split, and no layer pays before the one above it is
        exhausted (insurance bucket empty) or capped (the safety module slashed its cap)."""
        slashes = outcome.events_named("Slashed")
        for debt in outcome.events_named("BadDebtSettled"):
            if debt.shortfall != debt.from_insurance + debt.from_safety_module + debt.from_pool:
                raise ParityError(f"{action}: shortfall {debt.shortfall} is not the sum of its layers")
            bucket_empty = self.system.c.insurance_fund.bucket_of(debt.market_id) == 0
            if (debt.from_safety_module or debt.from_pool) and not bucket_empty:
                raise ParityError(f"{action}: a lower layer paid while the insurance bucket still held funds")
            if debt.from_pool and not (slashes and slashes[-1].slashed == slashes[-1].cap):
                raise ParityError(f"{action}: the pool paid while the safety module was below its cap")

    # Readable shorthands for scenarios

    def mint_and_approve(self, actor: str, amount: int) -> None:
        a = self.deployment.addresses
        self.act(actor, "token", "mint", actor, amount)
        for spender in (a.engine, a.pool, a.insurance_fund, a.safety_module, a.order_router):
            self.act(actor, "token", "approve", spender, UINT256_MAX)

    def set_price(self, market_id: int, answer: int, updated_at: int | None = None, sender: str | None = None) -> None:
        """A new oracle round (in the first source's units). `updated_at` defaults to now; earlier =
        delayed. A multi-source market moves as a whole: every source gets the same price, in its
        own units (rounded down)."""
        sources = self._market(market_id).oracle_sources()
        for index, source in enumerate(sources):
            scaled = answer * 10**source.decimals // 10 ** sources[0].decimals
            self.set_source_price(market_id, index, scaled, updated_at, sender)

    def set_source_price(
        self, market_id: int, index: int, answer: int, updated_at: int | None = None, sender: str | None = None
    ) -> Outcome:
        """A new observation on one source of a market (source units): `setRoundData` on a
        Chainlink source, `updatePriceFeeds` on a Pyth one (ignored by MockPyth unless newer)."""
        name = source_name(market_id, index)
        at = self.now if updated_at is None else updated_at
        source = self._market(market_id).oracle_sources()[index]
        if source.kind == "chainlink":
            return self.act(sender or self.actors[0], name, "setRoundData", answer, at)
        update = pyth_update(market_id, index, source.decimals, answer, at)
        return self.act(sender or self.actors[0], name, "updatePriceFeeds", [update])


def _model_view(c: Any, contract: str, function: str, args: tuple[Any, ...]) -> Any:
    """The model's answer to one state query, shaped like the ABI decoding of the chain's."""
    if contract == "token":
        return c.token.total_supply if function == "totalSupply" else c.token.balance_of(*args)
    if contract == "pool":
        pool = c.pool
        return {
            "totalSupply": lambda: pool.total_supply,
            "cash": lambda: pool.cash,
            "balanceOf": lambda: pool.balance_of(*args),
            "redeemRequestOf": lambda: pool.redeem_request_of(*args),
            "redeemCooldown": lambda: pool.redeem_cooldown,
            "redeemWindow": lambda: pool.redeem_window,
        }[function]()
    if contract == "insuranceFund":
        return c.insurance_fund.bucket_of(*args)
    if contract == "safetyModule":
        sm = c.safety_module
        return {
            "totalAssets": lambda: sm.total_assets,
            "totalShares": lambda: sm.total_shares,
            "cooldownPeriod": lambda: sm.cooldown_period,
            "unstakeWindow": lambda: sm.unstake_window,
            "maxSlashBps": lambda: sm.max_slash_bps,
            "sharesOf": lambda: sm.shares_of(*args),
            "cooldownStartOf": lambda: sm.cooldown_start_of(*args),
            "pendingOf": lambda: sm.pending_of(*args),
            "cooldownSharesOf": lambda: sm.cooldown_shares_of(*args),
            "slashCheckpointOf": lambda: sm.slash_checkpoint_of(*args),
            **{name: (lambda name=name: getattr(sm, snake_case(name))) for name in SM_STATE},
        }[function]()
    if contract == "oracle":
        return getattr(c.oracle, snake_case(function))(*args)
    if contract.startswith("feed"):
        return tuple(getattr(c.by_name(contract), snake_case(function))(*args))
    if contract == "orderRouter":
        router = c.order_router
        return {
            "executionFee": lambda: router.execution_fee,
            "minExecutionDelay": lambda: router.min_execution_delay,
            "maxExecutionDelay": lambda: router.max_execution_delay,
            "maxExecutionFee": lambda: router.max_execution_fee,
            "orderOf": lambda: router.order_of(*args).as_tuple(),
        }[function]()
    engine = c.engine
    if function == "marketState":
        return engine.market_state(*args).as_tuple()
    if function == "marketParams":
        params = engine.market_params(*args)
        return params.as_tuple() if params else None
    if function == "positionOf":
        return engine.position_of(*args).as_tuple()
    if function == "isAdlKeeper":
        return engine.is_adl_keeper.get(args[0], False)
    return {
        "socialisedLoss": engine.socialised_loss,
        "uncoveredDeficit": engine.uncovered_deficit,
        "adlTriggerBps": engine.adl_trigger_bps,
        "adlTargetBps": engine.adl_target_bps,
        "opensPaused": engine.opens_paused,
        "insuranceShareBps": engine.insurance_share_bps,
        "safetyModuleShareBps": engine.safety_module_share_bps,
        "maxUtilisationBps": engine.max_utilisation_bps,
        "reserveFactorBps": engine.reserve_factor_bps,
        "guardian": engine.guardian,
        "orderRouter": engine.order_router,
    }[function]
