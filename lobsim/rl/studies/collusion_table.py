"""The collusion study's table, text, figure and output directory (from
:func:`lobsim.rl.studies.collusion.run_study`).

One row per cell (tick size, N makers, mode) and, per metric, the mean with its 95%
Student-t interval (:func:`lobsim.stats.mean_ci95`): over training seeds for learned
makers (each seed's figure is its mean over the held-out episodes), over the held-out
episodes for the competitive benchmark (nothing trained). Units: price units (spread,
takers' cost and markup per lot; makers' PnL per episode); ``maker_share`` a fraction.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from lobsim.rl.studies.collusion import COMPETITIVE, METRICS, MODES
from lobsim.stats import mean_ci95

#: the table's columns before the metrics
KEYS = ("tick_factor", "tick_size", "makers", "mode", "n", "interval_over")
#: how the text and the figure name each metric
LABELS = {"spread": "mean spread", "makers_pnl": "makers' PnL / episode",
          "takers_cost": "takers' cost / lot", "markup": "makers' markup / lot",
          "maker_share": "makers' share of volume"}


def per_run(run: dict, metric: str) -> list[float]:
    """A run's finite values of ``metric``: its evaluation episodes' (benchmark), or the
    mean over them (a trained policy: one value per training seed)."""
    values = [v for v in (e[metric] for e in run["episodes"]) if v is not None and math.isfinite(v)]
    if run["seed"] is None:
        return values
    return [float(np.mean(values))] if values else []


def table(study: dict) -> list[dict[str, Any]]:
    """One row per cell: :data:`KEYS`, then ``METRIC_mean``, ``METRIC_lo``, ``METRIC_hi``
    (None where there is no interval: fewer than two values)."""
    rows = []
    for cell in study["cells"]:
        runs = cell["runs"]
        benchmark = cell["cell"]["mode"] == COMPETITIVE
        row = {"tick_factor": cell["cell"]["tick_factor"], "tick_size": cell["tick_size"],
               "makers": cell["cell"]["makers"], "mode": cell["cell"]["mode"],
               "n": len(runs[0]["episodes"]) if benchmark else len(runs),
               "interval_over": "evaluation episodes" if benchmark else "training seeds"}
        for metric in METRICS:
            values = [v for run in runs for v in per_run(run, metric)]
            mean, half = mean_ci95(values)
            row[f"{metric}_mean"] = None if math.isnan(mean) else mean
            row[f"{metric}_lo"] = None if half is None else mean - half
            row[f"{metric}_hi"] = None if half is None else mean + half
        rows.append(row)
    return rows


def columns() -> list[str]:
    return [*KEYS, *(f"{m}_{s}" for m in METRICS for s in ("mean", "lo", "hi"))]


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """The table as CSV (:func:`columns`; empty cells where a value is None)."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns())
        writer.writeheader()
        writer.writerows(rows)


def format_table(rows: list[dict[str, Any]]) -> str:
    """The table as text: per cell, each metric's mean and 95% interval."""
    shown = ("spread", "makers_pnl", "takers_cost", "markup")
    head = f"{'tick':>6} {'N':>2} {'mode':<12}{'n':>3}" + "".join(f"{LABELS[m]:>28}" for m in shown)
    lines = [head]
    for row in rows:
        cells = "".join(f"{_interval(row, m):>28}" for m in shown)
        lines.append(f"{row['tick_size']:>6g} {row['makers']:>2} {row['mode']:<12}{row['n']:>3}{cells}")
    lines.append("95% t-intervals over training seeds (learned) or evaluation episodes (competitive); "
                 "price units")
    return "\n".join(lines)


def _interval(row: dict, metric: str) -> str:
    mean, lo, hi = row[f"{metric}_mean"], row[f"{metric}_lo"], row[f"{metric}_hi"]
    if mean is None:
        return "n/a"
    return f"{mean:.4f} [n/a]" if lo is None else f"{mean:.4f} [{lo:.4f}, {hi:.4f}]"


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """A row of panels per tick size (spread, makers' PnL, takers' cost against N), one
    line per mode, 95% intervals as error bars."""
    from lobsim.analysis.figures import new_figure

    shown = ("spread", "makers_pnl", "takers_cost")
    ticks = sorted({r["tick_size"] for r in rows})
    fig, panels = new_figure(len(ticks), len(shown), size=(4.2 * len(shown), 3.3 * len(ticks)))
    panels = np.asarray(panels).reshape(len(ticks), len(shown))
    for i, tick in enumerate(ticks):
        for j, metric in enumerate(shown):
            ax = panels[i, j]
            for k, mode in enumerate(MODES):
                mine = sorted((r for r in rows if r["tick_size"] == tick and r["mode"] == mode),
                              key=lambda r: r["makers"])
                if not mine:
                    continue
                xs = np.array([r["makers"] for r in mine], dtype=float) + (k - 1) * 0.06
                ys = np.array([_num(r[f"{metric}_mean"]) for r in mine])
                err = np.array([[_num(r[f"{metric}_mean"]) - _num(r[f"{metric}_lo"]) for r in mine],
                                [_num(r[f"{metric}_hi"]) - _num(r[f"{metric}_mean"]) for r in mine]])
                ax.errorbar(xs, ys, yerr=np.nan_to_num(err), fmt="o-" if mode != COMPETITIVE else "s--",
                            capsize=3, label=mode)
            ax.set(xlabel="makers N", title=f"{LABELS[metric]} (tick {tick:g})")
            ax.set_xticks(sorted({r["makers"] for r in rows}))
            ax.ticklabel_format(axis="y", useOffset=False)
            if i == 0 and j == 0:
                ax.legend(fontsize=7)
    fig.suptitle("learning makers against the competitive benchmark: means with 95% intervals",
                 fontsize=9)
    fig.savefig(path)


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def write_study(base: Any, options: Any, out: Path, progress: Any = None) -> list[dict[str, Any]]:
    """Run the study (:func:`~lobsim.rl.studies.collusion.run_study`) into a staged copy of
    ``out`` and install it whole when everything is written: ``collusion.csv`` (the
    table), ``collusion.png`` (the figure), ``runs.json`` (every episode's figures) and
    ``policies/``. On an error or Ctrl-C nothing is installed. Returns the table's rows."""
    from lobsim.analysis.figures import new_figure
    from lobsim.fileio import staged_directory
    from lobsim.rl.studies.collusion import run_study

    new_figure()  # no matplotlib: fail before training anything
    with staged_directory(out) as staging:
        rows = table(run_study(base, options, staging, progress))
        write_csv(rows, staging / "collusion.csv")
        plot(rows, staging / "collusion.png")
    return rows
