"""A calibrated scenario as commented TOML: each estimated value says how it was found.

:func:`scenario_text` writes the scenario data of a
:class:`~lobsim.analysis.calibration.Calibration`, then what could not be estimated, and
a commented-out ``value`` table carrying the file's volatility and jumps.
"""

from __future__ import annotations

from typing import Any

import tomli_w

from lobsim.analysis.estimates import Calibration


def _value(value: Any) -> str:
    """``value`` as TOML; a list inline, wrapped every ten items."""
    if not isinstance(value, list):
        return tomli_w.dumps({"v": value}).strip()[4:]
    items = [_value(v) for v in value]
    rows = [", ".join(items[i:i + 10]) for i in range(0, len(items), 10)]
    return "[" + ",\n    ".join(rows) + "]"


def _comment(cal: Calibration, key: str) -> str:
    estimate = cal.estimates.get(key)
    if estimate is None:
        why = cal.missing.get(key)
        return f"  # not estimated: {why}" if why else ""
    se = f" (se {estimate.se:.3g})" if estimate.se is not None else ""
    return f"  # {estimate.how}{se}"[:300]


def scenario_text(cal: Calibration) -> str:
    """The scenario as TOML, one comment per estimated value saying how it was found."""
    lines = [f"# Calibrated by `lobsim calibrate` from {cal.source}.",
             "# Units: seconds of simulated time, prices in price units, sizes in lots (shares).",
             "# Not estimated (left at the kind's default or not modelled):"]
    lines += [f"#   {k}: {why}" for k, why in cal.missing.items()] or ["#   nothing"]
    for section in ("simulation", "market"):
        lines += ["", f"[{section}]"]
        lines += [f"{k} = {_value(v)}{_comment(cal, k)}" for k, v in cal.scenario[section].items()]
    for table in cal.scenario["agents"]:
        lines += ["", "[[agents]]"]
        lines += [f"{k} = {_value(v)}{_comment(cal, k)}" for k, v in table.items()]
    return "\n".join(lines + _fundamental_lines(cal)) + "\n"


FUNDAMENTAL_KEYS = ("volatility", "vol_of_vol", "vol_reversion", "jump_rate", "jump_size")


def _fundamental_lines(cal: Calibration) -> list[str]:
    """A commented-out ``value`` table whose fundamental has the file's volatility, jumps
    and volatility clustering (what was estimated); its trading is not estimated."""
    found = [k for k in FUNDAMENTAL_KEYS if k in cal.estimates]
    if not found:
        return []
    lines = ["", "# A fundamental value with the file's volatility and jumps, followed by value",
             "# traders: uncomment to add (how often they trade, and on what edge, is not",
             "# estimated from the file).", "# [[agents]]", '# name = "value"', '# kind = "value"']
    lines += [f"# {k} = {_value(cal.estimates[k].value)}{_comment(cal, k)}" for k in found]
    return lines + ["# trade_rate = 0.5", "# edge = 2.0"]
