"""The engine's two builds (lobsim.sim.build): the compiled one gives the interpreted one's
results byte for byte, on every shipped scenario and on random markets that mix the kinds,
a user's own agent, rate limits, every feed and learner seats; SimPy processes run beside
agents on both."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lobsim.book.orders import Side
from lobsim.rl.env import MarketEnv
from lobsim.errors import LivelockError
from lobsim.scenario.loader import from_dict, load
from lobsim.sim import build
from lobsim.sim.agent import Agent
from lobsim.sim.market import Market
from support.markets import avellaneda_stoikov, fixed_spread, poisson, santa_fe
from support.scenarios import SCENARIOS, scenario_dict, shortened

def runs_alike(scenario, resolve_kind=None) -> dict:
    """Run ``scenario`` on both builds; assert the same rows and summary; return the summary."""
    results = {engine: Market(scenario, resolve_kind=resolve_kind, engine=engine).run()
               for engine in ("python", "compiled")}
    python, compiled = results["python"], results["compiled"]
    assert compiled.events == python.events
    assert compiled.book_rows == python.book_rows
    assert compiled.agent_rows == python.agent_rows
    assert compiled.summary == python.summary
    return python.summary


def test_the_builds_are_what_they_say():
    assert all(build.is_compiled(m) for m in build.compiled().modules.values())
    assert not any(build.is_compiled(m) for m in build.interpreted().modules.values())
    assert build.interpreted().Exchange is not build.compiled().Exchange


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_gives_the_same_bytes_on_both_builds(path):
    summary = runs_alike(shortened(load(path), 3.0))
    assert summary["audit"]["ok"] and summary["messages"] > 0


class FeedTrader(Agent):
    """A user's own agent: hears every feed, answers trades and depth with orders, cancels
    what rests, and quotes on a timer."""

    kind = "feed_trader"
    feeds = ("trades", "l1", "l2")

    def on_start(self):
        self.live = []
        self.session.timer(self.session.ns(0.05), "tick")

    def on_timer(self, tag):
        session = self.session
        side = Side.BUY if session.rng.random() < 0.5 else Side.SELL
        self.live.append(session.limit(side, session.initial_price - int(side) * 2, 1))
        session.timer(session.ns(0.05), "tick")

    def on_market_data(self, data):
        if type(data).__name__ == "TradePrint" and self.session.rng.random() < 0.3:
            self.session.market(Side(-int(data.aggressor)), 1)
        elif type(data).__name__ == "Depth" and self.live:
            self.session.cancel(self.live.pop(0))

    def on_report(self, report):
        if type(report).__name__ == "OrderFilled" and report.left and self.live:
            self.session.modify(self.live[-1], qty=2)


def resolve(kind):
    if kind == "feed_trader":
        return FeedTrader
    from lobsim import registry
    return registry.load("lobsim.agents", kind)


POOL = {
    "santa_fe": lambda: santa_fe(),
    "poisson": lambda: poisson(),
    "fixed_spread": lambda: fixed_spread(),
    "avellaneda_stoikov": lambda: avellaneda_stoikov(),
    "hawkes": lambda: {"name": "hawkes", "kind": "hawkes"},
    "queue_reactive": lambda: {"name": "qr", "kind": "queue_reactive"},
    "metaorder": lambda: {"name": "meta", "kind": "metaorder"},
    "momentum": lambda: {"name": "mom", "kind": "momentum"},
    "value": lambda: {"name": "value", "kind": "value"},
    "informed": lambda: {"name": "insider", "kind": "informed"},
    "scripted": lambda: {"name": "script", "kind": "scripted"},
    "twap": lambda: {"name": "twap", "kind": "twap"},
    "almgren_chriss": lambda: {"name": "ac", "kind": "almgren_chriss"},
}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1),
       kinds=st.lists(st.sampled_from(sorted(POOL)), min_size=1, max_size=4, unique=True),
       rate_limit=st.sampled_from([0, 0, 5, 50, 400]),
       feeds=st.lists(st.sampled_from(["trades", "l1", "l2"]), unique=True))
def test_random_markets_give_the_same_bytes_on_both_builds(seed, kinds, rate_limit, feeds):
    agents = [POOL[kind]() for kind in kinds]
    agents[0]["rate_limit"] = rate_limit
    agents.append({"name": "user", "kind": "feed_trader", "feeds": feeds,
                   "latency": {"inbound_ns": 20_000, "outbound_ns": 30_000,
                               "jitter": "uniform", "jitter_ns": 5_000}})
    data = {"simulation": {"duration": 1.0, "seed": seed, "snapshot_interval": 0.1},
            "market": {"tick_size": 0.01, "initial_price": 100.0, "depth_levels": 5},
            "agents": agents}
    runs_alike(from_dict(data, "<test>", resolve), resolve)


def steps(env: MarketEnv, rng: np.random.Generator, count: int) -> list:
    trace = []
    observations, _ = env.reset(seed=5)
    for _ in range(count):
        actions = {a: int(rng.integers(env.action_space(a).n)) for a in env.agents}
        observations, rewards, terms, truncs, _ = env.step(actions)
        trace.append((sorted(rewards.items()), {a: o.tolist() for a, o in observations.items()}))
        if not env.agents:
            break
    return trace


def test_learner_seats_step_alike_on_both_builds():
    scenario = from_dict(scenario_dict(duration=2.0, count=2), "<test>")
    traces = {}
    for engine in ("python", "compiled"):
        env = MarketEnv(scenario, engine=engine)
        traces[engine] = (steps(env, np.random.default_rng(1), 25), env.market.ran_on)
    assert traces["python"][1] == "python" and traces["compiled"][1] == "compiled"
    assert traces["python"][0] == traces["compiled"][0]
    assert any(reward != 0 for rewards, _ in traces["python"][0] for _, reward in rewards)


class ProcessTrader(Agent):
    """An agent written as a SimPy process: every 10 ms it buys or sells one lot."""

    kind = "process_trader"

    def on_start(self):
        self.times = []
        self.session.env.process(self.trade(self.session.env))

    def trade(self, env):
        while True:
            yield env.timeout(self.session.ns(0.01))
            self.times.append(env.now)
            side = Side.BUY if self.session.rng.random() < 0.5 else Side.SELL
            self.session.market(side, 1)


@pytest.mark.parametrize("engine", ["python", "compiled"])
def test_an_agent_written_as_a_simpy_process_runs_beside_the_others(engine):
    data = {"simulation": {"duration": 0.5, "seed": 2, "snapshot_interval": 0.1},
            "market": {"tick_size": 0.01, "initial_price": 100.0, "depth_levels": 5},
            "agents": [santa_fe(), {"name": "proc", "kind": "process_trader"}]}
    kinds = {"process_trader": ProcessTrader, "santa_fe": resolve("santa_fe")}
    scenario = from_dict(data, "<test>", kinds.__getitem__)
    market = Market(scenario, resolve_kind=kinds.__getitem__, engine=engine)
    result = market.run()
    trader = market.agents[1]
    assert trader.times == [i * 10_000_000 for i in range(1, 50)]
    sent = [row for row in result.events if row[3] == "proc" and row[2] == "market"]
    assert len(sent) == 49 and result.summary["agents"]["proc"]["fills"] > 0
    if engine == "compiled":
        python = Market(scenario, resolve_kind=kinds.__getitem__, engine="python").run()
        assert python.events == result.events and python.summary == result.summary


def test_without_the_compiled_build_auto_runs_interpreted_and_says_so(monkeypatch):
    """As on a machine without a C compiler (checked by hand: docs/market.md)."""
    from lobsim.errors import InputError
    from lobsim.sim import market as market_module

    monkeypatch.setattr(market_module.build, "compiled_is_built", lambda: False)
    scenario = from_dict({"simulation": {"duration": 0.2, "seed": 1, "snapshot_interval": 0.1},
                          "market": {"tick_size": 0.01, "initial_price": 100.0},
                          "agents": [santa_fe()]}, "<test>")
    with pytest.warns(RuntimeWarning, match="compiled engine is not built"):
        market = Market(scenario)
    assert market.build is build.interpreted()
    market.run()
    assert market.ran_on == "python"
    with pytest.raises(InputError, match="compiled engine is not built"):
        Market(scenario, engine="compiled")


def test_lobster_replay_beside_a_flow_gives_the_same_bytes_on_both_builds(tmp_path):
    from support.lobster_files import MESSAGES, ORDERBOOK

    messages, orderbook = tmp_path / "m.csv", tmp_path / "o.csv"
    messages.write_text("".join(row + "\n" for row in MESSAGES))
    orderbook.write_text("".join(row + "\n" for row in ORDERBOOK))
    data = {"simulation": {"duration": 2.0, "seed": 4, "snapshot_interval": 0.25},
            "market": {"tick_size": 0.01, "initial_price": 100.0, "depth_levels": 5},
            "agents": [{"name": "tape", "kind": "lobster_replay", "file": str(messages),
                        "orderbook": str(orderbook)}, santa_fe()]}
    summary = runs_alike(from_dict(data, "<test>"))
    assert summary["messages"] > len(MESSAGES) and summary["audit"]["ok"]  # seeding, then the rows


class HugeValues(Agent):
    """Sends ints no int64 column holds: each becomes a reject, and a null in the log."""

    kind = "huge_values"

    def on_start(self):
        self.session.limit(Side.BUY, 2**70, 1)
        self.session.cancel(2**80)
        self.session.modify(-2**90, qty=2**65, price=3)


@pytest.mark.parametrize("engine", ["python", "compiled"])
def test_an_order_with_ints_past_int64_is_rejected_and_the_run_is_written(engine, tmp_path):
    from lobsim.sim.output import write_run

    data = {"simulation": {"duration": 0.1, "seed": 1, "snapshot_interval": 0.1},
            "market": {"tick_size": 0.01, "initial_price": 100.0},
            "agents": [{"name": "h", "kind": "huge_values"}]}
    kinds = {"huge_values": HugeValues}.__getitem__
    result = Market(from_dict(data, "<test>", kinds), kinds, engine=engine).run()
    write_run(result, tmp_path / "run", "")
    kinds_seen = [(row[2], row[4], row[6], row[8]) for row in result.events]
    assert kinds_seen == [("limit", 1, None, None), ("rejected", 1, None, "invalid"),
                          ("cancel", None, None, None), ("cancel_rejected", None, None, "unknown_id"),
                          ("modify", None, 3, None), ("cancel_rejected", None, None, "unknown_id")]
    assert (tmp_path / "run" / "events.parquet").is_file()


class ZeroTimer(Agent):
    """Sets its timer again for 0 ns every time it fires: simulated time would stop."""

    kind = "zero_timer"

    def on_start(self):
        self.session.timer(0, "again")

    def on_timer(self, tag):
        self.session.timer(0, tag)


@pytest.mark.parametrize("engine", ["python", "compiled"])
def test_a_timer_of_0_ns_set_again_from_on_timer_is_stopped_not_a_hang(engine):
    data = {"simulation": {"duration": 1.0, "seed": 1, "snapshot_interval": 0.1},
            "market": {"tick_size": 0.01, "initial_price": 100.0},
            "agents": [{"name": "z", "kind": "zero_timer"}]}
    kinds = {"zero_timer": ZeroTimer}.__getitem__
    market = Market(from_dict(data, "<test>", kinds), kinds, engine=engine)
    market.exchange.max_burst = 500  # the guard's bound, lowered for a quick test
    with pytest.raises(LivelockError, match=r"agent 'z' set 501 timers at t=0\.000000000 s"):
        market.run()
