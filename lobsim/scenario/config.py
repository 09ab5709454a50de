"""A scenario as validated, frozen configuration: what :mod:`lobsim.scenario.loader` loads from
TOML and what :class:`lobsim.sim.market.Market` runs.

Units at this edge: seconds of simulated time, prices in price units (floats), latency
in integer nanoseconds, fees in integer ticks per lot. The market converts to integer
ticks and nanoseconds once, when it is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LatencyConfig:
    """One agent's latency. Each message's delay is the floor plus a seeded jitter draw."""

    inbound_ns: int = 0  #: agent -> exchange floor, ns
    outbound_ns: int = 0  #: exchange -> agent floor (reports and market data), ns
    jitter: str = "none"  #: "none", "exponential" or "uniform"
    jitter_ns: int = 0  #: mean (exponential) or upper bound (uniform) of the jitter, ns


@dataclass(frozen=True)
class AgentConfig:
    """One ``[[agents]]`` table. With ``count`` > 1 the market creates ``name_0`` ... ``name_{count-1}``."""

    name: str
    kind: str
    params: Any  #: an instance of the kind's ``Params`` dataclass
    count: int = 1
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    feeds: tuple[str, ...] | None = None  #: None: the kind's default feeds
    rate_limit: int = 0  #: messages per second of simulated time; 0: unlimited

    def instance_names(self) -> list[str]:
        return [self.name] if self.count == 1 else [f"{self.name}_{i}" for i in range(self.count)]


@dataclass(frozen=True)
class MarketConfig:
    symbol: str = "XYZ"
    tick_size: float = 0.01  #: price units per tick
    initial_price: float = 100.0  #: price units; the reference mid before the first quotes
    depth_levels: int = 10  #: levels per side in L2 snapshots and book.parquet
    maker_fee: int = 0  #: ticks per lot charged to the resting side (negative: rebate)
    taker_fee: int = 0  #: ticks per lot charged to the incoming side
    #: messages one agent may send within a simulated millisecond before the run stops as
    #: a runaway (a feedback loop); far above any shipped scenario's busiest agent
    max_messages_per_ms: int = 10_000


@dataclass(frozen=True)
class SimulationConfig:
    duration: float  #: seconds of simulated time
    seed: int = 0
    snapshot_interval: float = 1.0  #: seconds between L2 snapshots and agent samples


@dataclass(frozen=True)
class Scenario:
    simulation: SimulationConfig
    market: MarketConfig
    agents: tuple[AgentConfig, ...]
    source: str = field(default="<memory>", compare=False)  #: the file it was loaded from

    def with_seed(self, seed: int) -> Scenario:
        from dataclasses import replace
        return replace(self, simulation=replace(self.simulation, seed=seed))
