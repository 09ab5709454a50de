"""What a validated scenario will cost the engines, checked against the bounds of
:mod:`lobsim.scenario.config` before anything runs.

:mod:`lobsim.scenario` checks each value on its own (its type, ``min``/``max``, and the
bounds its ``unit`` implies). What depends on several values is checked here, once the
whole scenario is built:

* prices in price units (fields with ``unit = "price"``, at any depth of an agent's
  parameters) against the market's tick size: at most ``MAX_TICKS`` ticks, and a
  positive price may not round to 0 ticks;
* each kind's own market-dependent limits (``Params.check_market(market)``, optional);
* the messages a run is expected to send, ``sum(count x Params.expected_messages(
  duration_s, market))`` (optional; a kind that only reacts to others, such as a
  maker requoting on market data, does not count) against ``MAX_MESSAGES``;
* the rows of the snapshot tables against ``MAX_SNAPSHOT_ROWS``.

Each problem is one :class:`OutOfRange` naming the key path; the loader adds the file.
Every check is O(number of parameters), whatever the values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from lobsim.scenario.config import MAX_MESSAGES, MAX_SNAPSHOT_ROWS, MAX_TICKS, MarketConfig, Scenario


class OutOfRange(Exception):
    """One scale failure at key ``path`` (``agents[0].window``); one line."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(path, message)
        self.path, self.message = path, message


def check(scenario: Scenario) -> None:
    """Raise :class:`OutOfRange` for the first bound ``scenario`` exceeds (module docstring)."""
    market, duration = scenario.market, scenario.simulation.duration
    messages = 0.0
    for i, agent in enumerate(scenario.agents):
        path = f"agents[{i}]"
        for sub, value in price_fields(agent.params, path):
            check_price(value, market, sub)
        _kind_limits(agent.params, market, path)
        expected = agent.count * _expected_messages(agent.params, duration, market)
        messages += expected
        if not messages <= MAX_MESSAGES:
            raise OutOfRange(path, f"expected at most {MAX_MESSAGES:,} messages in the whole "
                                   f"run (simulation.duration x rates), got about {messages:.3g}"
                                   f" (this agent: {expected:.3g}); lower its rates or the duration")
    _check_snapshots(scenario, sum(agent.count for agent in scenario.agents))


def check_price(value: float, market: MarketConfig, path: str) -> int:
    """``value`` (price units) in ticks of ``market``, if within ``MAX_TICKS`` and not a
    positive price that rounds to 0 ticks; else :class:`OutOfRange`."""
    ticks = abs(value) / market.tick_size
    if not ticks <= MAX_TICKS:
        raise OutOfRange(path, f"expected at most {MAX_TICKS:,} ticks of {market.tick_size!r} "
                               f"(|value| <= {MAX_TICKS * market.tick_size:.6g}), got {value!r}")
    if value != 0 and round(ticks) == 0:
        raise OutOfRange(path, f"expected at least half a tick ({market.tick_size / 2!r}), "
                               f"got {value!r}, which rounds to 0 ticks")
    return round(ticks)


def price_fields(obj: Any, path: str) -> Iterator[tuple[str, float]]:
    """(key path, value) of every field marked ``unit = "price"`` in dataclass ``obj``,
    through nested dataclasses and tuples of them; None values are skipped."""
    if not (dataclasses.is_dataclass(obj) and not isinstance(obj, type)):
        return
    for f in dataclasses.fields(obj):
        value, sub = getattr(obj, f.name), f"{path}.{f.name}"
        if f.metadata.get("unit") == "price" and isinstance(value, (int, float)):
            yield sub, value
        elif isinstance(value, (tuple, list)):
            for j, item in enumerate(value):
                yield from price_fields(item, f"{sub}[{j}]")
        else:
            yield from price_fields(value, sub)


def _kind_limits(params: Any, market: MarketConfig, path: str) -> None:
    """The kind's own ``check_market``; its ValueError("KEY: message") names a parameter."""
    check_market = getattr(params, "check_market", None)
    if check_market is None:
        return
    try:
        check_market(market)
    except ValueError as exc:
        key, message = split_key(str(exc), [f.name for f in dataclasses.fields(params)])
        raise OutOfRange(f"{path}.{key}" if key else path, message) from None


def split_key(text: str, keys: Iterable[str]) -> tuple[str | None, str]:
    """``(KEY, why)`` of a ``"KEY: why"`` message whose KEY is one of ``keys`` (a kind's
    cross-field checks name the parameter that way); ``(None, text)`` otherwise."""
    key, sep, message = text.partition(": ")
    return (key, message) if sep and key in set(keys) else (None, text)


def _expected_messages(params: Any, duration: float, market: MarketConfig) -> float:
    """Messages one instance is expected to send in ``duration`` seconds (0 if unknown)."""
    expected = getattr(params, "expected_messages", None)
    return float(expected(duration, market)) if expected is not None else 0.0


def _check_snapshots(scenario: Scenario, instances: int) -> None:
    """book.parquet + agents.parquet rows: one snapshot per interval (and one at the end),
    each with up to 2 x depth_levels book rows and one row per agent."""
    simulation = scenario.simulation
    snapshots = simulation.duration / simulation.snapshot_interval + 2
    rows = snapshots * (2 * scenario.market.depth_levels + instances)
    if not rows <= MAX_SNAPSHOT_ROWS:
        raise OutOfRange("simulation.snapshot_interval",
                         f"expected at most {MAX_SNAPSHOT_ROWS:,} snapshot rows (duration / "
                         f"snapshot_interval x (2 x market.depth_levels + agents)), got about "
                         f"{rows:.3g}; raise the interval")
