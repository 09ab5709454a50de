"""A scenario as validated, frozen configuration: what :mod:`lobsim.scenario.loader` loads from
TOML and what :class:`lobsim.sim.market.Market` runs.

Units at this edge: seconds of simulated time, prices in price units (floats), latency
in integer nanoseconds, fees in integer ticks per lot. The market converts to integer
ticks and nanoseconds once, when it is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------- bounds
# The largest value any scenario number may take. The loader (lobsim.scenario) refuses
# anything beyond, naming the key; docs/robustness.md has the table. Every bound comes
# from what both engines represent exactly (int64 ticks, lots, ns and cash; float64
# only at the edges) or from what a run can hold, so that a scenario that loads runs
# the same on both engines instead of overflowing, hanging or running out of memory.

INT64_MAX = 2**63 - 1
#: ticks: any price, price offset, band, spread or fee, in ticks of the market. Times
#: MAX_LOTS this is 1e15 < 2**53: one fill's cash (price x qty) and fee (fee x qty) are
#: exact even as float64, and over 9,000 fills of that size fit in an int64 account.
MAX_TICKS = 10**9
#: lots: any order size or inventory limit.
MAX_LOTS = 10**6
#: ns: any time or latency (about 3.2 years). A clock value is at most a time plus both
#: latency floors plus two jitter draws (an exponential draw is at most 36.8 x its mean):
#: 1e17 x (3 + 2 x 36.8) < 7.7e18 < INT64_MAX, so no sum of times can wrap.
MAX_NS = 10**17
MAX_SECONDS = MAX_NS / 1e9  #: the same bound in seconds of simulated time (1e8 s)
#: seconds: the smallest positive time; a positive time below it would round to 0 ns
#: (a snapshot or requote interval of 0 ns stalls simulated time).
MIN_SECONDS = 1e-9
#: events per second: any rate (one event per ns; the flows never wait less than 1 ns).
MAX_RATE = 1e9
#: messages a run may send, expected from duration x rates (+ scripted sends). With
#: streamed output a message costs ~50 bytes on disk and ~3 us of compiled engine time,
#: so this is ~50 GB and about an hour: beyond, a scenario is a mistake, not a study.
MAX_MESSAGES = 10**9
#: rows of book.parquet + agents.parquet: snapshots x (2 x depth_levels + agents).
MAX_SNAPSHOT_ROWS = 10**9
MAX_AGENTS = 10_000  #: agent instances after count expansion (each has 3 RNG streams)
MAX_DEPTH_LEVELS = 10_000  #: levels per side in L2 snapshots (a C int on the compiled engine)
#: price units per tick: prices are written rounded to 10 decimals (lobsim.sim.market.to_price),
#: so a tick must stay well above 1e-10; the top keeps prices (ticks x tick) below 1e15.
MIN_TICK_SIZE, MAX_TICK_SIZE = 1e-8, 1e6
MAX_SEED = 2**62  #: leaves room for seed + sweep offsets below INT64_MAX
MAX_SWEEP_SEEDS = 10_000  #: seeds per sweep variant (each is a whole run)
MAX_SWEEP_RUNS = 100_000  #: variants x seeds of one sweep (each row is kept in memory)
MAX_WORKERS = 256  #: sweep worker processes
MAX_TRAIN_STEPS = 10**12  #: env steps of a training run (and a checkpoint's progress.step)
MAX_EPISODES = 100_000  #: episodes of one `lobsim evaluate` (each is a whole run)
#: a learner's reward coefficients: coef x q^2 <= 1e12 x MAX_LOTS^2 = 1e24 keeps every
#: reward finite in float32 (3.4e38), the dtype of the learners' buffers.
MAX_REWARD_COEF = 1e12

#: a model coefficient without a unit of its own (risk aversion, volatility, decay): far
#: beyond any market, and small enough that products with the other bounds stay finite;
#: the products themselves are checked by the kind (``Params.check_market``).
MAX_COEFFICIENT = 1e12

#: What a ``unit`` in field metadata implies, in the loader's vocabulary (``min``, ``max``).
#: "price" (price units) is checked against the market's tick size: at most MAX_TICKS ticks,
#: and a positive price may not round to 0 ticks. A positive "s" may not round to 0 ns.
UNIT_BOUNDS: dict[str, dict[str, float]] = {
    "s": {"max": MAX_SECONDS},
    "ns": {"max": MAX_NS},
    "ticks": {"min": -MAX_TICKS, "max": MAX_TICKS},
    "lots": {"max": MAX_LOTS},
    "rate": {"max": MAX_RATE},
    "price": {},
}


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
