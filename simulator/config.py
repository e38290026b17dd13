"""`SimConfig`: one validated scenario (protocol, oracle, price path, population, keepers, run).

The protocol is a `pymodel.config.SystemConfig`, the very config that deploys the contracts,
so what is simulated is what deploys. Every other field has bounds; a bad value is rejected by
pydantic with the field's path in the message, before anything runs.
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pymodel.config import MarketConfig, SystemConfig, default_config, default_market
from pymodel.config import SourceConfig as ProtocolSource
from pymodel.engine import BPS
from pymodel.oracle_adapter import MAX_SOURCES, MAX_SPREAD_BPS
from simulator.presets import PRESETS, check_preset, merge, preset_overrides

DAY = 24 * 3600
NonNegative = Annotated[float, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LatencyConfig(_Strict):
    """How long an oracle round (or a keeper) takes to land, in seconds.

    `fixed`: always `seconds`; `uniform`: in [`seconds`, `high`]; `lognormal`: median `seconds`,
    log-sd `sigma`. `congestion` grows it with volatility: x (1 + congestion x |move %| of the
    last step), so a 2% one-minute drop with congestion 1 triples it (a congested chain in a crash);
    `max_seconds` caps the result.
    """

    kind: Literal["fixed", "uniform", "lognormal"] = "fixed"
    seconds: NonNegative = 0.0
    high: NonNegative | None = None
    sigma: Annotated[float, Field(ge=0, le=5)] = 0.5
    congestion: NonNegative = 0.0
    max_seconds: NonNegative | None = None  # a cap (e.g. the largest gap ever measured)

    @model_validator(mode="after")
    def _range(self) -> LatencyConfig:
        if self.kind == "uniform" and (self.high is None or self.high < self.seconds):
            raise ValueError(f"uniform latency needs high >= seconds, got seconds={self.seconds} high={self.high}")
        return self


class SourceConfig(_Strict):
    """One oracle source.

    `push`: a Chainlink-style feed publishing on a `deviation_bps` move or after `heartbeat_s`,
    whichever comes first; each round lands after `latency` with `updatedAt` = its landing block.
    `pull`: a Pyth-style oracle published every `update_every_s`; the keeper submits the
    published price it likes best among those at most `max_staleness_s` old.
    `frozen_at_s` (any kind): the source stops publishing then (until `resume_at_s`, if given).
    `max_age_s`: the consumer's staleness bound for this source (multi-source sets); a single
    source uses its market's `oracle_max_age`, as the deployed adapter does.
    """

    kind: Literal["push", "pull"] = "push"
    heartbeat_s: Annotated[int, Field(gt=0, le=7 * DAY)] = 3600
    deviation_bps: Annotated[int, Field(ge=0, le=BPS)] = 50
    latency: LatencyConfig = LatencyConfig()
    update_every_s: Annotated[int, Field(gt=0, le=DAY)] = 1
    max_staleness_s: Annotated[int, Field(gt=0, le=7 * DAY)] = 60
    frozen_at_s: Annotated[int, Field(ge=0)] | None = None
    resume_at_s: Annotated[int, Field(ge=0)] | None = None
    max_age_s: Annotated[int, Field(gt=0, le=7 * DAY)] | None = None

    @model_validator(mode="after")
    def _freeze(self) -> SourceConfig:
        if self.resume_at_s is not None and (self.frozen_at_s is None or self.resume_at_s <= self.frozen_at_s):
            raise ValueError(f"resume_at_s={self.resume_at_s} needs a frozen_at_s before it")
        return self


class SequencerOutage(_Strict):
    """An L2 sequencer down from `down_at_s` for `duration_s`, then `grace_s` of grace
    (OracleAdapter: SequencerDown, SequencerGracePeriod): nothing lands and nothing liquidates."""

    down_at_s: Annotated[int, Field(ge=0)]
    duration_s: Annotated[int, Field(gt=0)]
    grace_s: Annotated[int, Field(ge=0, le=DAY)] = 3600


class OracleConfig(_Strict):
    """A single source, or a set deployed as the market's sources in `OracleAdapter` (issue 11
    rules): the mark is the LOWER median of the fresh sources; fewer than `quorum` fresh sources,
    or fewer than `quorum` within `max_spread_bps` of that median, is a degraded market where
    nothing that needs a price acts."""

    sources: Annotated[list[SourceConfig], Field(min_length=1, max_length=MAX_SOURCES)] = [SourceConfig()]
    quorum: Annotated[int, Field(ge=1, le=MAX_SOURCES)] = 1
    max_spread_bps: Annotated[int, Field(ge=0, le=MAX_SPREAD_BPS)] = MAX_SPREAD_BPS
    sequencer: SequencerOutage | None = None

    @model_validator(mode="after")
    def _quorum(self) -> OracleConfig:
        if self.quorum > len(self.sources):
            raise ValueError(f"quorum={self.quorum} is above the number of sources ({len(self.sources)})")
        if len(self.sources) > 1 and any(s.max_age_s is None for s in self.sources):
            raise ValueError("every source of a multi-source set needs its own max_age_s")
        return self


class PathConfig(_Strict):
    """The real market price. `kind`: `preset` (a named incident of simulator.presets.PRESETS),
    `gbm`, `merton` (jump diffusion) or `csv` (a user's series of timestamp,price).

    `sigma` is annualised; jumps arrive `jump_rate_per_hour` with log-size N(`jump_mean`,
    `jump_sd`). `drop` and `drop_start_s`/`drop_duration_s` add a deterministic crash leg to
    the drift (the presets' fitted shape); `recovery` is the fraction of it won back by the end.
    """

    kind: Literal["preset", "gbm", "merton", "csv"] = "gbm"
    preset: str | None = None
    csv_file: Path | None = None
    start_price: Annotated[float, Field(gt=0)] = 3000.0
    sigma: Annotated[float, Field(ge=0, le=20)] = 0.8
    jump_rate_per_hour: Annotated[float, Field(ge=0, le=1000)] = 0.0
    jump_mean: Annotated[float, Field(ge=-1, le=1)] = -0.02
    jump_sd: Annotated[float, Field(ge=0, le=1)] = 0.02
    drop: Annotated[float, Field(gt=-1, le=10)] = 0.0
    drop_start_s: Annotated[int, Field(ge=0)] = 0
    drop_duration_s: Annotated[int, Field(gt=0)] = 3600
    recovery: Annotated[float, Field(ge=0, le=1)] = 0.0

    @model_validator(mode="after")
    def _source(self) -> PathConfig:
        if self.kind == "preset":
            check_preset(self.preset)
        if self.kind == "csv":
            if self.csv_file is None:
                raise ValueError("a csv path needs csv_file")
            read_price_csv(self.csv_file)
        return self


def read_price_csv(path: Path) -> tuple[list[int], list[float]]:
    """(timestamps, prices) of a `timestamp,price` CSV (a header line is allowed): timestamps
    strictly increasing integers, prices positive. Errors name the file, the line and the rule."""
    if not Path(path).is_file():
        raise ValueError(f"csv_file {path}: no such file")
    times: list[int] = []
    prices: list[float] = []
    with open(path, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            if not row or (line == 1 and not row[0].strip().lstrip("-").isdigit()):
                continue
            if len(row) != 2:
                raise ValueError(f"csv_file {path} line {line}: expected 'timestamp,price', got {row}")
            try:
                timestamp, price = int(row[0]), float(row[1])
            except ValueError:
                raise ValueError(f"csv_file {path} line {line}: not a number in {row}") from None
            if times and timestamp <= times[-1]:
                raise ValueError(
                    f"csv_file {path} line {line}: timestamps must increase strictly ({timestamp} after {times[-1]})"
                )
            if not price > 0:
                raise ValueError(f"csv_file {path} line {line}: price must be positive, got {price}")
            times.append(timestamp)
            prices.append(price)
    if len(times) < 2:
        raise ValueError(f"csv_file {path}: needs at least two rows, got {len(times)}")
    return times, prices


class PopulationConfig(_Strict):
    """Traders (opened before the crash) and the backstop's capital, in USD.

    Notional is lognormal (median `notional_median_usd`, log-sd `notional_sigma`, capped at
    `notional_max_usd`); leverage uniform in [`leverage_min`, `leverage_max`] (equity over
    notional right after the open; fees and spread are posted on top)."""

    positions: Annotated[int, Field(ge=1, le=100_000)] = 100
    long_fraction: Annotated[float, Field(ge=0, le=1)] = 0.7
    leverage_min: Annotated[float, Field(ge=1)] = 2.0
    leverage_max: Annotated[float, Field(ge=1)] = 9.0
    notional_median_usd: Annotated[float, Field(gt=0)] = 20_000.0
    notional_sigma: Annotated[float, Field(ge=0, le=5)] = 1.0
    notional_max_usd: Annotated[float, Field(gt=0)] = 500_000.0
    lp_deposit_usd: Annotated[int, Field(gt=0)] = 20_000_000
    insurance_usd: Annotated[int, Field(ge=0)] = 20_000
    safety_module_usd: Annotated[int, Field(ge=0)] = 50_000

    @model_validator(mode="after")
    def _leverage(self) -> PopulationConfig:
        if self.leverage_min > self.leverage_max:
            raise ValueError(f"leverage_min={self.leverage_min} is above leverage_max={self.leverage_max}")
        return self


class KeeperConfig(_Strict):
    """Liquidation keepers: they see the chain `latency` late (a per-path draw, whole steps)
    and act only when the keeper reward covers `gas_cost_usd`; `adl`: the keeper also runs
    ADL (granted the role); `update_mark`: it pushes the mark after every landing round."""

    latency: LatencyConfig = LatencyConfig(kind="fixed", seconds=0)
    gas_cost_usd: NonNegative = 1.0
    adl: bool = True
    # Push the mark (`OracleAdapter.updateMark`) in every block where a round lands: this arms
    # the market's price band (a move beyond `price_band_bps` of the last accepted mark within
    # `price_band_window` waits for a second, newer observation); without it the band never binds.
    update_mark: bool = False


# ---------------------------------------------------------------------------------------------
# Endogenous cascades (issue 20 item 2, simfid): market depth and keeper limits. Separate block:
# `SimConfig` carries them as `depth` and `keeper_limits`; docs/SIMULATOR.md "Market depth and
# keeper capacity" gives the model and its sources.
# ---------------------------------------------------------------------------------------------


class DepthConfig(_Strict):
    """Square-root market impact of the liquidation and ADL flow on the real market price.

    The net USD volume `Q` a step's liquidations and ADL trades close (longs closed: sold; shorts
    closed: bought) moves the log price of every later step by `impact_bps / 10000 x sqrt(Q /
    depth_usd)` (the square-root law: `depth_usd` is the volume that moves the market by
    `impact_bps`), against the closed side, decaying with `half_life_s` (transient impact).
    The next oracle round reports the moved price: the path is a function of the book.
    Off (`enabled: false`) the path is exogenous, as before."""

    enabled: bool = False
    depth_usd: Annotated[float, Field(gt=0)] = 10_000_000.0
    impact_bps: Annotated[float, Field(ge=0, le=BPS)] = 100.0
    half_life_s: Annotated[float, Field(gt=0)] = 600.0


class KeeperOutage(_Strict):
    """Keepers down (no liquidation, no ADL) from `at_s` for `duration_s`."""

    at_s: Annotated[int, Field(ge=0)]
    duration_s: Annotated[int, Field(gt=0)]


class KeeperLimits(_Strict):
    """What keepers can do per block (step): at most `block_gas_budget // liquidation_gas`
    liquidations (None: unlimited; the rest wait for the next block, in account order); the gas
    cost of one liquidation `keepers.gas_cost_usd x (1 + gas_volatility x |move %| of the step)`
    (gas prices rise in a crash); `outages`: windows where no keeper acts."""

    block_gas_budget: Annotated[int, Field(gt=0)] | None = None
    liquidation_gas: Annotated[int, Field(gt=0)] = 300_000  # docs/DESIGN.md: 295,323 (one source)
    gas_volatility: NonNegative = 0.0
    outages: Annotated[list[KeeperOutage], Field(max_length=100)] = []

    def capacity(self) -> int | None:
        """Liquidations per block, or None (unlimited)."""
        if self.block_gas_budget is None:
            return None
        return max(1, self.block_gas_budget // self.liquidation_gas)


# ---------------------------------------------------------------------------------------------


class SimConfig(_Strict):
    """A scenario. `system` is the deployable protocol; `market_id` the market simulated.

    `preset: <name>` in a file starts from that preset (simulator.presets: its protocol,
    oracle, path shape and horizon) and the file's other fields override it. `seed` draws the
    price paths, the oracle's and the keepers' latencies; `population_seed` the traders, so a
    new `seed` re-draws the market against the same book."""

    preset: str | None = None

    system: SystemConfig = Field(
        default_factory=lambda: default_config(markets=[default_market(1, "ETH-USD", 3000, 6)])
    )
    market_id: Annotated[int, Field(ge=0)] = 1
    oracle: OracleConfig = OracleConfig()
    path: PathConfig = PathConfig()
    population: PopulationConfig = PopulationConfig()
    keepers: KeeperConfig = KeeperConfig()
    horizon_s: Annotated[int, Field(gt=0, le=30 * DAY)] = DAY
    step_s: Annotated[int, Field(gt=0, le=DAY)] = 60
    paths: Annotated[int, Field(ge=1, le=10_000_000)] = 1_000
    seed: Annotated[int, Field(ge=0)] = 0
    population_seed: Annotated[int, Field(ge=0)] = 0
    depth: DepthConfig = DepthConfig()  # endogenous cascades (simfid block above)
    keeper_limits: KeeperLimits = KeeperLimits()

    @model_validator(mode="before")
    @classmethod
    def _from_preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset") is not None:
            data = merge(preset_overrides(data["preset"]), data)
        return data

    @model_validator(mode="after")
    def _against_protocol(self) -> SimConfig:
        market = self.market()
        max_leverage = BPS / market.initial_margin_bps
        if self.population.leverage_max > max_leverage:
            raise ValueError(
                f"population.leverage_max={self.population.leverage_max} is above the market's maximum "
                f"{max_leverage:g} (10000 / initial_margin_bps={market.initial_margin_bps})"
            )
        if self.horizon_s % self.step_s:
            raise ValueError(f"horizon_s={self.horizon_s} must be a multiple of step_s={self.step_s}")
        if self.path.kind == "csv":
            times, _ = read_price_csv(self.path.csv_file)
            span = times[-1] - times[0]
            if span < self.horizon_s:
                warnings.warn(
                    ShortSeriesWarning(
                        f"csv_file {self.path.csv_file} covers {span} s but horizon_s={self.horizon_s}: "
                        f"its last price is held for the last {self.horizon_s - span} s"
                    ),
                    stacklevel=2,
                )
        return self

    def market(self) -> MarketConfig:
        for market in self.system.markets:
            if market.market_id == self.market_id:
                return market
        raise ValueError(f"market_id={self.market_id} is not one of the system's markets")

    def protocol(self) -> SystemConfig:
        """The deployed protocol: `system`, where the simulated market's mark is made of the
        oracle's sources when there are several (one Chainlink-style source each, in the feed's
        decimals, with its own `max_age_s`; `quorum` and `max_spread_bps` as the adapter's
        parameters), so the exact tier runs the adapter's real median, quorum and spread rules."""
        if len(self.oracle.sources) == 1:
            return self.system
        market = self.market()
        sources = tuple(
            ProtocolSource(
                kind="chainlink",
                decimals=market.feed_decimals,
                max_age=source.max_age_s,
                initial_answer=market.initial_answer,
            )
            for source in self.oracle.sources
        )
        oracle = self.oracle
        rules = dict(sources=sources, oracle_quorum=oracle.quorum, oracle_max_spread_bps=oracle.max_spread_bps)
        deployed = MarketConfig(**(market.model_dump() | rules))
        markets = [deployed if m.market_id == self.market_id else m for m in self.system.markets]
        return SystemConfig(**(self.system.model_dump() | dict(markets=markets)))

    @property
    def steps(self) -> int:
        return self.horizon_s // self.step_s

    @classmethod
    def load(cls, path: str | Path) -> SimConfig:
        """From a YAML or JSON file (by extension). A relative `path.csv_file` is read from the
        file's folder. A file that does not parse, is empty or is not a mapping raises
        ConfigFileError naming the file; a bad field, pydantic's ValidationError."""
        return cls.model_validate(read_config_data(path))


class ConfigFileError(ValueError):
    """A scenario file that is unreadable, empty, not YAML/JSON or not a mapping."""


class ShortSeriesWarning(UserWarning):
    """A CSV price series shorter than the horizon: its last price is held to the end."""


def read_config_data(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML or JSON scenario file, with a relative `path.csv_file` resolved
    against the file's folder (not the working directory)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigFileError(f"config file {path}: {error.strerror or error}") from None
    if not text.strip():
        raise ConfigFileError(f"config file {path} is empty")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            where = getattr(error, "problem_mark", None)
            line = f" line {where.line + 1}" if where is not None else ""
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise ConfigFileError(f"config file {path}{line}: not valid YAML ({problem})") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigFileError(f"config file {path} line {error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise ConfigFileError(f"config file {path}: expected a mapping of SimConfig fields, got {type(data).__name__}")
    csv_file = data.get("path", {}).get("csv_file") if isinstance(data.get("path"), dict) else None
    if csv_file is not None and not Path(csv_file).is_absolute():
        data["path"] = dict(data["path"], csv_file=str(path.resolve().parent / csv_file))
    return data


def preset_config_data(name: str, **overrides: Any) -> dict[str, Any]:
    """The SimConfig data of a preset, with top-level `overrides` merged (nested dicts merge)."""
    check_preset(name)
    data = merge(SimConfig().model_dump(), preset_overrides(name))
    return merge(data, overrides)


def preset_config(name: str, **overrides: Any) -> SimConfig:
    return SimConfig.model_validate(preset_config_data(name, **overrides))


__all__ = ["PRESETS", "ConfigFileError", "ShortSeriesWarning", "SimConfig", "preset_config", "preset_config_data"]
