"""The order-flow statistics that issue 16's targets name, from a :class:`Flow`.

Real files and simulated runs go through one path: a run is exported to LOBSTER files
(:func:`lobsim.data.lobster.export_run`), read back and turned into a :class:`Flow` like a real
file (:func:`run_flow`). Each statistic is a :class:`Stat`: its value and the number of
samples behind it; with fewer than :data:`MIN_SAMPLES` it has no value and says
``too short (n=...)``. Units: ticks, lots, seconds.

* ``mean_spread_ticks``: time-weighted over the span, two-sided books only;
* ``limit_size_mean``/``limit_size_cv``, ``market_size_mean`` (market orders: executions
  at one time against one side, grouped);
* ``interarrival_cv``: of the gaps between consecutive messages (every row);
* ``sign_acf_1``/``sign_acf_10``: autocorrelation of market-order signs;
* ``kurtosis_1s``, ``acf1_1s``: excess kurtosis and lag-1 autocorrelation of 1 s mid
  changes; ``abs_acf_1s``: the mean autocorrelation of their absolute values over lags
  1-10, with ``abs_acf_band`` = 2/sqrt(n);
* ``cancels_per_market_at_best``: cancels and deletes at the best quote per market order;
* ``ofi_r2_10s``: R^2 of 10 s mid changes on the order-flow imbalance of the best quotes
  over the same 10 s (Cont, Kukanov & Stoikov 2014).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lobsim.analysis.flow import Flow, order_flow
from lobsim.analysis.metrics import autocorrelation, excess_kurtosis, sample_last
from lobsim.data.tape import DELETE, NEW, PARTIAL_CANCEL

#: fewest samples for a statistic to have a value
MIN_SAMPLES = 20
#: seconds: the order-flow-imbalance horizon
OFI_WINDOW_S = 10.0


@dataclass(frozen=True)
class Stat:
    """A statistic's value (nan when too short) and its sample count."""

    value: float
    n: int

    def show(self, digits: int = 3) -> str:
        if self.n < MIN_SAMPLES or not math.isfinite(self.value):
            return f"too short (n={self.n})"
        return f"{self.value:.{digits}g}"


def _stat(value: float, n: int) -> Stat:
    return Stat(float(value) if n >= MIN_SAMPLES else math.nan, int(n))


def mean_spread(flow: Flow) -> Stat:
    """Time-weighted mean spread in ticks while the book is two-sided."""
    spread, gaps = (flow.ask - flow.bid)[:-1], np.diff(flow.times)
    ok = np.isfinite(spread)
    weight = gaps[ok].sum()
    return _stat(float((spread[ok] * gaps[ok]).sum() / weight) if weight > 0 else math.nan,
                 int(ok.sum()))


def order_flow_imbalance(flow: Flow) -> np.ndarray:
    """Cont-Kukanov-Stoikov OFI contribution of each message (lots; 0 for the first)."""
    b, a, qb, qa = flow.bid, flow.ask, flow.bid_size, flow.ask_size
    e = np.zeros(len(b))
    with np.errstate(invalid="ignore"):
        e[1:] = (qb[1:] * (b[1:] >= b[:-1]) - qb[:-1] * (b[1:] <= b[:-1])
                 - qa[1:] * (a[1:] <= a[:-1]) + qa[:-1] * (a[1:] >= a[:-1]))
    return np.nan_to_num(e)


def ofi_r2(flow: Flow, window_s: float = OFI_WINDOW_S) -> Stat:
    """R^2 of mid changes (ticks) on summed OFI over consecutive ``window_s`` windows."""
    edges = np.arange(flow.times[0], flow.times[-1] + 1e-9, window_s)
    if len(edges) < 3:
        return _stat(math.nan, max(len(edges) - 1, 0))
    which = np.searchsorted(edges, flow.times, side="right") - 1
    keep = which < len(edges) - 1
    ofi = np.bincount(which[keep], weights=order_flow_imbalance(flow)[keep],
                      minlength=len(edges) - 1)
    mid = sample_last(flow.times, (flow.bid + flow.ask) / 2, edges)
    moves = np.diff(mid)
    ok = np.isfinite(moves)
    x, y = ofi[ok], moves[ok]
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return _stat(math.nan, len(x))
    return _stat(np.corrcoef(x, y)[0, 1] ** 2, len(x))


def _one_second(flow: Flow) -> dict[str, Stat]:
    changes = flow.mid_changes()
    n = len(changes)
    abs_acf = autocorrelation(np.abs(changes), range(1, 11))
    return {"kurtosis_1s": _stat(excess_kurtosis(changes), n),
            "acf1_1s": _stat(autocorrelation(changes, [1])[0], n),
            "abs_acf_1s": _stat(np.nanmean(abs_acf) if np.isfinite(abs_acf).any() else math.nan, n),
            "abs_acf_band": _stat(2 / math.sqrt(n) if n else math.nan, n)}


def statistics(flow: Flow) -> dict[str, Stat]:
    """Every statistic of the module docstring."""
    limits = flow.sizes[flow.types == NEW].astype(np.float64)
    _, signs, market_sizes, _ = flow.market_orders()
    gaps = np.diff(flow.times)
    sign_acf = autocorrelation(signs, [1, 10])
    cancels = np.isin(flow.types, (PARTIAL_CANCEL, DELETE)) & (flow.distance == 0)
    out = {
        "mean_spread_ticks": mean_spread(flow),
        "limit_size_mean": _stat(limits.mean() if len(limits) else math.nan, len(limits)),
        "limit_size_cv": _stat(limits.std() / limits.mean() if len(limits) else math.nan,
                               len(limits)),
        "market_size_mean": _stat(market_sizes.mean() if len(signs) else math.nan, len(signs)),
        "interarrival_cv": _stat(gaps.std() / gaps.mean() if gaps.mean() > 0 else math.nan,
                                 len(gaps)),
        "sign_acf_1": _stat(sign_acf[0], len(signs)),
        "sign_acf_10": _stat(sign_acf[1], len(signs)),
        "cancels_per_market_at_best": _stat(cancels.sum() / len(signs) if len(signs) else
                                            math.nan, len(signs)),
        "ofi_r2_10s": ofi_r2(flow),
    }
    out.update(_one_second(flow))
    return out


def run_flow(run_dir: Path, levels: int = 10) -> Flow:
    """A run's :class:`Flow`, through its LOBSTER export (written to a temporary folder)."""
    from lobsim.data import lobster

    with tempfile.TemporaryDirectory() as folder:
        messages_path, book_path, _ = lobster.export_run(Path(run_dir), Path(folder), levels)
        messages = lobster.read_messages(messages_path)
        orderbook = lobster.read_orderbook(book_path)
    return order_flow(messages, orderbook, source=str(run_dir))


def _ratio_within(sim: Stat, real: Stat, tolerance: float) -> bool | None:
    if not (math.isfinite(sim.value) and math.isfinite(real.value)) or real.value == 0:
        return None
    return abs(sim.value / real.value - 1.0) <= tolerance


def _at_least(sim: Stat, bound: float) -> bool | None:
    return sim.value >= bound if math.isfinite(sim.value) else None


def targets(real: dict[str, Stat], sim: dict[str, Stat]) -> dict[str, bool | None]:
    """Issue 16's targets for a simulated market against the real file it was calibrated
    from: met (True), missed (False) or not measurable (None: too short on either side)."""
    factor = None
    if math.isfinite(sim["cancels_per_market_at_best"].value) and \
            real["cancels_per_market_at_best"].value > 0:
        ratio = sim["cancels_per_market_at_best"].value / real["cancels_per_market_at_best"].value
        factor = 0.5 <= ratio <= 2.0
    band, abs_acf = sim["abs_acf_band"].value, sim["abs_acf_1s"].value
    r2, acf1 = sim["ofi_r2_10s"].value, sim["acf1_1s"].value
    return {
        "mean spread within 30%": _ratio_within(sim["mean_spread_ticks"], real["mean_spread_ticks"], 0.3),
        "limit size mean within 30%": _ratio_within(sim["limit_size_mean"], real["limit_size_mean"], 0.3),
        "market size mean within 30%": _ratio_within(sim["market_size_mean"], real["market_size_mean"], 0.3),
        "limit size CV within 40%": _ratio_within(sim["limit_size_cv"], real["limit_size_cv"], 0.4),
        "inter-arrival CV >= 2": _at_least(sim["interarrival_cv"], 2.0),
        "sign ACF lag 1 >= 0.3": _at_least(sim["sign_acf_1"], 0.3),
        "sign ACF lag 10 >= 0.05": _at_least(sim["sign_acf_10"], 0.05),
        "1 s excess kurtosis >= 5": _at_least(sim["kurtosis_1s"], 5.0),
        "abs 1 s ACF (lags 1-10) above 2/sqrt(n)": abs_acf > band if math.isfinite(abs_acf) else None,
        "lag-1 ACF of 1 s changes within +-0.1": abs(acf1) <= 0.1 if math.isfinite(acf1) else None,
        "cancels per market order at best within x2": factor,
        "OFI R^2 at 10 s in [0.3, 0.8]": 0.3 <= r2 <= 0.8 if math.isfinite(r2) else None,
    }
