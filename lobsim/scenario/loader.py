"""Scenario files: TOML in, a validated frozen :class:`~lobsim.scenario.config.Scenario` out, and back.

A scenario file holds data only (it is read with :mod:`tomllib`; nothing in it is ever
executed). Every value is checked against the config dataclasses of :mod:`lobsim.scenario.config`
and, for each ``[[agents]]`` table, against its kind's ``Params`` dataclass, found by
introspecting dataclass fields, type hints and field ``metadata`` (``min``, ``max``,
``choices``; this module also understands ``gt``, ``lt``, ``pattern`` and ``unique``,
``path``: a file an agent reads, which :func:`load` makes absolute from the scenario
file's folder, and ``unit``: "s", "ns", "ticks", "lots", "rate" or "price", which adds
the upper bounds of :data:`lobsim.scenario.config.UNIT_BOUNDS`). Every number has an upper bound;
what depends on several values (prices in ticks, expected messages) is checked by
:mod:`lobsim.scenario.scale` once the scenario is built.
Every problem is one :class:`~lobsim.errors.ScenarioError` of one line::

    FILE: KEY.PATH: what was expected, got what

:func:`to_toml` writes a scenario back with every default filled in, so that loading the
text again gives an equal scenario.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any, Literal

import tomli_w

from lobsim import registry
from lobsim.scenario import scale
from lobsim.scenario.config import (MAX_AGENTS, MAX_DEPTH_LEVELS, MAX_RATE, MAX_SEED, MAX_TICK_SIZE,
                           MIN_SECONDS, MIN_TICK_SIZE, UNIT_BOUNDS, AgentConfig,
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


class _Invalid(Exception):
    """One validation failure at ``path``; :func:`from_dict` adds the file name."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(path, message)
        self.path, self.message = path, message


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
        raise ScenarioError(_one_line(f"{source}: invalid TOML: {reason}")) from None
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
    except (_Invalid, scale.OutOfRange) as exc:
        where = f"{exc.path}: " if exc.path else ""
        raise ScenarioError(_one_line(f"{source}: {where}{exc.message}")) from None


def resolved_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario as plain TOML-ready data, every default and parameter written out."""
    return {
        "simulation": _plain(scenario.simulation),
        "market": _plain(scenario.market),
        "agents": [_agent_dict(agent) for agent in scenario.agents],
    }


def to_toml(scenario: Scenario) -> str:
    """The fully resolved scenario as TOML text that :func:`load` reads back to an equal one."""
    header = _one_line(f"# lobsim scenario, fully resolved from {scenario.source}")
    return header + "\n\n" + tomli_w.dumps(resolved_dict(scenario))


# ------------------------------------------------------------------------ the scenario


def _scenario(data: Any, source: str, resolve: Callable[[str], type]) -> Scenario:
    """Build the whole scenario; raises :class:`_Invalid` on the first problem."""
    if not isinstance(data, Mapping):
        raise _Invalid("", f"expected a table of settings, got {_show(data)}")
    _check_keys(data, ("simulation", "market", "agents"), "")
    if "simulation" not in data:
        raise _Invalid("simulation", "missing required key; expected a table ([simulation])")
    simulation = _build(SimulationConfig, data["simulation"], "simulation")
    market = _build(MarketConfig, data.get("market", {}), "market")
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
        raise _Invalid(
            "market.initial_price",
            f"expected a multiple of tick_size {market.tick_size!r}, got {market.initial_price!r}",
        )


def _agents(value: Any, resolve: Callable[[str], type]) -> tuple[AgentConfig, ...]:
    """All ``[[agents]]`` tables, with instance names unique after count expansion."""
    expected = "an array of tables ([[agents]])"
    if value is MISSING:
        raise _Invalid("agents", f"missing required key; expected {expected}")
    if not isinstance(value, list):
        raise _Invalid("agents", f"expected {expected}, got {_show(value)}")
    if not value:
        raise _Invalid("agents", "expected at least one [[agents]] table, got none")
    agents = tuple(_agent(table, f"agents[{i}]", resolve) for i, table in enumerate(value))
    instances = sum(agent.count for agent in agents)
    if instances > MAX_AGENTS:  # before the names below are built
        raise _Invalid("agents", f"expected at most {MAX_AGENTS:,} agents after count "
                                 f"expansion, got {instances:,}")
    owner: dict[str, int] = {}
    for i, agent in enumerate(agents):
        for name in agent.instance_names():
            if name in owner:
                raise _Invalid(
                    f"agents[{i}].name",
                    f"expected a unique name, got {_show(agent.name)} "
                    f"(agents[{owner[name]}] also creates {_show(name)})",
                )
            owner[name] = i
    return agents


def _agent(table: Any, path: str, resolve: Callable[[str], type]) -> AgentConfig:
    """One ``[[agents]]`` table: the head keys, then the rest as the kind's ``Params``."""
    if not isinstance(table, Mapping):
        raise _Invalid(path, f"expected a table, got {_show(table)}")
    head_table = {k: v for k, v in table.items() if k in _HEAD_KEYS}
    head = _build(_AgentHead, head_table, path)
    params_cls = _params_class(head.kind, f"{path}.kind", resolve)
    param_table = {k: v for k, v in table.items() if k not in _HEAD_KEYS}
    params = _build(params_cls, param_table, path, also=_HEAD_KEYS)
    return AgentConfig(params=params, **{key: getattr(head, key) for key in _HEAD_KEYS})


def _params_class(kind: str, path: str, resolve: Callable[[str], type]) -> type:
    """The ``Params`` dataclass of ``kind``, checked not to shadow the head keys."""
    try:
        kind_cls = resolve(kind)
    except (LookupError, InputError) as exc:
        detail = f" ({exc.args[0]})" if exc.args else ""
        raise _Invalid(path, f"expected a known agent kind, got {_show(kind)}{detail}") from None
    params_cls = getattr(kind_cls, "Params", None)
    if not (isinstance(params_cls, type) and dataclasses.is_dataclass(params_cls)):
        raise _Invalid(path, f"kind {_show(kind)} has no Params dataclass")
    clash = sorted(set(_init_fields(params_cls)) & set(_HEAD_KEYS))
    if clash:
        raise _Invalid(path, f"kind {_show(kind)} has parameters named like agent keys: {clash}")
    return params_cls


# ------------------------------------------------------------- generic dataclass building


def _init_fields(cls: type) -> dict[str, dataclasses.Field]:
    """The fields of dataclass ``cls`` that its constructor takes."""
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


def _build(cls: type, table: Any, path: str, also: tuple[str, ...] = ()) -> Any:
    """An instance of dataclass ``cls`` from a TOML table; ``also``: other keys allowed beside it."""
    if not isinstance(table, Mapping):
        raise _Invalid(path, f"expected a table, got {_show(table)}")
    fields = _init_fields(cls)
    _check_keys(table, tuple(fields), path, also)
    hints = typing.get_type_hints(cls)
    rules = RULES.get(cls, {})
    kwargs = {}
    for name, f in fields.items():
        meta = _with_unit({**f.metadata, **rules.get(name, {})})
        sub = _join(path, name)
        if name in table:
            kwargs[name] = _convert(table[name], hints[name], sub, meta)
        elif f.default is MISSING and f.default_factory is MISSING:
            raise _Invalid(sub, f"missing required key; expected {_describe(hints[name], meta)}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:  # a __post_init__ cross-field check
        key, message = scale.split_key(str(exc), fields)  # "KEY: why" names one of its fields
        raise _Invalid(_join(path, key) if key else path, message) from None


def _with_unit(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    """``meta`` with the bounds its ``unit`` implies (:data:`lobsim.scenario.config.UNIT_BOUNDS`),
    keeping the stricter of each; a time that must be > 0 must be at least 1 ns, since a
    smaller one rounds to 0 ns."""
    unit = meta.get("unit")
    if unit is None:
        return meta
    if unit not in UNIT_BOUNDS:
        raise TypeError(f"unknown unit {unit!r} in field metadata")
    merged = dict(meta)
    for key, bound in UNIT_BOUNDS[unit].items():
        pick = max if key == "min" else min
        merged[key] = bound if merged.get(key) is None else pick(merged[key], bound)
    if unit == "s" and merged.get("gt") == 0:
        merged["gt"], merged["min"] = None, max(merged.get("min") or 0, MIN_SECONDS)
    return merged


def _check_keys(
    table: Mapping, known: tuple[str, ...], path: str, also: tuple[str, ...] = ()
) -> None:
    """Reject the first key of ``table`` that is neither in ``known`` nor in ``also``."""
    allowed = (*also, *known)
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            listing = ", ".join(sorted(allowed)) or "none"
            raise _Invalid(_join(path, key), f"unknown key{hint}; expected one of: {listing}")


def _convert(value: Any, hint: Any, path: str, meta: Mapping[str, Any]) -> Any:
    """``value`` checked against type ``hint`` and constraints ``meta``, converted to it."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType) and type(None) in args and len(args) == 2:
        return _convert(value, _not_none(hint), path, meta)  # TOML has no null: X | None is X
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, path)
    if origin in (tuple, list) or hint in (tuple, list):
        return _convert_sequence(value, hint, path, meta)
    if origin is Literal:
        return _check(value, _among(value, args), hint, path, meta)
    if hint in (bool, int, float, str):
        return _convert_scalar(value, hint, path, meta)
    raise TypeError(f"{path}: unsupported parameter type {hint!r}")


def _not_none(hint: Any) -> Any:
    """``X`` of ``X | None``."""
    return next(a for a in typing.get_args(hint) if a is not type(None))


def _convert_sequence(value: Any, hint: Any, path: str, meta: Mapping[str, Any]) -> Any:
    """An array into ``tuple[X, ...]``, ``tuple[X, Y]`` or ``list[X]``; ``meta`` applies per item."""
    if not isinstance(value, list):
        raise _Invalid(path, f"expected {_describe(hint, meta)}, got {_show(value)}")
    origin, args = typing.get_origin(hint) or hint, typing.get_args(hint)
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        if len(value) != len(args):
            items = f"{len(value)} item" + "s" * (len(value) != 1)
            raise _Invalid(path, f"expected {_describe(hint, meta)}, got {items}")
        item_hints = list(args)
    else:
        item_hints = [args[0] if args else Any] * len(value)
    item_meta = {k: v for k, v in meta.items() if k != "unique"}
    items = [
        _convert(item, h, f"{path}[{i}]", item_meta)
        for i, (item, h) in enumerate(zip(value, item_hints))
    ]
    if meta.get("unique"):
        for i, item in enumerate(items):
            if item in items[:i]:
                raise _Invalid(path, f"expected distinct items, got {_show(item)} twice")
    return tuple(items) if origin is tuple else items


def _convert_scalar(value: Any, hint: type, path: str, meta: Mapping[str, Any]) -> Any:
    """bool, int (never a bool or a float), float (an int is fine) or str, then ``meta``."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if hint is float and (is_int or isinstance(value, float)):
        if (is_int and abs(value) > 2**1000) or not math.isfinite(value):  # float(10**400) overflows
            raise _Invalid(path, f"expected a finite number, got {_show(value)}")
        return float(_check(value, True, hint, path, meta))
    ok = is_int if hint is int else isinstance(value, hint)
    return _check(value, ok, hint, path, meta)


def _check(value: Any, ok: bool, hint: Any, path: str, meta: Mapping[str, Any]) -> Any:
    """``value`` if ``ok`` and within ``meta``'s choices, bounds and pattern; else _Invalid."""
    if ok and "choices" in meta:
        ok = _among(value, meta["choices"])
    if ok and isinstance(value, (int, float)) and not isinstance(value, bool):
        ok = all(test(value, meta[k]) for k, test in _BOUNDS.items() if meta.get(k) is not None)
    if ok and isinstance(value, str) and meta.get("pattern"):
        ok = re.fullmatch(meta["pattern"], value) is not None
    if not ok:
        raise _Invalid(path, f"expected {_describe(hint, meta)}, got {_show(value)}")
    return value


def _among(value: Any, choices: Any) -> bool:
    """Whether ``value`` is one of ``choices``, never taking a bool for a number."""
    return any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in choices)


_BOUNDS: dict[str, Callable[[Any, Any], bool]] = {
    "min": lambda v, b: v >= b,
    "gt": lambda v, b: v > b,
    "max": lambda v, b: v <= b,
    "lt": lambda v, b: v < b,
}
_SIGNS = {"min": ">=", "gt": ">", "max": "<=", "lt": "<"}


# ------------------------------------------------------------------------- messages


def _describe(hint: Any, meta: Mapping[str, Any]) -> str:
    """What a value of type ``hint`` with constraints ``meta`` must be, in words."""
    origin, args = typing.get_origin(hint) or hint, typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _describe(_not_none(hint), meta)
    if origin in (tuple, list):
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return f"an array of {len(args)} items"
        item = _describe(args[0], meta) if args else "anything"
        return f"an array (each item {item})"
    if dataclasses.is_dataclass(hint):
        return "a table"
    if origin is Literal or "choices" in meta:
        choices = args if origin is Literal else meta["choices"]
        return "one of " + ", ".join(_show(c) for c in choices)
    base = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    text = base.get(hint, repr(hint))
    bounds = [f"{_SIGNS[k]} {_bound(meta[k])}" for k in _SIGNS if meta.get(k) is not None]
    if bounds and hint in (int, float):
        text += " " + " and ".join(bounds)
    if hint is str and meta.get("pattern"):
        text += f" matching {meta['pattern']}"
    return text


def _bound(value: float) -> str:
    """A bound as short text: ``1e+08`` rather than ``100000000.0``."""
    if isinstance(value, float) and value and not 1e-4 <= abs(value) < 1e6:
        return f"{value:g}"
    return f"{value:,}" if isinstance(value, int) and abs(value) >= 10**6 else repr(value)


def _show(value: Any) -> str:
    """``value`` as the user wrote it, in short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value).bit_length() > 200:  # repr may exceed the digit limit
        return f"an integer of about {int(abs(value).bit_length() * math.log10(2))} digits"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 200 else value[:200] + "...")
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    if hasattr(value, "isoformat"):
        return f"a date/time {value.isoformat()}"
    return type(value).__name__


def _join(path: str, key: Any) -> str:
    """``path.key``, quoting ``key`` when it is not a bare TOML key."""
    key = str(key)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
        key = json.dumps(key)
    return f"{path}.{key}" if path else key


def _one_line(text: str) -> str:
    """``text`` with line breaks folded, so every error is one line."""
    return " ".join(text.split("\n"))


# ------------------------------------------------------------------------- writing


def _plain(obj: Any) -> Any:
    """Dataclasses as dicts, tuples as lists; ``None`` fields are left out (TOML has no null)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        values = ((name, getattr(obj, name)) for name in _init_fields(type(obj)))
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
