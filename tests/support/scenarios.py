"""Small scenarios the tests share: Santa Fe flow with learner seats, the shipped scenario
files, and a short run written to disk as ``lobsim run`` writes it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lobsim.scenario import from_dict, to_toml
from lobsim.sim.market import Market
from lobsim.sim.output import write_run

def scenario_dict(duration: float = 2.0, count: int = 2, **learner) -> dict:
    """Santa Fe flow and ``count`` learner seats for ``duration`` simulated seconds."""
    return {
        "simulation": {"duration": duration, "seed": 3, "snapshot_interval": 0.5},
        "market": {"tick_size": 0.01, "initial_price": 100.0, "depth_levels": 5},
        "agents": [
            {"name": "flow", "kind": "santa_fe", "limit_rate": 50.0, "market_rate": 4.0,
             "cancel_rate": 0.2, "window": 0.2},
            {"name": "maker", "kind": "learner", "count": count, "decision_interval": 0.1,
             "latency": {"inbound_ns": 100_000, "outbound_ns": 100_000}, **learner},
        ],
    }


def exec_scenario_dict(duration: float = 3.0, count: int = 2, **executor) -> dict:
    """:func:`scenario_dict` plus one ``executor`` seat ("exec"; defaults: buy 6 lots between
    0.5 s and 2.5 s, same decision interval as the makers)."""
    data = scenario_dict(duration, count)
    data["agents"].append({"name": "exec", "kind": "executor", "decision_interval": 0.1,
                           "parent_qty": 6, "start": 0.5, "horizon": 2.0,
                           "latency": {"inbound_ns": 100_000, "outbound_ns": 100_000}, **executor})
    return data


def exec_scenario(duration: float = 3.0, count: int = 2, **executor):
    return from_dict(exec_scenario_dict(duration, count, **executor), "<test>")


def short_scenario(duration: float = 2.0, count: int = 2, **learner):
    return from_dict(scenario_dict(duration, count, **learner), "<test>")


def write_scenario(path, duration: float = 2.0, count: int = 2, **learner):
    import tomli_w

    path.write_text(tomli_w.dumps(scenario_dict(duration, count, **learner)))
    return path


SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
# Scenarios with learner seats are driven step by step by lobsim.rl.env and audited there.
SCENARIOS = [path for path in sorted(SCENARIO_DIR.glob("*.toml"))
             if 'kind = "learner"' not in path.read_text()]


def shortened(scenario, seconds):
    return dataclasses.replace(scenario, simulation=dataclasses.replace(
        scenario.simulation, duration=min(seconds, scenario.simulation.duration)))


SCENARIO = {
    "simulation": {"duration": 30.0, "seed": 3, "snapshot_interval": 0.5},
    "market": {"tick_size": 0.01, "initial_price": 100.0, "depth_levels": 5},
    "agents": [
        {"name": "flow", "kind": "santa_fe", "limit_rate": 30.0, "market_rate": 3.0,
         "cancel_rate": 0.2, "window": 0.2, "latency": {"inbound_ns": 50_000, "outbound_ns": 50_000}},
        {"name": "maker", "kind": "fixed_spread", "count": 2, "half_spread": 2, "quote_size": 2,
         "latency": {"inbound_ns": 20_000, "outbound_ns": 20_000}},
    ],
}

def make_run(out: Path, data: dict = SCENARIO) -> Path:
    """A short run written as `lobsim run` writes it."""
    scenario = from_dict(data, "test.toml")
    write_run(Market(scenario).run(), out, to_toml(scenario))
    return out
