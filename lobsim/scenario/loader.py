"""Scenario files: TOML in, a validated frozen :class:`~lobsim.scenario.config.Scenario` out, and back.

A scenario file holds data only (it is read with :mod:`tomllib`; nothing in it is ever
executed). Every value is checked against the config dataclasses of :mod:`lobsim.scenario.config`
and, for each ``[[agents]]`` table, against its kind's ``Params`` dataclass, found by
introspecting dataclass fields, type hints and field ``metadata`` (``min``, ``max``,
``choices``, ``gt``, ``lt``, ``pattern``, ``unique``; ``path``: a file an agent reads,
which :func:`load` makes absolute from the scenario file's folder; ``unit``: "s", "ns",
"ticks", "lots", "rate" or "price", which adds the upper bounds of
:data:`lobsim.scenario.config.UNIT_BOUNDS`): :mod:`lobsim.scenario.schema` does that for
any dataclass, this module knows the scenario's tables. Every number has an upper bound;
what depends on several values (prices in ticks, expected messages) is checked by
:mod:`lobsim.scenario.scale` once the scenario is built.
Every problem is one :class:`~lobsim.errors.ScenarioError` of one line::

    FILE: KEY.PATH: what was expected, got what

:func:`to_toml` writes a scenario back with every default filled in, so that loading the
text again gives an equal scenario.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any, Literal

import tomli_w

from lobsim import registry
from lobsim.scenario import scale, schema
from lobsim.scenario.config import (MAX_AGENTS, MAX_DEPTH_LEVELS, MAX_RATE, MAX_SEED, MAX_TICK_SIZE,
                           MIN_TICK_SIZE, AgentConfig,
                           LatencyConfig, MarketConfig, Scenario, SimulationConfig)
from lobsim.errors import InputError, ScenarioError

AGENT_GROUP = "lobsim.agents"
JITTERS = ("none", "exponential", "uniform")

#: Constraints on lobsim's own config fields, in the same vocabulary as ``Params`` metadata.
RULES: dict[type, dict[str, dict[str, Any]]] = {
    SimulationConfig: {
        "duration": {"gt": 0, "unit": "s"},
        "seed": {"min": 0, "max": MAX_SEED},
        "snapshot_interval": {"gt": 0, "unit": "s"},
    },
    MarketConfig: {
        "symbol": {"pattern": r"\S+"},
        "tick_size": {"min": MIN_TICK_SIZE, "max": MAX_TICK_SIZE},
        "initial_price": {"gt": 0, "unit": "price"},
        "depth_levels": {"min": 1, "max": MAX_DEPTH_LEVELS},
        "maker_fee": {"unit": "ticks"},
        "taker_fee": {"unit": "ticks"},
        "max_messages_per_ms": {"min": 1, "max": 1 << 62},
    },
    LatencyConfig: {
        "inbound_ns": {"min": 0, "unit": "ns"},
        "outbound_ns": {"min": 0, "unit": "ns"},
        "jitter": {"choices": JITTERS},
        "jitter_ns": {"min": 0, "unit": "ns"},
    },
}


@dataclass(frozen=True)
class _AgentHead:
    """The keys of an ``[[agents]]`` table that are not parameters of its kind."""

    name: str = field(metadata={"pattern": r"[A-Za-z0-9_-]+"})
    kind: str
    count: int = field(default=1, metadata={"min": 1, "max": MAX_AGENTS})
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    feeds: tuple[Literal["trades", "l1", "l2"], ...] | None = field(
        default=None, metadata={"unique": True}
    )
    rate_limit: int = field(default=0, metadata={"min": 0, "max": int(MAX_RATE)})


_HEAD_KEYS = tuple(f.name for f in dataclasses.fields(_AgentHead))


# --------------------------------------------------------------------------- public API


def load(path: str | Path) -> Scenario:
    """Read, parse and validate the scenario file at ``path``."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ScenarioError(f"{source}: no such file") from None
    except OSError as exc:
        raise ScenarioError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{source}: invalid TOML: not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:  # also an integer past the digit limit, deep nesting
        reason = str(exc)[:200] or "nested too deep"
        raise ScenarioError(schema.one_line(f"{source}: invalid TOML: {reason}")) from None
    return _resolve_paths(from_dict(data, source), Path(path).parent)


def _resolve_paths(scenario: Scenario, folder: Path) -> Scenario:
    """Agent parameters marked ``metadata={"path": True}`` (files an agent reads) made
    absolute, relative to the scenario file's folder: a scenario and its data files move
    together, it runs the same from any working directory, and the resolved copy a run
    writes beside its results still finds them."""
    agents = []
    for agent in scenario.agents:
        params = agent.params
        if dataclasses.is_dataclass(params):
            changes = {f.name: str((folder / getattr(params, f.name)).resolve())
                       for f in dataclasses.fields(params)
                       if f.metadata.get("path") and isinstance(getattr(params, f.name), str)
                       and getattr(params, f.name)}  # "" is an optional file left out
            if changes:
                agent = dataclasses.replace(agent, params=dataclasses.replace(params, **changes))
        agents.append(agent)
    return dataclasses.replace(scenario, agents=tuple(agents))


def registry_kind(name: str) -> type:
    """The agent class registered as ``name``; LookupError listing the known kinds if none."""
    known = registry.names(AGENT_GROUP)
    if name not in known:
        raise LookupError("known: " + (", ".join(known) or "none installed") + "; "
                          + registry.HOW_TO_ADD_A_KIND)
    return registry.load(AGENT_GROUP, name)


def from_dict(
    data: Mapping[str, Any], source: str, resolve_kind: Callable[[str], type] | None = None
) -> Scenario:
    """Validate parsed TOML ``data`` (loaded from ``source``) into a :class:`Scenario`.

    ``resolve_kind`` maps a kind name to its agent class (default: the ``lobsim.agents``
    registry); for an unknown name it raises ``LookupError`` (or ``InputError``) whose
    message lists the known kinds.
    """
    resolve = resolve_kind or registry_kind
    try:
        return _scenario(data, source, resolve)
    except (schema.Invalid, scale.OutOfRange) as exc:
        where = f"{exc.path}: " if exc.path else ""
        raise ScenarioError(schema.one_line(f"{source}: {where}{exc.message}")) from None


def resolved_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario as plain TOML-ready data, every default and parameter written out."""
    return {
        "simulation": _plain(scenario.simulation),
        "market": _plain(scenario.market),
        "agents": [_agent_dict(agent) for agent in scenario.agents],
    }


def to_toml(scenario: Scenario) -> str:
    """The fully resolved scenario as TOML text that :func:`load` reads back to an equal one."""
    header = schema.one_line(f"# lobsim scenario, fully resolved from {scenario.source}")
    return header + "\n\n" + tomli_w.dumps(resolved_dict(scenario))


# ------------------------------------------------------------------------ the scenario


def _scenario(data: Any, source: str, resolve: Callable[[str], type]) -> Scenario:
    """Build the whole scenario; raises :class:`schema.Invalid` on the first problem."""
    if not isinstance(data, Mapping):
        raise schema.Invalid("", f"expected a table of settings, got {schema.show(data)}")
    schema.check_keys(data, ("simulation", "market", "agents"), "")
    if "simulation" not in data:
        raise schema.Invalid("simulation", "missing required key; expected a table ([simulation])")
    simulation = schema.build(SimulationConfig, data["simulation"], "simulation", rules=RULES)
    market = schema.build(MarketConfig, data.get("market", {}), "market", rules=RULES)
    _check_price_grid(market)
    agents = _agents(data.get("agents", MISSING), resolve)
    built = Scenario(simulation=simulation, market=market, agents=agents, source=source)
    scale.check(built)
    return built


def _check_price_grid(market: MarketConfig) -> None:
    """``initial_price`` must be a whole number of ticks (within 1e-9 relative), at most
    ``MAX_TICKS`` of them (checked first: ``round`` of a huge quotient overflows)."""
    ticks = scale.check_price(market.initial_price, market, "market.initial_price")
    if abs(market.initial_price / market.tick_size - ticks) > 1e-9 * max(1.0, ticks):
        raise schema.Invalid(
            "market.initial_price",
            f"expected a multiple of tick_size {market.tick_size!r}, got {market.initial_price!r}",
        )


def _agents(value: Any, resolve: Callable[[str], type]) -> tuple[AgentConfig, ...]:
    """All ``[[agents]]`` tables, with instance names unique after count expansion."""
    expected = "an array of tables ([[agents]])"
    if value is MISSING:
        raise schema.Invalid("agents", f"missing required key; expected {expected}")
    if not isinstance(value, list):
        raise schema.Invalid("agents", f"expected {expected}, got {schema.show(value)}")
    if not value:
        raise schema.Invalid("agents", "expected at least one [[agents]] table, got none")
    agents = tuple(_agent(table, f"agents[{i}]", resolve) for i, table in enumerate(value))
    instances = sum(agent.count for agent in agents)
    if instances > MAX_AGENTS:  # before the names below are built
        raise schema.Invalid("agents", f"expected at most {MAX_AGENTS:,} agents after count "
                                 f"expansion, got {instances:,}")
    owner: dict[str, int] = {}
    for i, agent in enumerate(agents):
        for name in agent.instance_names():
            if name in owner:
                raise schema.Invalid(
                    f"agents[{i}].name",
                    f"expected a unique name, got {schema.show(agent.name)} "
                    f"(agents[{owner[name]}] also creates {schema.show(name)})",
                )
            owner[name] = i
    return agents


def _agent(table: Any, path: str, resolve: Callable[[str], type]) -> AgentConfig:
    """One ``[[agents]]`` table: the head keys, then the rest as the kind's ``Params``."""
    if not isinstance(table, Mapping):
        raise schema.Invalid(path, f"expected a table, got {schema.show(table)}")
    head_table = {k: v for k, v in table.items() if k in _HEAD_KEYS}
    head = schema.build(_AgentHead, head_table, path, rules=RULES)
    params_cls = _params_class(head.kind, f"{path}.kind", resolve)
    param_table = {k: v for k, v in table.items() if k not in _HEAD_KEYS}
    params = schema.build(params_cls, param_table, path, also=_HEAD_KEYS, rules=RULES)
    return AgentConfig(params=params, **{key: getattr(head, key) for key in _HEAD_KEYS})


def _params_class(kind: str, path: str, resolve: Callable[[str], type]) -> type:
    """The ``Params`` dataclass of ``kind``, checked not to shadow the head keys."""
    try:
        kind_cls = resolve(kind)
    except (LookupError, InputError) as exc:
        detail = f" ({exc.args[0]})" if exc.args else ""
        raise schema.Invalid(path, f"expected a known agent kind, got {schema.show(kind)}{detail}") from None
    params_cls = getattr(kind_cls, "Params", None)
    if not (isinstance(params_cls, type) and dataclasses.is_dataclass(params_cls)):
        raise schema.Invalid(path, f"kind {schema.show(kind)} has no Params dataclass")
    clash = sorted(set(schema.init_fields(params_cls)) & set(_HEAD_KEYS))
    if clash:
        raise schema.Invalid(path, f"kind {schema.show(kind)} has parameters named like agent keys: {clash}")
    return params_cls


# ------------------------------------------------------------------------- writing


def _plain(obj: Any) -> Any:
    """Dataclasses as dicts, tuples as lists; ``None`` fields are left out (TOML has no null)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        values = ((name, getattr(obj, name)) for name in schema.init_fields(type(obj)))
        return {name: _plain(v) for name, v in values if v is not None}
    if isinstance(obj, (tuple, list)):
        return [_plain(v) for v in obj]
    return obj


def _agent_dict(agent: AgentConfig) -> dict[str, Any]:
    """One ``[[agents]]`` table: the head keys first, then the kind's parameters."""
    table: dict[str, Any] = {"name": agent.name, "kind": agent.kind, "count": agent.count}
    if agent.feeds is not None:
        table["feeds"] = list(agent.feeds)
    table["rate_limit"] = agent.rate_limit
    table.update(_plain(agent.params))
    table["latency"] = _plain(agent.latency)
    return table
