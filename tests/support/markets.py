"""Small markets built from the scripted kinds, and the check that both engines give one of
them the same results: shared by the engine-equivalence, edge-case and output tests."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from lobsim.errors import LobsimError
from lobsim.scenario.loader import from_dict
from lobsim.sim.market import Market
from lobsim.sim.recorder import EventColumns

SIMULATION = {"duration": 2.0, "seed": 3, "snapshot_interval": 0.25}
MARKET = {"symbol": "XYZ", "tick_size": 0.01, "initial_price": 100.0, "depth_levels": 5}
LATENCY = {"inbound_ns": 50_000, "outbound_ns": 50_000, "jitter": "exponential", "jitter_ns": 10_000}
SLOW = {**LATENCY, "inbound_ns": 5_000_000, "outbound_ns": 5_000_000, "jitter_ns": 2_000_000}
SLOW_IN = {**SLOW, "outbound_ns": 1_000_000}


def santa_fe(name="zi", **params):
    return {"name": name, "kind": "santa_fe", "limit_rate": 400.0, "market_rate": 40.0,
            "cancel_rate": 0.5, "window": 0.2, "latency": LATENCY, **params}


def fixed_spread(name="mm_fixed", **params):
    return {"name": name, "kind": "fixed_spread", "half_spread": 1, "quote_size": 3,
            "requote_ticks": 1, "skew_per_lot": 0.2, "max_inventory": 20, "latency": LATENCY, **params}


def avellaneda_stoikov(name="mm_as", **params):
    return {"name": name, "kind": "avellaneda_stoikov", "gamma": 0.1, "sigma": 0.05, "kappa": 100.0,
            "horizon": 1.0, "quote_size": 2, "requote_interval": 0.01, "max_inventory": 10,
            "latency": LATENCY, **params}


def poisson(name="noise", **params):
    return {"name": name, "kind": "poisson", "order_rate": 100.0, "market_fraction": 0.2,
            "cancel_rate": 0.5, "mean_size": 2.0, "max_offset": 5, "latency": LATENCY, **params}


def scenario(*agents, market=None, **simulation):
    return from_dict({"simulation": {**SIMULATION, **simulation}, "market": {**MARKET, **(market or {})},
                      "agents": list(agents)}, "<test>")


def assert_engines_agree(sc, python=None):
    """Every engine gives ``sc`` the same results as the interpreted one (``python``: its
    run, if done): the compiled build of the same source, and the twins."""
    python = python or Market(sc, engine="python").run()
    for engine in ("compiled", "twins"):
        market = Market(sc, engine=engine)
        result = market.run()
        assert market.ran_on == engine
        assert isinstance(result.event_log, EventColumns)
        assert result.events == python.events, engine
        assert result.book_rows == python.book_rows, engine
        assert result.agent_rows == python.agent_rows, engine
        assert result.summary == python.summary, engine
    return python


def assert_engines_agree_or_stop_alike(sc):
    """Both engines give ``sc`` the same results, or stop it with the same error."""
    try:
        python = Market(sc, engine="python").run()
    except LobsimError as error:
        for engine in ("compiled", "twins"):
            with pytest.raises(type(error)) as stopped:
                Market(sc, engine=engine).run()
            assert str(stopped.value) == str(error), engine
        return None
    return assert_engines_agree(sc, python)


def forced(template, **values):
    """An instance of a frozen dataclass (``template``: the class, or an instance to copy)
    with ``values`` set as given, past its own ``__post_init__`` checks: what the engines
    must hold whatever the loader lets through. Fields not given keep their defaults."""
    if isinstance(template, type):
        obj = object.__new__(template)
        for f in dataclasses.fields(template):
            if f.default is not dataclasses.MISSING:
                object.__setattr__(obj, f.name, f.default)
            elif f.default_factory is not dataclasses.MISSING:
                object.__setattr__(obj, f.name, f.default_factory())
    else:
        obj = copy.copy(template)
    for name, value in values.items():
        object.__setattr__(obj, name, value)
    return obj


def unchecked(sc, market=None, **agents):
    """``sc`` with values set past the loader (the engines must hold whatever it lets
    through): ``market`` fields, and per agent name its params, ``latency`` a dict."""
    configs = []
    for config in sc.agents:
        changes = dict(agents.get(config.name, {}))
        latency = changes.pop("latency", {})
        configs.append(dataclasses.replace(
            config, params=forced(config.params, **changes),
            latency=forced(config.latency, **latency)))
    return dataclasses.replace(sc, agents=tuple(configs), market=forced(sc.market, **(market or {})))
