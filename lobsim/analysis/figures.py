"""The figures of ``lobsim report``: one function per figure, each returning a matplotlib
``Figure`` built on an Agg canvas (no pyplot state, safe in worker processes).

Inputs are :class:`lobsim.data.rundata.RunData` and :class:`lobsim.analysis.report.FactSeries`: prices in
ticks, times in ns, converted to seconds and price units only here, at the edge.
matplotlib is an optional extra (``lobsim[plots]``), imported only when a figure is made.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from lobsim.analysis import metrics
from lobsim.errors import MissingExtraError
from lobsim.units import NS_PER_SECOND as NS

if TYPE_CHECKING:
    from lobsim.data.rundata import RunData
    from lobsim.analysis.report import FactSeries


def new_figure(rows: int = 1, cols: int = 1, size: tuple[float, float] = (9, 3.6)) -> tuple[Any, Any]:
    """A ``Figure`` on its own Agg canvas and its ``rows x cols`` axes as a flat array; size in
    inches. Raises :class:`MissingExtraError` when matplotlib is not installed."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingExtraError("matplotlib is needed for plots: pip install lobsim[plots]") from None
    fig = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(rows, cols, squeeze=False).ravel()


def _seconds(ns: np.ndarray) -> np.ndarray:
    return np.asarray(ns, dtype=np.float64) / NS


def fig_mid(d: RunData) -> Any:
    fig, (ax,) = new_figure()
    ax.step(_seconds(d.t), d.mid * d.tick_size, where="post", lw=0.8, color="k", label="mid")
    for sign, color, label in ((1, "tab:green", "buyer-initiated"), (-1, "tab:red", "seller-initiated")):
        pick = d.trade_sign == sign
        ax.scatter(_seconds(d.trade_t[pick]), d.trade_price[pick] * d.tick_size, s=6, color=color, label=label)
    ax.set(xlabel="time (s)", ylabel="price", title="Mid price and trades")
    ax.ticklabel_format(axis="y", useOffset=False)
    ax.legend(loc="best", fontsize=8)
    return fig


#: past this many book events, the spread and imbalance plots show time bins (their
#: time-weighted mean and range) instead of a line per event, which on a long run fills
#: the ~900 pixels of the axis as a solid block
TIME_BINS = 300


def time_binned(t_ns: np.ndarray, values: np.ndarray, end_ns: int,
                bins: int = TIME_BINS) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The step function ``values[i]`` on ``[t_ns[i], t_ns[i+1])`` (the last until
    ``end_ns``) over ``bins`` equal bins of [0, end_ns]: (bin centres in s, time-weighted
    mean, min, max per bin). NaN values (a side of the book empty) count as absent; a bin
    with no finite value is NaN. O(len(t_ns) + bins)."""
    t = np.asarray(t_ns, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    edges = np.linspace(0.0, max(float(end_ns), t[-1] + 1.0), bins + 1)
    dt = np.diff(np.append(t, edges[-1]))
    value_area = np.concatenate([[0.0], np.cumsum(np.where(ok, v, 0.0) * dt)])
    time_area = np.concatenate([[0.0], np.cumsum(ok * dt)])
    at = np.searchsorted(t, edges, side="right") - 1  # the event in force at each edge

    def integral(area: np.ndarray, rate: np.ndarray) -> np.ndarray:
        i = np.maximum(at, 0)
        return np.where(at >= 0, area[i] + rate[i] * (edges - t[i]), 0.0)

    num = np.diff(integral(value_area, np.where(ok, v, 0.0)))
    den = np.diff(integral(time_area, ok.astype(np.float64)))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    carried = np.where(at[:-1] >= 0, v[np.maximum(at[:-1], 0)], np.nan)  # in force as a bin opens
    first = np.searchsorted(t, edges[:-1], side="left")
    last = np.searchsorted(t, edges[1:], side="left")
    lo, hi = carried.copy(), carried.copy()
    for k in np.flatnonzero(last > first):  # bins with events of their own
        seen = np.append(v[first[k]:last[k]], carried[k])
        seen = seen[np.isfinite(seen)]
        if len(seen):
            lo[k], hi[k] = seen.min(), seen.max()
    return (edges[:-1] + edges[1:]) / 2 / NS, mean, lo, hi


def _over_time(ax: Any, d: RunData, values: np.ndarray, lw: float) -> None:
    """``values`` after each book event against time: a step line, or, past
    2 x TIME_BINS events, each bin's time-weighted mean and its range."""
    if len(d.t) <= 2 * TIME_BINS:
        ax.step(_seconds(d.t), values, where="post", lw=lw)
        return
    x, mean, lo, hi = time_binned(d.t, values, d.duration_ns)
    width = (x[1] - x[0]) if len(x) > 1 else d.duration_ns / NS
    with np.errstate(invalid="ignore"):
        ax.fill_between(x, lo, hi, color="tab:blue", alpha=0.25, lw=0, label="range in the bin")
    ax.plot(x, mean, lw=0.8, color="tab:blue", label=f"time-weighted mean per {width:.3g} s")
    ax.legend(fontsize=7, loc="best")


def fig_spread(d: RunData) -> Any:
    fig, (a, b) = new_figure(1, 2)
    spread = d.ask - d.bid
    _over_time(a, d, spread, 0.6)
    a.set(xlabel="time (s)", ylabel="spread (ticks)", title="Spread over time")
    ok = np.isfinite(spread)
    if ok.any():  # time-weighted distribution
        weights = np.diff(np.append(d.t, d.duration_ns))[ok].astype(np.float64)
        values = spread[ok]
        bins = np.arange(values.min() - 0.5, values.max() + 1.5)
        b.hist(values, bins=bins, weights=weights / max(weights.sum(), 1), color="tab:blue")
    b.set(xlabel="spread (ticks)", ylabel="fraction of time", title="Spread distribution")
    return fig


def fig_depth(d: RunData) -> Any:
    fig, (ax,) = new_figure(size=(9, 4.2))
    book = d.book
    if len(book.get("time_ns", ())):
        book = _thin_snapshots(book, DEPTH_COLUMNS)
        times = np.unique(book["time_ns"])
        lo, hi = int(book["price"].min()), int(book["price"].max())
        grid = np.zeros((hi - lo + 1, len(times)))
        col = np.searchsorted(times, book["time_ns"])
        grid[book["price"] - lo, col] = book["qty"] * book["side"]  # bids > 0, asks < 0
        vmax = max(float(np.abs(grid).max()), 1.0)
        edges_t = np.append(_seconds(times), _seconds(times[-1:]) + (_seconds(times[1:2] - times[:1])
                                                                     if len(times) > 1 else 1.0))
        mesh = ax.pcolormesh(edges_t, (np.arange(lo, hi + 2) - 0.5) * d.tick_size, grid,
                             cmap="RdBu", vmin=-vmax, vmax=vmax, shading="flat")
        fig.colorbar(mesh, ax=ax, label="lots (bids > 0, asks < 0)")
    ax.set(xlabel="time (s)", ylabel="price", title="Depth of the book over time")
    ax.ticklabel_format(axis="y", useOffset=False)
    return fig


#: at most this many snapshots (columns) in the depth heatmap: the grid is price levels x
#: snapshots, so a long run would otherwise need gigabytes for a picture ~900 pixels wide
DEPTH_COLUMNS = 1000


def _thin_snapshots(book: dict[str, np.ndarray], columns: int) -> dict[str, np.ndarray]:
    """The rows of every k-th snapshot time, so that at most ``columns`` remain."""
    times = np.unique(book["time_ns"])
    if len(times) <= columns:
        return book
    keep = np.isin(book["time_ns"], times[:: -(-len(times) // columns)])
    return {name: values[keep] for name, values in book.items()}


def fig_imbalance(d: RunData) -> Any:
    fig, (ax,) = new_figure()
    _over_time(ax, d, metrics.queue_imbalance(d.bid_qty, d.ask_qty), 0.4)
    ax.set(xlabel="time (s)", ylabel="I", ylim=(-1.05, 1.05),
           title="Order-book imbalance at the best quotes, I = (q_bid - q_ask) / (q_bid + q_ask)")
    return fig


def fig_agents(d: RunData) -> Any:
    fig, (a, b) = new_figure(1, 2)
    names = d.agents.get("agent", np.zeros(0))
    for name in dict.fromkeys(names.tolist()):
        pick = names == name
        x = _seconds(d.agents["time_ns"][pick])
        a.plot(x, d.agents["inventory"][pick], lw=0.8, label=name)
        b.plot(x, d.agents["pnl2"][pick] * d.tick_size / 2, lw=0.8, label=name)
    a.set(xlabel="time (s)", ylabel="lots", title="Inventory")
    b.set(xlabel="time (s)", ylabel="price units", title="PnL (marked to mid)")
    if len(names):
        b.legend(fontsize=7, loc="best")
    return fig


def fig_learning(curve: dict[str, np.ndarray]) -> Any:
    """One panel per learning-curve column (raw, and a running mean over ~1/50 of the rows)."""
    names = [n for n in curve if n not in ("step", "episode") and np.isfinite(curve[n]).any()][:6]
    rows = max(1, math.ceil(len(names) / 2))
    fig, panels = new_figure(rows, 2, size=(9, 3.0 * rows))
    x = curve["step"]
    for name, ax in zip(names, panels):
        y = curve[name]
        k = max(1, len(y) // 50)
        ax.plot(x, y, lw=0.6, alpha=0.35)
        if len(y) >= k:
            ax.plot(x[k - 1:], np.convolve(np.nan_to_num(y), np.ones(k) / k, mode="valid"), lw=1.2,
                    label=f"running mean ({k})")
            ax.legend(fontsize=7)
        ax.set(xlabel="step", title=name)
    for ax in panels[len(names):]:
        ax.set_visible(False)
    fig.suptitle("Learning curves (learning_curve.csv)")
    return fig


def _acf_plot(ax: Any, x: np.ndarray, lags: int, title: str) -> None:
    k = np.arange(1, lags + 1)
    acf = metrics.autocorrelation(x, k)
    ax.bar(k, acf, color="tab:blue")
    if len(x):
        band = metrics.noise_band(len(x))
        ax.axhspan(-band, band, color="0.85", zorder=0, label="+-3/sqrt(n)")
        ax.legend(fontsize=8)
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="lag", ylabel="autocorrelation", title=title)


def fig_facts(d: RunData, f: FactSeries) -> dict[str, Any]:
    """One figure per stylized fact, keyed by file stem."""
    figs: dict[str, Any] = {}
    fig, (ax,) = new_figure()
    grid = np.linspace(-5, 5, 201)
    ax.plot(grid, np.exp(-grid ** 2 / 2) / math.sqrt(2 * math.pi), "k--", lw=0.8, label="N(0,1)")
    for h, r in f.by_horizon.items():
        if len(r) >= metrics.MIN_RETURNS and r.std() > 0:
            ax.hist((r - r.mean()) / r.std(), bins=41, range=(-5, 5), density=True, histtype="step",
                    label=f"{metrics.horizon_label(h)} (kurt {metrics.excess_kurtosis(r):.2g})")
    ax.set(yscale="log", ylim=(1e-4, 1), xlabel="standardized return", ylabel="density",
           title="Heavy tails: return distributions")
    ax.legend(fontsize=8)
    figs["fact_heavy_tails"] = fig
    fig, (ax,) = new_figure()
    _acf_plot(ax, f.returns, 20, f"Autocorrelation of {metrics.horizon_label(f.interval_s)} returns")
    figs["fact_return_acf"] = fig
    fig, (ax,) = new_figure()
    _acf_plot(ax, np.abs(f.returns), 20, f"Volatility clustering: autocorrelation of |{metrics.horizon_label(f.interval_s)} returns|")
    figs["fact_volatility_clustering"] = fig
    fig, (ax,) = new_figure()
    ax.plot(f.scales, [f.kurtosis[s] for s in f.scales], "o-")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xscale="log", xlim=(min(f.scales) / 1.5, max(f.scales) * 1.5), xlabel="horizon (s)",
           ylabel="excess kurtosis", title="Aggregational gaussianity")
    figs["fact_aggregational_gaussianity"] = fig
    fig, (ax,) = new_figure()
    ax.plot(f.scales, f.signature, "o-")
    ax.set(xscale="log", xlim=(min(f.scales) / 1.5, max(f.scales) * 1.5), xlabel="sampling interval (s)",
           ylabel="realized variance per second",
           title="Volatility signature plot")
    figs["fact_volatility_signature"] = fig
    fig, (ax,) = new_figure()
    lags = np.unique(np.geomspace(1, 100, 25).astype(int))
    acf = metrics.autocorrelation(d.trade_sign, lags)
    ax.plot(lags, acf, "o-")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xscale="log", xlim=(0.8, 125), xlabel="lag (trades)", ylabel="C(lag)",
           title="Autocorrelation of trade signs")
    figs["fact_trade_signs"] = fig
    fig, (ax,) = new_figure()
    sizes, means, _ = metrics.price_impact(d.trade_size, d.trade_sign, d.impact_before, d.impact_after)
    ax.plot(sizes, means, "o-")
    ax.set(xlabel="market order size (lots)", ylabel="mean mid move in its direction (ticks)",
           title="Average price impact of market orders")
    figs["fact_price_impact"] = fig
    fig, (ax,) = new_figure()
    binned = metrics.imbalance_next_move(metrics.queue_imbalance(d.bid_qty, d.ask_qty), metrics.next_move(d.mid))
    ax.plot(binned.centres, binned.means, "o-")
    ax.axhline(0.5, color="k", lw=0.5)
    ax.set(xlabel="queue imbalance I", ylabel="P(next mid move up)", ylim=(0, 1),
           title="Queue imbalance and the next mid move")
    figs["fact_queue_imbalance"] = fig
    return figs



CAPTIONS = {
    "mid_price": "Mid price (price units) with every trade, coloured by the side that initiated it.",
    "spread": "Spread between the best quotes (ticks) over time (on long runs: per time bin, its "
              "time-weighted mean and range), and its time-weighted distribution.",
    "depth_heatmap": "Lots resting at each price at each book snapshot (bids blue, asks red).",
    "imbalance": "Queue imbalance at the best quotes after every book event (on long runs: per "
                 "time bin, its time-weighted mean and range).",
    "agents": "Each agent's inventory (lots) and PnL marked to the mid (price units).",
    "learning_curve": "Learning curves from lobsim train (learning_curve.csv).",
}


def figures(data: RunData, facts: FactSeries) -> dict[str, Any]:
    """Every figure of the report, keyed by file stem, in page order."""
    figs = {"mid_price": fig_mid(data), "spread": fig_spread(data), "depth_heatmap": fig_depth(data),
            "imbalance": fig_imbalance(data), "agents": fig_agents(data)}
    if data.learning is not None:
        figs["learning_curve"] = fig_learning(data.learning)
    figs.update(fig_facts(data, facts))
    return figs
