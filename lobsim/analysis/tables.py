"""The summary tables of ``lobsim report`` (and the words ``lobsim run`` prints for its
learner seats): a run's or a training's figures with their units, floats rounded for
reading. The JSON files they come from keep every digit.

Prices are in price units (tick size x ticks), quantities in lots, times in seconds.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

Format = Callable[[Any], str]


def number(spec: str) -> Format:
    """A formatter: ``n/a`` for None or a non-number, ``spec`` (e.g. ``.4f``) otherwise."""
    def fmt(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            return "n/a" if value is None or value != value else str(value)
        return f"{value:{spec}}"
    return fmt


def text(value: Any) -> str:
    return "n/a" if value is None else str(value)


COUNT, PRICE, FINE = number(","), number(",.2f"), number(".4f")
#: (key path in summary.json, label with unit, format), in the order shown
RUN_ROWS: tuple[tuple[str, str, Format], ...] = (
    ("scenario", "scenario", text),
    ("seed", "seed", text),
    ("duration_s", "duration (s simulated)", number(",g")),
    ("messages", "messages", COUNT),
    ("trades", "trades", COUNT),
    ("volume", "volume (lots)", COUNT),
    ("market.mean_spread", "mean spread (price units)", FINE),
    ("market.mid_volatility", "mid volatility (price units / sqrt(s))", FINE),
    ("market.final_mid", "final mid (price units)", FINE),
    ("market.two_sided_fraction", "time with both sides quoted (%)",
     lambda v: number(".2f")(None if v is None else 100 * v)),
)
AGENT_COLUMNS: tuple[tuple[str, str, Format], ...] = (
    ("pnl", "PnL (price units)", PRICE),
    ("inventory", "inventory (lots)", COUNT),
    ("spread_capture", "spread capture (price units)", PRICE),
    ("fills", "fills", COUNT),
    ("volume", "volume (lots)", COUNT),
    ("fees", "fees (price units)", PRICE),
)
TRAIN_ROWS: tuple[tuple[str, str, Format], ...] = (
    ("algo", "algorithm", text),
    ("steps", "env steps trained (this session)", COUNT),
    ("total_steps", "env steps trained (in all)", COUNT),
    ("episodes", "episodes (in all)", COUNT),
    ("seconds", "wall time (s)", number(",.0f")),
    ("steps_per_second", "env steps per second", number(",.0f")),
    ("running_reward", "running reward (mean per seat and episode)", FINE),
    ("gradient_steps", "gradient steps", COUNT),
    ("validation.best_step", "policy saved: the network of env step", COUNT),
    ("validation.best_score", "its validation reward (mean per seat and episode)", FINE),
    ("interrupted", "interrupted", lambda v: "yes (resumable)" if v else "no"),
    ("out", "directory", text),
)


def lookup(data: dict[str, Any], path: str) -> Any:
    """``data["a"]["b"]`` for the key path ``"a.b"``; None where a key is missing."""
    for key in path.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


def learners_text(learners: dict[str, Any]) -> str:
    """``summary["learners"]`` in words: the seats and the policy that drove them."""
    seats = ", ".join(learners.get("seats", ()))
    if learners.get("policy") is None:
        return f"{seats} idle (no --policy)"
    return f"{seats} driven by the greedy {learners.get('algo')} policy of {learners['policy']}"


def _rows(summary: dict[str, Any], rows: tuple[tuple[str, str, Format], ...]) -> str:
    return "".join(f"<tr><td>{html.escape(label)}</td><td>{html.escape(fmt(lookup(summary, key)))}</td></tr>"
                   for key, label, fmt in rows if lookup(summary, key) is not None)


def run_table(summary: dict[str, Any]) -> str:
    """A run's figures, then who drove the learner seats (if any), then one row per agent."""
    head = _rows(summary, RUN_ROWS)
    if "learners" in summary:
        head += f"<tr><td>learner seats</td><td>{html.escape(learners_text(summary['learners']))}</td></tr>"
    columns = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in AGENT_COLUMNS)
    agents = "".join(
        f"<tr><td>{html.escape(name)}</td>"
        + "".join(f"<td>{html.escape(fmt(a.get(key)))}</td>" for key, _, fmt in AGENT_COLUMNS) + "</tr>"
        for name, a in summary.get("agents", {}).items())
    return (f"<table>{head}</table><h3>Agents</h3><table><tr><th>agent</th>{columns}</tr>"
            f"{agents}</table>")


def training_table(summary: dict[str, Any]) -> str:
    """A ``train_summary.json`` as a table, and its validations (step, score) if any."""
    table = f"<table>{_rows(summary, TRAIN_ROWS)}</table>"
    history = lookup(summary, "validation.history") or []
    if history:
        rows = "".join(f"<tr><td>{COUNT(v.get('step'))}</td><td>{FINE(v.get('score'))}</td></tr>"
                       for v in history if isinstance(v, dict))
        table += ("<h3>Validations</h3><table><tr><th>env step</th>"
                  f"<th>reward (mean per seat and episode)</th></tr>{rows}</table>")
    return table
