"""Scenario loading: defaults, every kind of validation error (by message), TOML round trip,
and the shipped scenario files."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lobsim import registry
from lobsim.scenario import loader as scenario
from lobsim.scenario.config import (MAX_SEED, MIN_SECONDS, AgentConfig, LatencyConfig, MarketConfig,
                           Scenario, SimulationConfig)
from lobsim.errors import InputError, ScenarioError

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


# --------------------------------------------------------------- test kinds and helpers


@dataclass(frozen=True)
class Order:
    time: float = field(metadata={"min": 0, "doc": "seconds"})
    side: str = field(metadata={"choices": ("buy", "sell")})
    quantity: int = field(default=1, metadata={"min": 1})
    price: float | None = None


@dataclass(frozen=True)
class NoiseParams:
    limit_rate: float = field(default=0.5, metadata={"min": 0})
    levels: int = field(default=5, metadata={"min": 1, "max": 50})
    side_bias: str = field(default="none", metadata={"choices": ("none", "buy", "sell")})
    enabled: bool = True
    max_inventory: int | None = None
    weights: tuple[float, ...] = (1.0, 2.0)
    band: tuple[float, float] = (0.0, 1.0)


@dataclass(frozen=True)
class ScriptParams:
    schedule: tuple[Order, ...] = ()
    start: float = 0.0


@dataclass(frozen=True)
class RangeParams:
    low: float = 0.0
    high: float = 1.0

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"low must be <= high, got {self.low} > {self.high}")


@dataclass(frozen=True)
class ClashParams:
    count: int = 1


@dataclass(frozen=True)
class NoParams:
    pass


class Noise:
    Params = NoiseParams


class Script:
    Params = ScriptParams


class Ranged:
    Params = RangeParams


class Clash:
    Params = ClashParams


class Bare:
    Params = NoParams


class Broken:
    """No Params at all."""


KINDS: dict[str, type] = {
    "noise": Noise, "script": Script, "ranged": Ranged, "clash": Clash, "bare": Bare,
    "broken": Broken,
}


def resolve(name: str) -> type:
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError("known: " + ", ".join(sorted(KINDS))) from None


def minimal(**agent: Any) -> dict[str, Any]:
    return {
        "simulation": {"duration": 10.0},
        "agents": [{"name": "a", "kind": "noise", **agent}],
    }


def build(data: dict[str, Any], source: str = "x.toml") -> Scenario:
    return scenario.from_dict(data, source, resolve)


def error(data: Any, source: str = "x.toml") -> str:
    with pytest.raises(ScenarioError) as info:
        scenario.from_dict(data, source, resolve)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{source}: ")
    return message


def _load(path: Path) -> Scenario:
    return scenario.from_dict(tomllib.loads(path.read_text()), str(path), resolve)


def reload(s: Scenario) -> Scenario:
    return scenario.from_dict(tomllib.loads(scenario.to_toml(s)), s.source, resolve)


# ---------------------------------------------------------------------------- defaults


def test_minimal_scenario_fills_every_default():
    s = build(minimal())
    assert s.source == "x.toml"
    assert s.simulation == SimulationConfig(duration=10.0, seed=0, snapshot_interval=1.0)
    assert s.market == MarketConfig()
    assert s.agents == (
        AgentConfig(name="a", kind="noise", params=NoiseParams(), count=1,
                    latency=LatencyConfig(), feeds=None, rate_limit=0),
    )


def test_full_example_from_the_format():
    data = tomllib.loads("""
        [simulation]
        duration = 600.0
        seed = 7
        snapshot_interval = 1.0
        [market]
        symbol = "XYZ"
        tick_size = 0.01
        initial_price = 100.0
        depth_levels = 10
        maker_fee = -1
        taker_fee = 2
        [[agents]]
        name = "noise"
        kind = "noise"
        count = 3
        latency = { inbound_ns = 100, outbound_ns = 200, jitter = "uniform", jitter_ns = 50 }
        feeds = ["l1", "trades"]
        rate_limit = 10
        limit_rate = 0.5
        max_inventory = 7
    """)
    s = build(data)
    assert s.simulation == SimulationConfig(600.0, 7, 1.0)
    assert s.market == MarketConfig("XYZ", 0.01, 100.0, 10, -1, 2)
    agent = s.agents[0]
    assert agent.instance_names() == ["noise_0", "noise_1", "noise_2"]
    assert agent.latency == LatencyConfig(100, 200, "uniform", 50)
    assert agent.feeds == ("l1", "trades")
    assert agent.rate_limit == 10
    assert agent.params == NoiseParams(limit_rate=0.5, max_inventory=7)


def test_int_is_accepted_where_a_float_is_expected():
    s = build({"simulation": {"duration": 10}, "agents": [{"name": "a", "kind": "noise",
                                                           "limit_rate": 2, "weights": [1, 3]}]})
    assert type(s.simulation.duration) is float
    assert type(s.agents[0].params.limit_rate) is float
    assert s.agents[0].params.weights == (1.0, 3.0)
    assert all(type(w) is float for w in s.agents[0].params.weights)


def test_nested_dataclasses_from_an_array_of_tables():
    data = tomllib.loads("""
        [simulation]
        duration = 5
        [[agents]]
        name = "s"
        kind = "script"
        [[agents.schedule]]
        time = 1
        side = "buy"
        [[agents.schedule]]
        time = 2.5
        side = "sell"
        quantity = 100
        price = 99.5
    """)
    params = build(data).agents[0].params
    assert params.schedule == (Order(1.0, "buy"), Order(2.5, "sell", 100, 99.5))


def test_kind_without_parameters():
    assert build(minimal(kind="bare")).agents[0].params == NoParams()


def test_optional_field_present_and_absent():
    assert build(minimal()).agents[0].params.max_inventory is None
    assert build(minimal(max_inventory=3)).agents[0].params.max_inventory == 3


# ---------------------------------------------------------------------- error messages


def test_message_format_from_the_brief():
    assert error(minimal(limit_rate=-1), "scenarios/x.toml") == (
        "scenarios/x.toml: agents[0].limit_rate: expected a number >= 0, got -1"
    )


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("simulation", "duration", 0, "simulation.duration: expected a number >= 1e-09 and <= 1e+08, got 0"),
        ("simulation", "duration", "10", 'simulation.duration: expected a number >= 1e-09 and <= 1e+08, got "10"'),
        ("simulation", "seed", -1, "simulation.seed: expected an integer >= 0 and <= 4,611,686,018,427,387,904, got -1"),
        ("simulation", "seed", 1.5, "simulation.seed: expected an integer >= 0 and <= 4,611,686,018,427,387,904, got 1.5"),
        ("simulation", "seed", 2.0, "simulation.seed: expected an integer >= 0 and <= 4,611,686,018,427,387,904, got 2.0"),
        ("simulation", "seed", True, "simulation.seed: expected an integer >= 0 and <= 4,611,686,018,427,387,904, got true"),
        ("simulation", "snapshot_interval", -0.5,
         "simulation.snapshot_interval: expected a number >= 1e-09 and <= 1e+08, got -0.5"),
        ("market", "tick_size", 0.0, "market.tick_size: expected a number >= 1e-08 and <= 1e+06, got 0.0"),
        ("market", "initial_price", -1, "market.initial_price: expected a number > 0, got -1"),
        ("market", "depth_levels", 0, "market.depth_levels: expected an integer >= 1 and <= 10000, got 0"),
        ("market", "maker_fee", 0.5, "market.maker_fee: expected an integer >= -1,000,000,000 and <= 1,000,000,000, got 0.5"),
        ("market", "taker_fee", False, "market.taker_fee: expected an integer >= -1,000,000,000 and <= 1,000,000,000, got false"),
        ("market", "symbol", 5, r"market.symbol: expected a string matching \S+, got 5"),
        ("market", "symbol", "", r'market.symbol: expected a string matching \S+, got ""'),
    ],
)
def test_simulation_and_market_values(section, key, value, expected):
    data = minimal()
    data.setdefault(section, {})[key] = value
    assert error(data) == f"x.toml: {expected}"


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ({"limit_rate": True}, "agents[0].limit_rate: expected a number >= 0, got true"),
        ({"limit_rate": "fast"}, 'agents[0].limit_rate: expected a number >= 0, got "fast"'),
        ({"levels": 51}, "agents[0].levels: expected an integer >= 1 and <= 50, got 51"),
        ({"levels": 5.0}, "agents[0].levels: expected an integer >= 1 and <= 50, got 5.0"),
        ({"side_bias": "up"},
         'agents[0].side_bias: expected one of "none", "buy", "sell", got "up"'),
        ({"enabled": 1}, "agents[0].enabled: expected true or false, got 1"),
        ({"max_inventory": 2.5}, "agents[0].max_inventory: expected an integer, got 2.5"),
        ({"weights": 1.0}, "agents[0].weights: expected an array (each item a number), got 1.0"),
        ({"weights": [1.0, "x"]}, 'agents[0].weights[1]: expected a number, got "x"'),
        ({"band": [1.0]}, "agents[0].band: expected an array of 2 items, got 1 item"),
        ({"count": 0}, "agents[0].count: expected an integer >= 1 and <= 10000, got 0"),
        ({"count": 2.0}, "agents[0].count: expected an integer >= 1 and <= 10000, got 2.0"),
        ({"rate_limit": -5}, "agents[0].rate_limit: expected an integer >= 0 and <= 1,000,000,000, got -5"),
        ({"name": "a b"},
         'agents[0].name: expected a string matching [A-Za-z0-9_-]+, got "a b"'),
        ({"name": 3}, "agents[0].name: expected a string matching [A-Za-z0-9_-]+, got 3"),
        ({"kind": 3}, "agents[0].kind: expected a string, got 3"),
        ({"feeds": ["l3"]},
         'agents[0].feeds[0]: expected one of "trades", "l1", "l2", got "l3"'),
        ({"feeds": "l1"},
         'agents[0].feeds: expected an array (each item one of "trades", "l1", "l2"), got "l1"'),
        ({"feeds": ["l1", "l1"]}, 'agents[0].feeds: expected distinct items, got "l1" twice'),
        ({"latency": 5}, "agents[0].latency: expected a table, got 5"),
        ({"latency": {"jitter": "gauss"}},
         'agents[0].latency.jitter: expected one of "none", "exponential", "uniform", '
         'got "gauss"'),
        ({"latency": {"inbound_ns": -1}},
         "agents[0].latency.inbound_ns: expected an integer >= 0 and <= 100,000,000,000,000,000, got -1"),
        ({"latency": {"jitter_ns": 1.5}},
         "agents[0].latency.jitter_ns: expected an integer >= 0 and <= 100,000,000,000,000,000, got 1.5"),
    ],
)
def test_agent_values(agent, expected):
    assert error(minimal(**agent)) == f"x.toml: {expected}"


def test_non_finite_floats_are_rejected():
    assert error(minimal(limit_rate=float("inf"))) == (
        "x.toml: agents[0].limit_rate: expected a finite number, got inf"
    )
    assert error(minimal(limit_rate=float("nan"))) == (
        "x.toml: agents[0].limit_rate: expected a finite number, got nan"
    )


def test_date_values_are_shown_as_dates():
    data = tomllib.loads("[simulation]\nduration = 1979-05-27\n")
    assert error(data) == "x.toml: simulation.duration: expected a number >= 1e-09 and <= 1e+08, got a date/time 1979-05-27"


def test_nested_errors_name_the_full_path():
    good = {"time": 1.0, "side": "buy"}
    assert error(minimal(kind="script", schedule=[good, {"time": 2, "side": "hold"}])) == (
        'x.toml: agents[0].schedule[1].side: expected one of "buy", "sell", got "hold"'
    )
    assert error(minimal(kind="script", schedule=[good, {"side": "buy"}])) == (
        "x.toml: agents[0].schedule[1].time: missing required key; expected a number >= 0"
    )
    assert error(minimal(kind="script", schedule=[good, {**good, "qty": 1}])).startswith(
        "x.toml: agents[0].schedule[1].qty: unknown key; expected one of: price, quantity, side, time"
    )
    assert error(minimal(kind="script", schedule=[good, 3])) == (
        "x.toml: agents[0].schedule[1]: expected a table, got 3"
    )
    assert error(minimal(kind="script", schedule={"time": 1})) == (
        "x.toml: agents[0].schedule: expected an array (each item a table), got a table"
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"simulation": {"duration": 1}, "agents": [{"name": "a", "kind": "noise"}], "extra": 1},
         "extra: unknown key; expected one of: agents, market, simulation"),
        ({"simulatoin": {}, "agents": []},
         'simulatoin: unknown key (did you mean "simulation"?); expected one of: agents, market, '
         "simulation"),
        ({"simulation": {"duration": 1, "sed": 3}, "agents": []},
         'simulation.sed: unknown key (did you mean "seed"?); expected one of: duration, seed, '
         "snapshot_interval"),
        ({"simulation": {"duration": 1}, "market": {"tick": 0.1}, "agents": []},
         'market.tick: unknown key (did you mean "tick_size"?); expected one of: depth_levels, '
         "initial_price, maker_fee, max_messages_per_ms, symbol, taker_fee, tick_size"),
    ],
)
def test_unknown_keys(data, expected):
    assert error(data) == f"x.toml: {expected}"


def test_unknown_parameter_of_a_kind_lists_agent_keys_and_parameters():
    assert error(minimal(limit_rat=1)) == (
        'x.toml: agents[0].limit_rat: unknown key (did you mean "limit_rate"?); expected one of: '
        "band, count, enabled, feeds, kind, latency, levels, limit_rate, max_inventory, name, "
        "rate_limit, side_bias, weights"
    )
    assert error(minimal(latency={"inbound": 5})).startswith(
        'x.toml: agents[0].latency.inbound: unknown key (did you mean "inbound_ns"?)'
    )


def test_unknown_key_that_is_not_a_bare_key_is_quoted():
    assert error(minimal(**{"limit rate": 1})).startswith('x.toml: agents[0]."limit rate": unknown key')


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"agents": [{"name": "a", "kind": "noise"}]},
         "simulation: missing required key; expected a table ([simulation])"),
        ({"simulation": {}, "agents": []},
         "simulation.duration: missing required key; expected a number >= 1e-09 and <= 1e+08"),
        ({"simulation": {"duration": 1}},
         "agents: missing required key; expected an array of tables ([[agents]])"),
        ({"simulation": {"duration": 1}, "agents": []},
         "agents: expected at least one [[agents]] table, got none"),
        ({"simulation": {"duration": 1}, "agents": {"name": "a"}},
         "agents: expected an array of tables ([[agents]]), got a table"),
        ({"simulation": {"duration": 1}, "agents": [1]}, "agents[0]: expected a table, got 1"),
        ({"simulation": 3, "agents": []}, "simulation: expected a table, got 3"),
        ({"simulation": {"duration": 1}, "market": [], "agents": []},
         "market: expected a table, got an array"),
        ({"simulation": {"duration": 1}, "agents": [{"kind": "noise"}]},
         "agents[0].name: missing required key; expected a string matching [A-Za-z0-9_-]+"),
        ({"simulation": {"duration": 1}, "agents": [{"name": "a"}]},
         "agents[0].kind: missing required key; expected a string"),
    ],
)
def test_missing_and_misshapen_tables(data, expected):
    assert error(data) == f"x.toml: {expected}"


def test_top_level_that_is_not_a_table():
    assert error([1, 2]) == "x.toml: expected a table of settings, got an array"


def test_unknown_kind_lists_the_known_kinds():
    assert error(minimal(kind="nosie")) == (
        'x.toml: agents[0].kind: expected a known agent kind, got "nosie" '
        "(known: bare, broken, clash, noise, ranged, script)"
    )


def test_default_resolver_uses_the_registry(monkeypatch):
    monkeypatch.setattr(registry, "names", lambda group: ("noise", "script"))
    monkeypatch.setattr(registry, "load", lambda group, name: KINDS[name])
    s = scenario.from_dict(minimal(), "x.toml")
    assert s.agents[0].params == NoiseParams()
    with pytest.raises(ScenarioError, match=r'got "nope" \(known: noise, script; a kind of your own .*--agents FILE.py.*entry point\)$'):
        scenario.from_dict(minimal(kind="nope"), "x.toml")
    monkeypatch.setattr(registry, "names", lambda group: ())
    with pytest.raises(ScenarioError, match=r"\(known: none installed; .*\)$"):
        scenario.from_dict(minimal(), "x.toml")


def test_resolver_raising_input_error_is_reported():
    def strict(name: str) -> type:
        raise InputError(f"unknown agent {name!r} (known: x)")

    with pytest.raises(ScenarioError) as info:
        scenario.from_dict(minimal(), "x.toml", strict)
    assert str(info.value) == (
        "x.toml: agents[0].kind: expected a known agent kind, got \"noise\" "
        "(unknown agent 'noise' (known: x))"
    )


def test_kind_without_params_dataclass():
    assert error(minimal(kind="broken")) == 'x.toml: agents[0].kind: kind "broken" has no Params dataclass'


def test_kind_whose_parameters_shadow_agent_keys():
    assert error(minimal(kind="clash")) == (
        "x.toml: agents[0].kind: kind \"clash\" has parameters named like agent keys: ['count']"
    )


def test_params_post_init_check_becomes_a_scenario_error():
    assert build(minimal(kind="ranged", low=0.5, high=2)).agents[0].params == RangeParams(0.5, 2.0)
    assert error(minimal(kind="ranged", low=3, high=2)) == (
        "x.toml: agents[0]: low must be <= high, got 3.0 > 2.0"
    )


@pytest.mark.parametrize(
    ("agents", "expected"),
    [
        ([{"name": "a", "kind": "noise"}, {"name": "a", "kind": "bare"}],
         'agents[1].name: expected a unique name, got "a" (agents[0] also creates "a")'),
        ([{"name": "mm", "kind": "noise", "count": 2}, {"name": "mm_1", "kind": "bare"}],
         'agents[1].name: expected a unique name, got "mm_1" (agents[0] also creates "mm_1")'),
        ([{"name": "mm_0", "kind": "noise"}, {"name": "mm", "kind": "noise", "count": 3}],
         'agents[1].name: expected a unique name, got "mm" (agents[0] also creates "mm_0")'),
    ],
)
def test_duplicate_names_after_count_expansion(agents, expected):
    assert error({"simulation": {"duration": 1}, "agents": agents}) == f"x.toml: {expected}"


def test_same_base_name_with_count_one_and_many_is_fine_when_distinct():
    s = build({"simulation": {"duration": 1}, "agents": [
        {"name": "mm", "kind": "noise"}, {"name": "mm_x", "kind": "noise", "count": 2}]})
    assert [a.instance_names() for a in s.agents] == [["mm"], ["mm_x_0", "mm_x_1"]]


@pytest.mark.parametrize(
    ("tick", "price", "ok"),
    [(0.01, 100.0, True), (0.01, 100.01, True), (0.1, 0.3, True), (0.05, 101.35, True),
     (1, 7, True), (0.01, 100.005, False), (0.25, 100.1, False)],
)
def test_initial_price_must_be_on_the_tick_grid(tick, price, ok):
    data = minimal()
    data["market"] = {"tick_size": tick, "initial_price": price}
    if ok:
        assert build(data).market.initial_price == price
    else:
        assert error(data) == (
            f"x.toml: market.initial_price: expected a multiple of tick_size {float(tick)!r}, "
            f"got {float(price)!r}"
        )


# ---------------------------------------------------------------------------- files


def test_load_a_file(tmp_path, monkeypatch):
    path = tmp_path / "s.toml"
    path.write_text('[simulation]\nduration = 3\n[[agents]]\nname = "a"\nkind = "noise"\n')
    monkeypatch.setattr(scenario, "registry_kind", resolve)
    monkeypatch.setattr(registry, "names", lambda group: tuple(KINDS))
    monkeypatch.setattr(registry, "load", lambda group, name: KINDS[name])
    s = scenario.load(path)
    assert s.source == str(path)
    assert s.simulation.duration == 3.0
    assert scenario.load(str(path)) == s


def test_missing_file():
    with pytest.raises(ScenarioError) as info:
        scenario.load("no/such/scenario.toml")
    assert str(info.value) == "no/such/scenario.toml: no such file"


def test_directory_instead_of_a_file(tmp_path):
    with pytest.raises(ScenarioError) as info:
        scenario.load(tmp_path)
    assert str(info.value).startswith(f"{tmp_path}: cannot read: ")
    assert "\n" not in str(info.value)


def test_toml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[simulation]\nduration = 3\nseed = = 4\n')
    with pytest.raises(ScenarioError) as info:
        scenario.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: invalid TOML: ")
    assert "line 3" in message
    assert "\n" not in message


def test_duplicate_toml_key_is_a_syntax_error(tmp_path):
    path = tmp_path / "dup.toml"
    path.write_text('[simulation]\nduration = 3\nduration = 4\n')
    with pytest.raises(ScenarioError, match=r"invalid TOML: .*line 3"):
        scenario.load(path)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(b'[market]\nsymbol = "\xe9"\n')
    with pytest.raises(ScenarioError) as info:
        scenario.load(path)
    assert str(info.value) == f"{path}: invalid TOML: not UTF-8 text"


# ------------------------------------------------------------------------- round trip


def rich() -> Scenario:
    data = tomllib.loads("""
        [simulation]
        duration = 12.5
        seed = 3
        [market]
        tick_size = 0.05
        initial_price = 101.35
        maker_fee = -1
        [[agents]]
        name = "n"
        kind = "noise"
        count = 2
        feeds = ["trades"]
        latency = { inbound_ns = 10, jitter = "exponential", jitter_ns = 3 }
        weights = [0.1, 0.2, 0.30000000000000004]
        max_inventory = 9
        [[agents]]
        name = "s"
        kind = "script"
        rate_limit = 4
        schedule = [{ time = 1, side = "buy" }, { time = 2, side = "sell", price = 99.0 }]
        [[agents]]
        name = "b"
        kind = "bare"
    """)
    return build(data, "rich.toml")


def test_resolved_dict_writes_every_default():
    d = scenario.resolved_dict(rich())
    assert d["simulation"] == {"duration": 12.5, "seed": 3, "snapshot_interval": 1.0}
    assert d["market"] == {"symbol": "XYZ", "tick_size": 0.05, "initial_price": 101.35,
                           "depth_levels": 10, "maker_fee": -1, "taker_fee": 0,
                           "max_messages_per_ms": 10_000}
    noise, script, bare = d["agents"]
    assert noise == {
        "name": "n", "kind": "noise", "count": 2, "feeds": ["trades"], "rate_limit": 0,
        "limit_rate": 0.5, "levels": 5, "side_bias": "none", "enabled": True,
        "max_inventory": 9, "weights": [0.1, 0.2, 0.30000000000000004], "band": [0.0, 1.0],
        "latency": {"inbound_ns": 10, "outbound_ns": 0, "jitter": "exponential", "jitter_ns": 3},
    }
    assert "feeds" not in script  # None: the kind's default feeds
    assert script["schedule"] == [
        {"time": 1.0, "side": "buy", "quantity": 1},
        {"time": 2.0, "side": "sell", "quantity": 1, "price": 99.0},
    ]
    assert bare == {"name": "b", "kind": "bare", "count": 1, "rate_limit": 0,
                    "latency": {"inbound_ns": 0, "outbound_ns": 0, "jitter": "none", "jitter_ns": 0}}


def test_to_toml_round_trip():
    s = rich()
    text = scenario.to_toml(s)
    assert text.startswith("# lobsim scenario, fully resolved from rich.toml\n")
    assert reload(s) == s
    assert scenario.to_toml(reload(s)) == text


def test_to_toml_round_trip_through_a_file(tmp_path):
    s = rich()
    path = tmp_path / "resolved.toml"
    path.write_text(scenario.to_toml(s))
    assert dataclasses.replace(_load(path), source=s.source) == s


def test_round_trip_of_a_scenario_built_in_code():
    s = Scenario(
        simulation=SimulationConfig(duration=60),
        market=MarketConfig(tick_size=0.5, initial_price=50),
        agents=(AgentConfig("x", "noise", NoiseParams(levels=2), feeds=("l2", "l1")),),
    )
    assert reload(s) == s


@settings(max_examples=50, deadline=None)
@given(
    # up to the loader's bounds (1e7 s: the default 1 s snapshots stay under MAX_SNAPSHOT_ROWS)
    duration=st.floats(min_value=MIN_SECONDS, max_value=1e7, allow_nan=False),
    seed=st.integers(min_value=0, max_value=MAX_SEED),
    rate=st.floats(min_value=0, max_value=1e12, allow_nan=False),
    weights=st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=4),
    levels=st.integers(min_value=1, max_value=50),
)
def test_round_trip_property(duration, seed, rate, weights, levels):
    params = NoiseParams(limit_rate=rate, levels=levels, weights=tuple(weights))
    s = Scenario(SimulationConfig(duration, seed), MarketConfig(),
                 (AgentConfig("a", "noise", params),), "p.toml")
    assert reload(s) == s


# ------------------------------------------------------------- shipped scenario files


def _shipped() -> list[Path]:
    return sorted(SCENARIOS.glob("*.toml"))


def _real_kind(name: str) -> type:
    """The registered kind, or the class straight from ``agents`` if not registered yet."""
    try:
        return scenario.registry_kind(name)
    except (LookupError, ImportError):
        pass
    import importlib

    module = importlib.import_module(f"agents.{name}")
    classes = [v for v in vars(module).values()
               if isinstance(v, type) and v.__module__ == module.__name__ and hasattr(v, "Params")]
    if len(classes) != 1:
        raise LookupError(f"cannot find the agent class of {name}")
    return classes[0]


@pytest.mark.parametrize("path", _shipped(), ids=lambda p: p.name)
def test_shipped_scenarios_load_and_round_trip(path):
    data = tomllib.loads(path.read_text())
    s = scenario.from_dict(data, str(path), _real_kind)
    assert s.simulation.duration <= 600
    assert path.read_text().lstrip().startswith("#"), "each scenario starts with a comment header"
    again = scenario.from_dict(tomllib.loads(scenario.to_toml(s)), str(path), _real_kind)
    assert again == s


def test_the_four_scenarios_are_shipped():
    names = {p.name for p in _shipped()}
    assert {"default.toml", "santa_fe.toml", "latency_race.toml", "shock.toml"} <= names


def test_real_scripted_schedule_errors_name_the_line():
    data = {"simulation": {"duration": 10}, "agents": [{"name": "s", "kind": "scripted", "schedule": [
        {"at": 1.0, "type": "market", "side": "sell", "qty": 5},
        {"at": 2.0, "type": "limit", "side": "buy", "qty": 5},
    ]}]}
    with pytest.raises(ScenarioError) as info:
        scenario.from_dict(data, "s.toml", _real_kind)
    assert str(info.value) == "s.toml: agents[0].schedule[1]: a limit order needs a price"
    data["agents"][0]["schedule"][1]["price"] = -1
    with pytest.raises(ScenarioError) as info:
        scenario.from_dict(data, "s.toml", _real_kind)
    assert str(info.value) == "s.toml: agents[0].schedule[1].price: expected a number > 0.0, got -1"


def test_real_kind_missing_required_parameter():
    data = {"simulation": {"duration": 10}, "agents": [{"name": "zi", "kind": "santa_fe"}]}
    with pytest.raises(ScenarioError) as info:
        scenario.from_dict(data, "s.toml", _real_kind)
    assert str(info.value) == "s.toml: agents[0].limit_rate: missing required key; expected a number >= 0.0 and <= 1e+09"


def test_shipped_scenarios_load_through_the_registry():
    """With the kinds installed as entry points, ``load`` needs no resolver at all."""
    kinds = registry.names(scenario.AGENT_GROUP)
    for name in kinds:
        registry.load(scenario.AGENT_GROUP, name)
    for path in _shipped():
        kinds_used = {t["kind"] for t in tomllib.loads(path.read_text())["agents"]}
        assert kinds_used <= set(kinds), f"{path.name}: kinds not registered: {kinds_used - set(kinds)}"
        assert scenario.load(path).source == str(path)
