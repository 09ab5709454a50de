"""Figures of the real-against-simulated section of ``lobsim report --against``.

Each returns a matplotlib ``Figure`` on an Agg canvas (:func:`lobsim.analysis.figures.new_figure`):
every distribution of :mod:`lobsim.analysis.realism` overlaid for both sides (log axes for
the log-scaled ones), and the autocorrelations behind the facts (trade signs, 1 s returns,
|1 s returns|) side by side.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lobsim.analysis import metrics
from lobsim.analysis.realism import Comparison, DistanceRow
from lobsim.data.rundata import RunData
from lobsim.analysis.figures import new_figure

COLORS = {"real": "k", "simulated": "tab:orange"}
CAPTIONS = {
    "realism_distributions": "Each distribution on real data and in the run (fraction per bin; log axes "
                             "for times, sizes and depth), with its normalised Wasserstein-1 distance.",
    "realism_autocorrelation": "Autocorrelations on real data and in the run: trade signs (log-log, "
                               "positive values), 1 s mid returns and their absolute values.",
}


def _bins(row: DistanceRow) -> np.ndarray:
    both = np.concatenate([row.real, row.simulated])
    if row.spec.log:
        lo = max(float(both.min()), row.spec.floor)
        return np.geomspace(lo, max(float(both.max()), lo * 10), 41)
    lo, hi = math.floor(float(both.min())), math.ceil(float(both.max()))
    step = max(1, math.ceil((hi - lo + 1) / 60))  # whole ticks, at most ~60 bins
    return np.arange(lo - 0.5, hi + step + 0.5, step)


def _overlay(ax: Any, row: DistanceRow) -> None:
    shown = [(name, v) for name, v in (("real", row.real), ("simulated", row.simulated)) if len(v)]
    if shown:
        bins = _bins(row)
        for name, values in shown:
            values = np.maximum(values, row.spec.floor) if row.spec.log else values
            # fractions per bin, not densities: on log bins a density would inflate the narrow ones
            ax.hist(values, bins=bins, weights=np.full(len(values), 1 / len(values)), histtype="step",
                    color=COLORS[name], label=f"{name} (n={len(values)})")
        ax.legend(fontsize=6)
    if row.spec.log:
        ax.set_xscale("log")
    w1 = f"W1 {row.w1:.2g}" if np.isfinite(row.w1) else "too short"
    ax.set_title(f"{row.spec.name} ({w1})", fontsize=8)
    ax.set_xlabel(row.spec.unit, fontsize=7)
    ax.set_ylabel("fraction", fontsize=7)
    ax.tick_params(labelsize=6)


def fig_distributions(c: Comparison) -> Any:
    """One panel per distribution, both sides overlaid."""
    cols = 4
    rows = math.ceil(len(c.distances) / cols)
    fig, panels = new_figure(rows, cols, size=(11, 2.4 * rows))
    for row, ax in zip(c.distances, panels):
        _overlay(ax, row)
    for ax in panels[len(c.distances):]:
        ax.set_visible(False)
    fig.suptitle("Real against simulated: distributions")
    return fig


def fig_autocorrelation(real: RunData, simulated: RunData) -> Any:
    """Trade-sign autocorrelation (log-log), and that of 1 s returns and |returns|."""
    fig, (a, b, c) = new_figure(1, 3, size=(11, 3.4))
    lags = np.unique(np.geomspace(1, 100, 25).astype(int))
    short = np.arange(1, 21)
    for name, data in (("real", real), ("simulated", simulated)):
        color = COLORS[name]
        acf = metrics.autocorrelation(data.trade_sign, lags)
        keep = acf > 0
        a.plot(lags[keep], acf[keep], "o-", ms=3, color=color, label=name)
        r = metrics.horizon_returns(data.t, data.mid, 1.0, 0, data.duration_ns) if len(data.t) else np.zeros(0)
        b.plot(short, metrics.autocorrelation(r, short), "o-", ms=3, color=color, label=name)
        c.plot(short, metrics.autocorrelation(np.abs(r), short), "o-", ms=3, color=color, label=name)
    a.set(xscale="log", yscale="log", xlabel="lag (market orders)", ylabel="C(lag)", title="Trade signs")
    b.set(xlabel="lag (s)", ylabel="autocorrelation", title="1 s mid returns")
    c.set(xlabel="lag (s)", ylabel="autocorrelation", title="|1 s mid returns|")
    for ax in (a, b, c):
        ax.legend(fontsize=7)
    for ax in (b, c):
        ax.axhline(0, color="k", lw=0.5)
    return fig


def figures(c: Comparison, real: RunData, simulated: RunData) -> dict[str, Any]:
    """The section's figures, keyed by file stem."""
    return {"realism_distributions": fig_distributions(c),
            "realism_autocorrelation": fig_autocorrelation(real, simulated)}
