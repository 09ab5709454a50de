"""Bounds at the door (issue 20, section 1): every number a scenario holds has an upper bound,
what depends on several values is checked by lobsim.scenario.scale, and the validator never crashes."""

from __future__ import annotations

import dataclasses
import math
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lobsim import registry
from lobsim.scenario import loader as scenario
from lobsim.scenario import schema
from lobsim.scenario.config import (MAX_AGENTS, MAX_MESSAGES, MAX_TICKS, UNIT_BOUNDS, LatencyConfig,
                           MarketConfig, SimulationConfig)
from lobsim.errors import ScenarioError


def minimal(**zi) -> dict:
    return {"simulation": {"duration": 2.0},
            "market": {"tick_size": 0.01, "initial_price": 100.0},
            "agents": [{"name": "zi", "kind": "santa_fe", "limit_rate": 5.0, "market_rate": 1.0,
                        "cancel_rate": 0.1, "window": 0.5, **zi}]}


def error(data: dict) -> str:
    with pytest.raises(ScenarioError) as info:
        scenario.from_dict(data, "x.toml")
    assert "\n" not in str(info.value)
    return str(info.value)


def _numeric_fields(cls: type, path: str) -> typing.Iterator[tuple[str, dict]]:
    """(path, effective metadata) of every int/float field of dataclass ``cls``, nested too."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        args = typing.get_args(hint)
        inner = [a for a in args if a is not type(None) and a is not Ellipsis] or [hint]
        meta = schema.with_unit({**f.metadata, **scenario.RULES.get(cls, {}).get(f.name, {})})
        for h in inner:
            if dataclasses.is_dataclass(h):
                yield from _numeric_fields(h, f"{path}.{f.name}")
            elif h in (int, float):
                yield f"{path}.{f.name}", meta


def _all_fields() -> list[tuple[str, dict]]:
    fields = []
    for cls in (SimulationConfig, MarketConfig, LatencyConfig, scenario._AgentHead):
        fields += _numeric_fields(cls, cls.__name__)
    for kind in registry.names(scenario.AGENT_GROUP):
        fields += _numeric_fields(scenario.registry_kind(kind).Params, kind)
    return fields


@pytest.mark.parametrize(("path", "meta"), _all_fields(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_number_of_a_scenario_has_an_upper_bound(path, meta):
    assert meta.get("max") is not None or meta.get("lt") is not None or meta.get("unit") == "price", \
        f"{path}: no upper bound (give it max or a unit: {sorted(UNIT_BOUNDS)})"


@pytest.mark.parametrize("interval", [4e-10, 5e-10, 1e-300, 5e-324])
def test_a_positive_time_that_rounds_to_zero_ns_is_refused(interval):
    data = minimal()
    data["simulation"]["snapshot_interval"] = interval
    assert "simulation.snapshot_interval: expected a number >= 1e-09" in error(data)


def test_a_positive_price_that_rounds_to_zero_ticks_is_refused():
    data = minimal()
    data["agents"].append({"name": "s", "kind": "scripted", "schedule": [
        {"at": 1.0, "type": "limit", "side": "buy", "qty": 1, "price": 0.004}]})
    assert "agents[1].schedule[0].price: expected at least half a tick (0.005), got 0.004" in error(data)


def test_expected_messages_add_up_over_agents_and_counts():
    data = minimal(limit_rate=1e6, window=10.0)  # 4 x 1e7 orders/s ... x 2 s = 8e7
    data["simulation"]["duration"] = 10.0
    assert scenario.from_dict(data, "x.toml")
    data["agents"].append({"name": "as", "kind": "avellaneda_stoikov", "count": 10, "gamma": 0.1,
                           "sigma": 0.1, "kappa": 10.0, "requote_interval": 1e-7})
    text = error(data)  # 10 x 2 x 10 s / 1e-7 s = 2e9
    assert "agents[1]: expected at most 1,000,000,000 messages" in text and "this agent: 2e+09" in text


def test_snapshot_rows_are_bounded():
    data = minimal()
    data["simulation"].update(duration=1e6, snapshot_interval=1e-3)
    assert "simulation.snapshot_interval: expected at most 1,000,000,000 snapshot rows" in error(data)


def test_agent_instances_are_bounded_before_their_names_are_built():
    data = minimal()
    data["agents"] += [{"name": f"mm{i}", "kind": "fixed_spread", "count": MAX_AGENTS} for i in range(2)]
    assert f"agents: expected at most {MAX_AGENTS:,} agents after count expansion" in error(data)


def test_fixed_spread_skew_times_inventory_is_bounded():
    data = minimal()
    data["agents"].append({"name": "mm", "kind": "fixed_spread", "skew_per_lot": 1e6,
                           "max_inventory": 10_000})
    assert f"agents[1].skew_per_lot: expected skew_per_lot x max_inventory + half_spread of at most " \
           f"{MAX_TICKS:,} ticks" in error(data)


def test_avellaneda_stoikov_inventory_shift_is_bounded():
    data = minimal()
    data["agents"].append({"name": "as", "kind": "avellaneda_stoikov", "gamma": 10.0, "sigma": 100.0,
                           "kappa": 1.0, "horizon": 1e4, "max_inventory": 1000})
    assert "agents[1].gamma: expected a spread" in error(data)  # 1e9 price units, past 1e7
    data["agents"][1].update(sigma=1.0, horizon=1e3)  # spread 1e4; shift 1e4 x 1000 = 1e7 ... x 1.0
    data["agents"][1]["max_inventory"] = 10_000
    assert "agents[1].max_inventory: expected an inventory shift" in error(data)


def test_scripted_last_send_stays_within_the_time_bound():
    data = minimal()
    data["agents"].append({"name": "s", "kind": "scripted", "schedule": [
        {"at": 1.0, "repeat": 1000, "every": 1e6}]})
    assert "agents[1].schedule[0].every: the last send" in error(data)


# Values that have crashed, overflowed or hung the loader or the engines, and their neighbours.
EXTREMES = [0, -1, 1, 2**31, 2**63 - 1, 2**63, 10**400, 0.0, -0.0, 5e-324, 1e-300, 4e-10,
            1e-9, 0.5, 1e9, 1e12, 1e18, 1e300, 1e308, math.inf, -math.inf, math.nan]
KEYS = [("simulation", k) for k in ("duration", "seed", "snapshot_interval")] + \
       [("market", k) for k in ("tick_size", "initial_price", "depth_levels", "maker_fee", "taker_fee")]
AGENT_KEYS = ["limit_rate", "market_rate", "cancel_rate", "window", "order_size", "count", "rate_limit"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(st.sampled_from(KEYS + [("agent", k) for k in AGENT_KEYS]),
                                  st.sampled_from(EXTREMES) | st.floats() | st.integers()),
                        min_size=1, max_size=4))
def test_the_validator_never_crashes(changes):
    data = minimal()
    for (section, key), value in changes:
        (data["agents"][0] if section == "agent" else data[section])[key] = value
    try:
        loaded = scenario.from_dict(data, "x.toml")
    except ScenarioError as exc:
        assert "\n" not in str(exc)
        return
    sim, market = loaded.simulation, loaded.market
    assert sim.duration * 1e9 <= 1e17 and market.initial_price / market.tick_size <= MAX_TICKS
    # Santa Fe's own count: limit_rate is per price unit of the window, per order_size lots
    params = loaded.agents[0].params
    assert params.limit_rate * params.window / params.order_size * sim.duration <= MAX_MESSAGES


def test_the_bounds_keep_the_promises_their_comments_make():
    from lobsim.scenario import config

    assert config.MAX_TICKS * config.MAX_LOTS <= 2**53  # one fill's cash is exact in float64
    assert config.INT64_MAX // (config.MAX_TICKS * config.MAX_LOTS) > 9_000  # fills per account
    biggest_draw = -math.log(2.0**-53)  # an exponential draw from a 53-bit uniform, in means
    assert biggest_draw <= 36.8
    assert config.MAX_NS * (3 + 2 * 36.8) < config.INT64_MAX  # a time + floors + two draws
    assert config.MAX_SEED + config.MAX_SWEEP_SEEDS < config.INT64_MAX
    assert config.MAX_REWARD_COEF * config.MAX_LOTS**2 < 3.4e38  # float32 rewards stay finite
    assert config.MAX_SECONDS * 1e9 == config.MAX_NS and config.MIN_SECONDS * 1e9 == 1
